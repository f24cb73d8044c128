/**
 * Where `storage: server` and `storage: redis` keep sessions: a key (the keyed hash of the id in the
 * browser's cookie) to a record, each with its own lifetime. The memory store serves one process, the
 * Redis store (redis-store.ts) every node; both run store.contract.test.ts. A store whose records leave
 * the process must seal them first (seal.ts): they hold the provider's tokens.
 */
import type { SessionRecord } from './session.ts'

export interface SessionStore {
  /** The record, or undefined when there is none or its lifetime is over. */
  get(key: string): Promise<SessionRecord | undefined>
  /** Stores (or replaces) the record for `ttl` seconds from now. */
  set(key: string, record: SessionRecord, ttl: number): Promise<void>
  delete(key: string): Promise<void>
}

/** The store cannot be reached (Redis down): no answer, which is not the same as no session. */
export class SessionStoreUnavailable extends Error {
  override name = 'SessionStoreUnavailable'
}
