/**
 * One session refresh per refresh token across the workers of a node, without Redis: what
 * shared-refresh.ts does across nodes with Redis, done by the primary. The provider rotates refresh
 * tokens and revokes the whole grant when one is used twice (RFC 9700 §4.14.2); a page's burst of calls
 * spread over two workers would otherwise have both refresh, and the session end. The first worker to
 * ask refreshes; the others wait for its outcome (the new record, or the refusal), which the primary
 * keeps for a minute for late askers. A worker that dies while refreshing releases the claim after
 * LOCK_MS, and the next asker refreshes itself.
 */
import { createHash } from 'node:crypto'
import { ExpiringCache } from '../plugins/_shared/expiring-cache.ts'
import { ProviderError } from '../plugins/session/provider-client.ts'
import type { RefreshSharing } from '../plugins/session/refresh.ts'
import type { SessionRecord } from '../plugins/session/session.ts'
import type { Channel } from './channel.ts'

/** Milliseconds a claim is held before another worker may refresh (shared-refresh.ts LOCK_MS). */
const LOCK_MS = 15_000
/** Milliseconds an outcome is kept for the workers that did not refresh (refresh.ts REMEMBER_MS). */
const DONE_MS = 60_000

/** What the primary answers a claim with. */
type Claim =
  | { readonly kind: 'mine' }
  | { readonly kind: 'done'; readonly record: SessionRecord }
  | { readonly kind: 'refused'; readonly error: { kind: 'refused' | 'unavailable'; reason: string } }

interface Outcome {
  readonly claim: Claim
  readonly until: number
}

/** The primary's side: claims and outcomes, by the SHA-256 of the refresh token. */
export class RefreshCoordinator {
  readonly #claims = new Map<
    string,
    { until: number; waiters: ((claim: Claim | Promise<Claim>) => void)[] }
  >()
  readonly #done = new ExpiringCache<Outcome>(10_000)

  claim(key: string): Claim | Promise<Claim> {
    const now = Date.now()
    const done = this.#done.get(key, now)
    if (done !== undefined) return done.claim
    const held = this.#claims.get(key)
    if (held === undefined || held.until <= now) {
      // A claim past its time (its worker died or hung): the asker refreshes, and whoever waited on the
      // old claim now waits for this one.
      this.#claims.set(key, { until: now + LOCK_MS, waiters: held?.waiters ?? [] })
      return { kind: 'mine' }
    }
    return new Promise<Claim>((resolve) => {
      let answered = false
      const answer = (claim: Claim | Promise<Claim>) => {
        if (answered) return
        answered = true
        clearTimeout(timer)
        resolve(claim)
      }
      const timer = setTimeout(() => answer(this.claim(key)), held.until - now + 1)
      timer.unref()
      held.waiters.push(answer)
    })
  }

  /** The claimer's outcome: every waiter takes it, and later askers for a minute. */
  settle(key: string, claim: Claim): void {
    const held = this.#claims.get(key)
    this.#claims.delete(key)
    this.#done.set(key, { claim, until: Date.now() + DONE_MS }, Date.now())
    for (const waiter of held?.waiters ?? []) waiter(claim)
  }

  /** The claimer could not reach the provider (the token was not spent): the next waiter tries. */
  release(key: string): void {
    const held = this.#claims.get(key)
    this.#claims.delete(key)
    for (const waiter of held?.waiters ?? []) waiter(this.claim(key))
  }

  serve(channel: Channel): void {
    channel
      .handle('refresh.claim', (key) => this.claim(key as string))
      .handle('refresh.settle', (args) => {
        const a = args as { key: string; claim: Claim }
        this.settle(a.key, a.claim)
      })
      .handle('refresh.release', (key) => this.release(key as string))
  }
}

/** A worker's side: SharedRefresh's `once`, coordinated by the primary. */
export class NodeRefresh implements RefreshSharing {
  readonly #channel: Channel

  constructor(channel: Channel) {
    this.#channel = channel
  }

  /** Nothing to let go of: the channel is the worker's, for its whole life. */
  async close(): Promise<void> {}

  async once(token: string, refresh: () => Promise<SessionRecord>): Promise<SessionRecord> {
    const key = createHash('sha256').update(token).digest('base64url')
    let claim: Claim
    try {
      claim = await this.#channel.call<Claim>('refresh.claim', key)
    } catch {
      // The primary is going away: refresh alone, as a node does when Redis is down.
      return refresh()
    }
    if (claim.kind === 'done') return claim.record
    if (claim.kind === 'refused') throw new ProviderError(claim.error.kind, claim.error.reason)
    try {
      const record = await refresh()
      this.#channel.event('refresh.settle', { key, claim: { kind: 'done', record } })
      return record
    } catch (err) {
      const error = err instanceof ProviderError ? err : new ProviderError('unavailable', 'refresh_failed')
      // A refusal is final for everyone; an unreachable provider lets the next asker try again.
      if (error.kind === 'refused')
        this.#channel.event('refresh.settle', {
          key,
          claim: { kind: 'refused', error: { kind: error.kind, reason: error.reason } },
        })
      else this.#channel.event('refresh.release', key)
      throw error
    }
  }
}
