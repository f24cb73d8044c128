/**
 * What every part of the shared query layer gets: the kysely instance and the dialect (dialect.ts),
 * and the one rule they share for unique violations.
 */
import type { Kysely } from 'kysely'
import { StoreConflictError } from '../store.ts'
import type { SqlDialect } from './dialect.ts'
import type { Database } from './tables.ts'

export interface SqlContext {
  readonly db: Kysely<Database>
  readonly dialect: SqlDialect
  /**
   * Listens on `channel` on a connection of its own (PostgreSQL), calling `onNotify` for each
   * notification and once after each reconnection; absent where the database cannot notify.
   */
  readonly listen?: (channel: string, onNotify: () => void) => Promise<() => Promise<void>>
}

/** The public field each unique column stands for. */
const FIELDS: Readonly<Record<string, string>> = {
  'users.id': 'id',
  'users.username_key': 'username',
  'users.email_key': 'email',
  'clients.client_id': 'client_id',
  'signing_keys.kid': 'kid',
  'factors.id': 'id',
  // SQLite names the first column of the (entity_type, name) key; PostgreSQL the constraint (dialect.ts).
  'entities.entity_type': 'name',
  'entities.name': 'name',
  // identity_links: (broker, subject) taken means the external identity is linked already; (user_id,
  // broker) that the user has a link to that provider already.
  'identity_links.broker': 'subject',
  'identity_links.user_id': 'broker',
  // A passkey's credential is registered already (to this account or another).
  'passkeys.credential_id': 'credential_id',
  'passkeys.factor_id': 'id',
}

/**
 * Runs a write; a unique violation becomes a StoreConflictError naming the field, with `message(field)`
 * (which never quotes a value that could be secret). Other errors pass through.
 */
export async function conflictsNamed<T>(
  ctx: SqlContext,
  write: () => Promise<T>,
  message: (field: string) => string,
): Promise<T> {
  try {
    return await write()
  } catch (err) {
    const column = ctx.dialect.uniqueViolation(err)
    if (column === undefined) throw err
    const field = FIELDS[column] ?? column
    throw new StoreConflictError(field, message(field))
  }
}

export const caseKey = (value: string): string => value.toLowerCase()
