/**
 * Profile claims from a user-info service, asked once per subject and reused for `ttl` seconds, so the
 * services behind the gateway get the caller's country or customer type in their token without any of
 * them calling the user service (the pattern of seed 000). Concurrent requests for the same subject
 * share one call. The answer must be a JSON object (64 KiB at most); only the configured members are
 * kept, and only JSON values of at most 4 KiB each. A 404 means "no profile": cached like an answer.
 *
 * An answer is asked again before its `ttl` once the subject's profile changed or the subject was
 * revoked (POST /revocations, on any node: src/redis/revocation.ts), checked on every use.
 *
 * Failures (refused connection, timeout, another status, bad JSON) are not cached as answers, but the
 * failure is remembered for one second per subject, so a down service costs one attempt per subject per
 * second rather than one per request; the caller decides what a failure means (on_failure).
 */
import { Agent, request } from 'undici'
import type { Logger } from '../../observability/logger.ts'
import type { Principal } from '../../pipeline/principal.ts'
import type { Revocations } from '../../redis/revocation.ts'
import { ExpiringCache } from '../_shared/expiring-cache.ts'
import type { InternalTokenConfig } from './schema.ts'

export interface Profile {
  /** The kept members, frozen. */
  readonly claims: Readonly<Record<string, unknown>>
  /** A stable serialisation of `claims`, part of the minted-token cache key. */
  readonly key: string
  /** Date.now() when the service answered. */
  readonly at: number
  readonly until: number
}

/** The service could not be asked usably; the reason is for the log. */
export class EnrichmentFailed {
  readonly reason: string
  readonly until: number
  constructor(reason: string, until: number) {
    this.reason = reason
    this.until = until
  }
}

const MAX_ANSWER_BYTES = 64 * 1024
const MAX_VALUE_CHARS = 4096
const FAILURE_MEMORY_MS = 1000
const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({})

type Enrich = NonNullable<InternalTokenConfig['enrich']>

export class UserInfoEnricher {
  readonly #config: Enrich
  readonly #logger: Logger
  readonly #agent: Agent
  readonly #urlHead: string
  readonly #urlTail: string
  readonly #cache: ExpiringCache<Profile | EnrichmentFailed>
  readonly #inflight = new Map<string, Promise<Profile | EnrichmentFailed>>()
  readonly #revocations: Revocations

  constructor(config: Enrich, logger: Logger, revocations: Revocations) {
    this.#config = config
    this.#logger = logger
    this.#revocations = revocations
    const raw = config.url.includes('{sub}') ? config.url : config.url.replace('%7Bsub%7D', '{sub}')
    const at = raw.indexOf('{sub}')
    this.#urlHead = raw.slice(0, at)
    this.#urlTail = raw.slice(at + '{sub}'.length)
    this.#agent = new Agent({ connections: 64, keepAliveTimeout: 30_000 })
    this.#cache = new ExpiringCache(config.cache_size)
  }

  /** The subject's profile, from the cache when it can; a promise only when the service must be asked. */
  lookup(
    principal: Principal,
    requestId: string,
  ): Profile | EnrichmentFailed | Promise<Profile | EnrichmentFailed> {
    const key = `${principal.issuer ?? ''}\0${principal.subject}`
    const now = Date.now()
    const cached = this.#cache.get(key, now)
    if (
      cached !== undefined &&
      (cached instanceof EnrichmentFailed || !this.#revocations.profileStale(principal.subject, cached.at))
    )
      return cached
    const running = this.#inflight.get(key)
    if (running !== undefined) return running
    const asked = this.#ask(principal.subject, requestId).then((result) => {
      this.#inflight.delete(key)
      this.#cache.set(key, result, Date.now())
      return result
    })
    this.#inflight.set(key, asked)
    return asked
  }

  /**
   * What `lookup` would answer from the cache, without asking the service: undefined when it would ask
   * (a dry run says so instead of calling out).
   */
  cached(principal: Principal): Profile | EnrichmentFailed | undefined {
    const cached = this.#cache.get(`${principal.issuer ?? ''}\0${principal.subject}`, Date.now())
    if (cached === undefined) return undefined
    if (cached instanceof EnrichmentFailed || !this.#revocations.profileStale(principal.subject, cached.at))
      return cached
    return undefined
  }

  close(): Promise<void> {
    return this.#agent.close()
  }

  async #ask(subject: string, requestId: string): Promise<Profile | EnrichmentFailed> {
    // encodeURIComponent leaves dots alone: a subject `..` would be a path segment the service resolves.
    const segment = encodeURIComponent(subject).replace(/^\.{1,2}$/, (dots) => dots.replaceAll('.', '%2E'))
    const url = this.#urlHead + segment + this.#urlTail
    const timeoutMs = this.#config.timeout * 1000
    const failed = (reason: string) => {
      this.#logger.warn(
        { user_info: this.#urlHead, reason, request_id: requestId },
        'user-info lookup failed',
      )
      return new EnrichmentFailed(reason, Date.now() + FAILURE_MEMORY_MS)
    }
    try {
      const res = await request(url, {
        dispatcher: this.#agent,
        method: 'GET',
        headers: { accept: 'application/json', 'x-request-id': requestId },
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      })
      if (res.statusCode === 404) {
        await res.body.dump()
        return this.#profile(EMPTY)
      }
      if (res.statusCode !== 200) {
        await res.body.dump()
        return failed(`answered HTTP ${res.statusCode} (expected 200 or 404)`)
      }
      const declared = Number(res.headers['content-length'] ?? 0)
      if (declared > MAX_ANSWER_BYTES) {
        await res.body.dump()
        return failed(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`)
      }
      const chunks: Buffer[] = []
      let size = 0
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length
        if (size > MAX_ANSWER_BYTES) {
          res.body.destroy()
          return failed(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`)
        }
        chunks.push(chunk as Buffer)
      }
      let body: unknown
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
      } catch {
        return failed('the answer is not JSON')
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body))
        return failed('the answer is not a JSON object')
      return this.#profile(this.#pick(body as Record<string, unknown>))
    } catch (err) {
      const e = err as Error & { code?: string }
      const reason =
        e.name === 'TimeoutError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT'
          ? `no answer within ${this.#config.timeout} s`
          : `request failed: ${e.code ?? e.message}`
      return failed(reason)
    }
  }

  #pick(answer: Record<string, unknown>): Record<string, unknown> {
    const kept: Record<string, unknown> = {}
    for (const name of this.#config.claims) {
      if (!Object.hasOwn(answer, name)) continue
      const value = answer[name]
      if (value === null || value === undefined) continue
      const text = JSON.stringify(value)
      if (text === undefined || text.length > MAX_VALUE_CHARS) continue
      kept[name] = value
    }
    return kept
  }

  #profile(claims: Readonly<Record<string, unknown>>): Profile {
    const frozen = deepFreeze(claims)
    const at = Date.now()
    return { claims: frozen, key: JSON.stringify(frozen), at, until: at + this.#config.ttl * 1000 }
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
