/**
 * Brute-force protection of the login form, in the store so every node counts together:
 * - per account (`user:<lower-cased username>`, also for usernames that do not exist, so the answer
 *   never tells them apart) and per client address (`ip:<address>`, at 4× the account threshold, so
 *   one address cannot spray many accounts);
 * - each recent failure adds `backoff` ms before the password is even checked (at most 5 s), slowing
 *   guessing without locking anyone out early;
 * - `max_failures` within the window (the lockout period) lock the account, or 4× that the address,
 *   for `lockout` seconds. A locked login gets the same generic answer as a wrong password, and no
 *   password check. `gatehouse users unlock` (store.throttle.clear) lifts a lock early; a successful
 *   login clears the account's count.
 */
import type { IdentityConfig } from '../../config/normalize-identity.ts'
import type { ThrottleState, ThrottleStore } from '../../storage/store.ts'

export const MAX_DELAY_MS = 5000
export const IP_FACTOR = 4

export interface ThrottleKeys {
  readonly account: string
  readonly ip: string
}

export interface Gate {
  /** Which lock holds, if any. */
  readonly locked: 'account' | 'ip' | null
  readonly delayMs: number
}

export function throttleKeys(username: string, ip: string): ThrottleKeys {
  return { account: `user:${username.toLowerCase()}`, ip: `ip:${ip}` }
}

export class LoginThrottle {
  readonly #store: ThrottleStore
  readonly #login: IdentityConfig['login']

  constructor(store: ThrottleStore, login: IdentityConfig['login']) {
    this.#store = store
    this.#login = login
  }

  async gate(keys: ThrottleKeys, now: number): Promise<Gate> {
    const [account, ip] = await Promise.all([this.#store.get(keys.account), this.#store.get(keys.ip)])
    const locked = isLocked(account, now) ? 'account' : isLocked(ip, now) ? 'ip' : null
    const recent = Math.max(this.#recent(account, now), Math.floor(this.#recent(ip, now) / IP_FACTOR))
    return { locked, delayMs: Math.min(MAX_DELAY_MS, recent * this.#login.backoff) }
  }

  /** Counts a failure against both keys; returns which lock it set, if any. */
  async failure(keys: ThrottleKeys, now: number): Promise<'account' | 'ip' | null> {
    const window = this.#login.lockout
    const [account, ip] = await Promise.all([
      this.#store.recordFailure(keys.account, now, window),
      this.#store.recordFailure(keys.ip, now, window),
    ])
    let locked: 'account' | 'ip' | null = null
    if (ip.failures >= this.#login.max_failures * IP_FACTOR && !isLocked(ip, now)) {
      await this.#store.lock(keys.ip, now + this.#login.lockout)
      locked = 'ip'
    }
    if (account.failures >= this.#login.max_failures && !isLocked(account, now)) {
      await this.#store.lock(keys.account, now + this.#login.lockout)
      locked = 'account'
    }
    return locked
  }

  async success(keys: ThrottleKeys): Promise<void> {
    await this.#store.clear(keys.account)
  }

  #recent(state: ThrottleState | undefined, now: number): number {
    if (state === undefined || now - state.window_start >= this.#login.lockout) return 0
    return state.failures
  }
}

function isLocked(state: ThrottleState | undefined, now: number): boolean {
  return state !== undefined && state.locked_until !== null && state.locked_until > now
}
