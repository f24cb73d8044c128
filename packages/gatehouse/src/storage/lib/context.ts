/**
 * What the shared query layer needs from a dialect: a kysely instance, and a way to tell a unique
 * violation (and on which column) from any other error, since each driver reports it differently.
 */
import type { Kysely } from 'kysely'
import { StoreConflictError } from '../store.ts'
import type { Database } from './tables.ts'

export interface SqlContext {
  readonly db: Kysely<Database>
  /** `table.column` of the unique constraint `err` violates, or undefined when it is not a unique violation. */
  readonly uniqueViolation: (err: unknown) => string | undefined
}

/** The public field each unique column stands for. */
const FIELDS: Readonly<Record<string, string>> = {
  'users.id': 'id',
  'users.username_key': 'username',
  'users.email_key': 'email',
  'clients.client_id': 'client_id',
  'signing_keys.kid': 'kid',
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
    const column = ctx.uniqueViolation(err)
    if (column === undefined) throw err
    const field = FIELDS[column] ?? column
    throw new StoreConflictError(field, message(field))
  }
}

export const toFlag = (value: boolean): number => (value ? 1 : 0)
export const fromFlag = (value: number): boolean => value !== 0
export const caseKey = (value: string): string => value.toLowerCase()
