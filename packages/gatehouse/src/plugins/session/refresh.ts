/**
 * Refreshing a session's access token with its refresh token, exactly once per refresh token. The
 * provider rotates refresh tokens and treats a second use of one as theft, revoking the whole grant
 * (RFC 9700 §4.14.2), so:
 * - concurrent requests of one session share a single refresh (single flight);
 * - the outcome is remembered for a minute by the refresh token it consumed: a request still carrying the
 *   older cookie (sent before the browser had the new one) takes the newer session instead of presenting
 *   the spent token again; a refusal is remembered too, so a stale cookie does not ask again.
 * Both live in process-wide state (process-wide.ts), so a configuration reload in the middle changes
 * nothing. Across nodes, `storage: redis` lets one node refresh and the others take its outcome
 * (shared-refresh.ts), and the workers of one node share theirs through the primary; across nodes,
 * cookie and in-process storage rely on the browser sending the newest cookie.
 */
import type { Logger } from '../../observability/logger.ts'
import { ExpiringCache } from '../_shared/expiring-cache.ts'
import { type ProviderClient, ProviderError } from './provider-client.ts'
import { publicSessionId, refreshed, type SessionRecord } from './session.ts'

/**
 * Refreshes shared beyond this process: across nodes through Redis (shared-refresh.ts), across the
 * workers of a node through the primary (cluster/refresh-coordinator.ts).
 */
export interface RefreshSharing {
  /** `refresh()`'s outcome for `token`, run here or taken from whoever ran it. */
  once(token: string, refresh: () => Promise<SessionRecord>): Promise<SessionRecord>
  /** Lets go of what the configuration held (a Redis lease). */
  close(): Promise<void>
}

/** Milliseconds a refresh outcome is remembered by the refresh token it consumed. */
const REMEMBER_MS = 60_000
/** Milliseconds before a refresh the provider did not answer is tried again. */
const RETRY_MS = 5_000

interface Outcome {
  readonly record: SessionRecord | null
  readonly error: ProviderError | null
  readonly until: number
}

export class RefreshMemo {
  readonly inflight = new Map<string, Promise<SessionRecord>>()
  readonly done = new ExpiringCache<Outcome>(10_000)
}

export class Refresher {
  readonly #provider: ProviderClient
  readonly #memo: RefreshMemo
  readonly #resource: string | undefined
  readonly #logger: Logger
  readonly #shared: RefreshSharing | null

  constructor(
    provider: ProviderClient,
    memo: RefreshMemo,
    resource: string | undefined,
    logger: Logger,
    shared: RefreshSharing | null = null,
  ) {
    this.#provider = provider
    this.#memo = memo
    this.#resource = resource
    this.#logger = logger
    this.#shared = shared
  }

  /** The session that replaced `r` when its refresh token was already used (by another request). */
  newer(r: SessionRecord): SessionRecord | null {
    if (r.refreshToken === null) return null
    const done = this.#memo.done.get(r.refreshToken, Date.now())
    const next = done?.record ?? null
    return next !== null ? { ...next, seenAt: Math.max(next.seenAt, r.seenAt) } : null
  }

  /** `r` with new tokens; rejects with a ProviderError. */
  refresh(r: SessionRecord, now: number): Promise<SessionRecord> {
    const token = r.refreshToken
    if (token === null) return Promise.reject(new ProviderError('refused', 'no_refresh_token'))
    const memo = this.#memo
    const done = memo.done.get(token, Date.now())
    if (done !== undefined)
      return done.record !== null ? Promise.resolve(done.record) : Promise.reject(done.error)
    let pending = memo.inflight.get(token)
    if (pending === undefined) {
      const ask = () =>
        this.#provider.refresh(token, this.#resource).then((tokens) => refreshed(r, tokens, now))
      pending = (this.#shared !== null ? this.#shared.once(token, ask) : ask()).then(
        (next) => {
          memo.done.set(token, { record: next, error: null, until: Date.now() + REMEMBER_MS }, Date.now())
          memo.inflight.delete(token)
          this.#logger.debug({ session: publicSessionId(next.sid) }, 'session refreshed')
          return next
        },
        (err: unknown) => {
          memo.inflight.delete(token)
          const error =
            err instanceof ProviderError ? err : new ProviderError('unavailable', 'refresh_failed')
          const session = publicSessionId(r.sid)
          if (error.kind === 'refused')
            this.#logger.info({ reason: error.reason, session }, 'session refresh refused; session ended')
          else
            this.#logger.warn(
              { reason: error.reason, session },
              'session refresh failed; provider unavailable',
            )
          // A refusal is final; a provider that could not be reached is asked again after a pause, so
          // requests whose access token is still good do not each wait for it meanwhile.
          const until = Date.now() + (error.kind === 'refused' ? REMEMBER_MS : RETRY_MS)
          memo.done.set(token, { record: null, error, until }, Date.now())
          throw error
        },
      )
      memo.inflight.set(token, pending)
    }
    return pending
  }
}
