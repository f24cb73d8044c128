/**
 * Fetching the gateway's JWKS for jose (its `customFetch` hook): 200 only, no redirects (a redirect could
 * move key retrieval to another origin), bounded in size, and a failure backoff. jose retries a failed
 * fetch on the very next verification, so without the backoff a down JWKS endpoint would be asked once per
 * request; with it, at most once per backoff period (1 s, doubling to 30 s) however many requests arrive.
 * Mirrors the gateway's openid-connect key fetching (plugins/openid-connect/fetch-json.ts, key-set.ts).
 * Each good answer's Cache-Control lifetime is reported, so keys the gateway withdrew are dropped as soon
 * as the gateway says its document may have changed (keys.ts).
 */
import type { FetchImplementation } from 'jose'

/** Largest JWKS document read, in bytes; the gateway's is a few hundred bytes per key. */
export const MAX_JWKS_BYTES = 64 * 1024

/** First wait after a failed fetch, and the longest, in milliseconds. */
export const BACKOFF_FIRST_MS = 1000
export const BACKOFF_MAX_MS = 30_000

/** The JWKS could not be had; `message` is fixed text for logs, `retryAfter` is in seconds. */
export class KeysUnavailable extends Error {
  readonly retryAfter: number
  constructor(message: string, retryAfter: number, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'KeysUnavailable'
    this.retryAfter = retryAfter
  }
}

/** Waits after failures: 1 s, 2 s, 4 s … up to 30 s; a success resets it. Timestamps only, no timers. */
class Backoff {
  #failures = 0
  #retryAt = 0

  /** Milliseconds left to wait, 0 when a fetch may go out. */
  remaining(now: number): number {
    return Math.max(0, this.#retryAt - now)
  }

  failed(now: number): number {
    const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(this.#failures, 16))
    this.#failures++
    this.#retryAt = now + wait
    return wait
  }

  succeeded(): void {
    this.#failures = 0
    this.#retryAt = 0
  }
}

const toSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000))

/**
 * The lifetime a JWKS answer gives itself, in milliseconds (RFC 9111 §5.2.2: `max-age`; `no-store` and
 * `no-cache` mean none), or null when it says nothing.
 */
export function freshFor(cacheControl: string | null): number | null {
  if (cacheControl === null) return null
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((d) => d.trim())
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0
  for (const d of directives) {
    const m = /^max-age\s*=\s*"?(\d+)"?$/.exec(d)
    if (m !== null) return Number(m[1]) * 1000
  }
  return null
}

/**
 * A jose `customFetch` over `base` (the global fetch unless the options gave one); `fetched` hears the
 * lifetime (freshFor) of every good answer.
 */
export function createJwksFetch(
  base: typeof fetch | null,
  fetched: (lifetimeMs: number | null) => void = () => {},
): FetchImplementation {
  const backoff = new Backoff()
  return async (url, init) => {
    const waitMs = backoff.remaining(Date.now())
    if (waitMs > 0) throw new KeysUnavailable('the JWKS fetch failed recently', toSeconds(waitMs))
    try {
      const { jwks, cacheControl } = await fetchBounded(base ?? fetch, url, init.signal, init.headers)
      backoff.succeeded()
      fetched(freshFor(cacheControl))
      return Response.json(jwks)
    } catch (err) {
      const retryInMs = backoff.failed(Date.now())
      const message = err instanceof KeysUnavailable ? err.message : describe(err)
      throw new KeysUnavailable(message, toSeconds(retryInMs), { cause: err })
    }
  }
}

async function fetchBounded(
  fetchImpl: typeof fetch,
  url: string,
  signal: AbortSignal,
  headers: Headers,
): Promise<{ jwks: unknown; cacheControl: string | null }> {
  const response = await fetchImpl(url, { method: 'GET', redirect: 'manual', signal, headers })
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {})
    throw new KeysUnavailable(`the JWKS endpoint answered HTTP ${response.status}`, 0)
  }
  if (Number(response.headers.get('content-length') ?? 0) > MAX_JWKS_BYTES) {
    await response.body?.cancel().catch(() => {})
    throw new KeysUnavailable(`the JWKS is larger than ${MAX_JWKS_BYTES} bytes`, 0)
  }
  const reader = response.body?.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    if (reader === undefined) break
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_JWKS_BYTES) {
      await reader.cancel().catch(() => {})
      throw new KeysUnavailable(`the JWKS is larger than ${MAX_JWKS_BYTES} bytes`, 0)
    }
    chunks.push(value)
  }
  let jwks: unknown
  try {
    jwks = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks, size)))
  } catch {
    throw new KeysUnavailable('the JWKS is not UTF-8 JSON', 0)
  }
  if (!isJwkSet(jwks)) throw new KeysUnavailable('the JWKS is not a JWK set', 0)
  return { jwks, cacheControl: response.headers.get('cache-control') }
}

/** jose's own test (lib/validate.ts isJwkSet), made here so a bad document counts as a failed fetch. */
function isJwkSet(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const keys = (value as { keys?: unknown }).keys
  return Array.isArray(keys) && keys.every((k) => typeof k === 'object' && k !== null && !Array.isArray(k))
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string } } | undefined
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'the JWKS fetch timed out'
  return `the JWKS fetch failed: ${e?.cause?.code ?? e?.message ?? String(err)}`
}
