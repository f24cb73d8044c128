/**
 * Where `storage: server` keeps sessions: a key (the keyed hash of the id in the browser's cookie) to a
 * record, each with its own lifetime. Behind this interface so a shared store (Redis) can take the
 * memory store's place for several nodes; every implementation runs store.contract.test.ts. A store whose
 * records leave the process must seal them first (seal.ts): they hold the provider's tokens.
 */
import type { SessionRecord } from './session.ts'

export interface SessionStore {
  /** The record, or undefined when there is none or its lifetime is over. */
  get(key: string): Promise<SessionRecord | undefined>
  /** Stores (or replaces) the record for `ttl` seconds from now. */
  set(key: string, record: SessionRecord, ttl: number): Promise<void>
  delete(key: string): Promise<void>
}
