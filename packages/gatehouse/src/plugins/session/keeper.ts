/**
 * The two ways to keep a session (`storage`), behind one interface:
 * - `cookie`: the record sealed into the cookie (seal.ts). Nothing is kept at the gateway, so any node
 *   reads it; a changed record is a new cookie. Logout remembers the session id as ended in this process
 *   until the session's absolute end, so a copy of the old cookie is refused here too (other nodes refuse
 *   it once its refresh token, revoked at logout, is needed).
 * - `server` and `redis`: the cookie holds a random id; the record is in a SessionStore (this process's
 *   memory, or Redis shared by every node) under the id's keyed hash. A changed record changes nothing
 *   in the browser.
 * Decrypted cookies are remembered briefly by their exact value, so a page's burst of API calls decrypts
 * once; everything that depends on the time is checked by the caller on every request.
 */
import { ExpiringCache } from '../_shared/expiring-cache.ts'
import type { Sealer } from './seal.ts'
import { endsAt, fromClaims, type Lifetimes, type SessionRecord, toClaims } from './session.ts'
import type { SessionStore } from './store.ts'

export interface Keeper {
  readonly kind: 'cookie' | 'server'
  /** The session a cookie value names; null when there is none (tampered, expired, ended, unknown). */
  load(value: string): Promise<SessionRecord | null>
  /** Keeps the record; returns the new cookie value, or null when the browser's cookie stays as it is. */
  save(record: SessionRecord, isNew: boolean, now: number): Promise<string | null>
  /** Ends the session: a later load of its cookie finds nothing. */
  end(record: SessionRecord): Promise<void>
}

interface Ended {
  readonly until: number
}

/**
 * Where logouts of cookie sessions are remembered (by session id, until the cookie would have expired):
 * this process's memory, or in a node of several workers every worker's (cluster/node-state.ts).
 */
export interface EndedSessions {
  get(sid: string, now: number): Ended | undefined
  /** Remembers the logout; resolves once every process that serves the session knows it. */
  end(sid: string, entry: Ended): Promise<void>
}

interface Opened {
  readonly record: SessionRecord
  readonly until: number
}

/** Milliseconds a decrypted cookie is remembered. */
const OPENED_MS = 60_000

export class CookieKeeper implements Keeper {
  readonly kind = 'cookie'
  readonly #sealer: Sealer
  readonly #lifetimes: Lifetimes
  readonly #ended: EndedSessions
  readonly #opened = new ExpiringCache<Opened>(5_000, 16 * 1024 * 1024)

  constructor(sealer: Sealer, lifetimes: Lifetimes, ended: EndedSessions) {
    this.#sealer = sealer
    this.#lifetimes = lifetimes
    this.#ended = ended
  }

  async load(value: string): Promise<SessionRecord | null> {
    const nowMs = Date.now()
    let record = this.#opened.get(value, nowMs)?.record ?? null
    if (record === null) {
      const claims = await this.#sealer.unseal('session', value)
      record = claims !== null ? fromClaims(claims) : null
      if (record === null) return null
      this.#opened.set(value, { record, until: nowMs + OPENED_MS }, nowMs)
    }
    return this.#ended.get(record.sid, nowMs) !== undefined ? null : record
  }

  save(record: SessionRecord, _isNew: boolean, _now: number): Promise<string> {
    return this.#sealer.seal('session', toClaims(record), record.createdAt + this.#lifetimes.absolute)
  }

  end(record: SessionRecord): Promise<void> {
    return this.#ended.end(record.sid, { until: (record.createdAt + this.#lifetimes.absolute) * 1000 })
  }
}

export class ServerKeeper implements Keeper {
  readonly kind = 'server'
  readonly #sealer: Sealer
  readonly #lifetimes: Lifetimes
  readonly #store: SessionStore

  constructor(sealer: Sealer, lifetimes: Lifetimes, store: SessionStore) {
    this.#sealer = sealer
    this.#lifetimes = lifetimes
    this.#store = store
  }

  async load(value: string): Promise<SessionRecord | null> {
    if (value.length !== 43) return null
    const record = await this.#store.get(this.#sealer.storeKey(value))
    return record !== undefined && record.sid === value ? record : null
  }

  async save(record: SessionRecord, isNew: boolean, now: number): Promise<string | null> {
    const ttl = endsAt(record, this.#lifetimes) - now
    await this.#store.set(this.#sealer.storeKey(record.sid), record, ttl)
    return isNew ? record.sid : null
  }

  end(record: SessionRecord): Promise<void> {
    return this.#store.delete(this.#sealer.storeKey(record.sid))
  }
}

export type { Ended }
