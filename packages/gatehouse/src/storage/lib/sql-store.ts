/**
 * The Store over any SQL database kysely speaks: the one query layer that SQLite (sqlite.ts) and
 * PostgreSQL share. A dialect supplies the kysely instance and how its driver reports unique violations.
 */
import type { Kysely } from 'kysely'
import type { Store } from '../store.ts'
import { SqlClientStore } from './clients.ts'
import type { SqlContext } from './context.ts'
import { SqlKeyStore } from './keys.ts'
import { checkSchema, migrateToLatest } from './migrate.ts'
import { SqlOidcStore } from './oidc.ts'
import type { Database } from './tables.ts'
import { SqlThrottleStore } from './throttle.ts'
import { SqlUserStore } from './users.ts'

export class SqlStore implements Store {
  readonly users: SqlUserStore
  readonly clients: SqlClientStore
  readonly oidc: SqlOidcStore
  readonly keys: SqlKeyStore
  readonly throttle: SqlThrottleStore
  readonly #db: Kysely<Database>

  constructor(ctx: SqlContext) {
    this.#db = ctx.db
    this.users = new SqlUserStore(ctx)
    this.clients = new SqlClientStore(ctx)
    this.oidc = new SqlOidcStore(ctx)
    this.keys = new SqlKeyStore(ctx)
    this.throttle = new SqlThrottleStore(ctx)
  }

  migrate(): Promise<string[]> {
    return migrateToLatest(this.#db as Kysely<unknown>)
  }

  checkSchema(): Promise<void> {
    return checkSchema(this.#db as Kysely<unknown>)
  }

  close(): Promise<void> {
    return this.#db.destroy()
  }
}
