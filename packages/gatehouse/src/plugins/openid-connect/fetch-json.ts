/**
 * Fetching the issuer's metadata and keys: one JSON document, 200 only, no redirects (a redirect could
 * move key retrieval to another origin), bounded in time and size, and a failure backoff so an
 * unreachable issuer is asked at most once per backoff period however many requests arrive.
 */

/** Largest discovery document or JWKS read, in bytes; real ones are a few KiB. */
export const MAX_DOCUMENT_BYTES = 512 * 1024

/** First wait after a failed fetch, and the longest, in milliseconds. */
export const BACKOFF_FIRST_MS = 1000
export const BACKOFF_MAX_MS = 30_000

/** The issuer's discovery document or JWKS could not be had; `message` is fixed text for the log. */
export class SourceUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SourceUnavailable'
  }
}

/** Waits after failures: 1 s, 2 s, 4 s … up to 30 s; a success resets it. Timestamps only, no timers. */
export class Backoff {
  #failures = 0
  #retryAt = 0

  waiting(now: number): boolean {
    return now < this.#retryAt
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

/** GETs `url` and parses its body as JSON; throws SourceUnavailable saying why (never a body excerpt). */
export async function fetchJson(
  url: string,
  init: { signal: AbortSignal; headers?: Headers },
): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, {
      method: 'GET',
      redirect: 'manual',
      signal: init.signal,
      headers: init.headers ?? { accept: 'application/json' },
    })
  } catch (err) {
    throw unavailable(err, 'request failed')
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => {})
    throw new SourceUnavailable(`answered HTTP ${response.status} (expected 200)`)
  }
  const declared = Number(response.headers.get('content-length') ?? 0)
  if (declared > MAX_DOCUMENT_BYTES) {
    await response.body?.cancel().catch(() => {})
    throw new SourceUnavailable(`document larger than ${MAX_DOCUMENT_BYTES} bytes`)
  }
  let bytes: Uint8Array
  try {
    bytes = await readBounded(response)
  } catch (err) {
    throw err instanceof SourceUnavailable ? err : unavailable(err, 'reading the body failed')
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch {
    throw new SourceUnavailable('body is not UTF-8 JSON')
  }
}

async function readBounded(response: Response): Promise<Uint8Array> {
  const reader = response.body?.getReader()
  if (reader === undefined) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_DOCUMENT_BYTES) {
      await reader.cancel().catch(() => {})
      throw new SourceUnavailable(`document larger than ${MAX_DOCUMENT_BYTES} bytes`)
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks, size)
}

function unavailable(err: unknown, what: string): SourceUnavailable {
  const e = err as
    | { name?: string; message?: string; cause?: { code?: string; message?: string } }
    | undefined
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError')
    return new SourceUnavailable('timed out', { cause: err })
  const why = e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err)
  return new SourceUnavailable(`${what}: ${why}`, { cause: err })
}
