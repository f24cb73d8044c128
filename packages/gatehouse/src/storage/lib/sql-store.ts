/**
 * The Store over any SQL database kysely speaks: the one query layer that SQLite (sqlite.ts) and
 * PostgreSQL (postgres.ts) share. A dialect supplies the kysely instance and what differs (dialect.ts).
 */
import { type Kysely, sql } from 'kysely'
import type { Store } from '../store.ts'
import { SqlAuditStore } from './audit.ts'
import { SqlClientStore } from './clients.ts'
import type { SqlContext } from './context.ts'
import type { SqlDialect } from './dialect.ts'
import { SqlEntityStore } from './entities.ts'
import { SqlFactorStore } from './factors.ts'
import { SqlKeyStore } from './keys.ts'
import { SqlLinkStore } from './links.ts'
import { checkSchema, migrateToLatest } from './migrate.ts'
import { SqlOidcStore } from './oidc.ts'
import { SqlThrottleStore } from './throttle.ts'
import { SqlUserStore } from './users.ts'

export class SqlStore implements Store {
  readonly users: SqlUserStore
  readonly clients: SqlClientStore
  readonly oidc: SqlOidcStore
  readonly keys: SqlKeyStore
  readonly throttle: SqlThrottleStore
  readonly factors: SqlFactorStore
  readonly links: SqlLinkStore
  readonly entities: SqlEntityStore
  readonly audit: SqlAuditStore
  readonly #db: Kysely<unknown>
  readonly #dialect: SqlDialect
  /** The tail of each lock's queue in this process. */
  readonly #locks = new Map<string, Promise<unknown>>()

  constructor(ctx: SqlContext) {
    this.#db = ctx.db as Kysely<unknown>
    this.#dialect = ctx.dialect
    this.users = new SqlUserStore(ctx)
    this.clients = new SqlClientStore(ctx)
    this.oidc = new SqlOidcStore(ctx)
    this.keys = new SqlKeyStore(ctx)
    this.throttle = new SqlThrottleStore(ctx)
    this.factors = new SqlFactorStore(ctx)
    this.links = new SqlLinkStore(ctx)
    this.entities = new SqlEntityStore(ctx)
    this.audit = new SqlAuditStore(ctx)
  }

  migrate(): Promise<string[]> {
    return migrateToLatest(this.#db, this.#dialect)
  }

  checkSchema(): Promise<void> {
    return checkSchema(this.#db, this.#dialect)
  }

  /**
   * Queued in this process first, then the dialect's lock: a PostgreSQL lock holds a pooled connection
   * while it waits, and callers queued here never take more than one, so they cannot exhaust the pool
   * that `fn` needs.
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(name) ?? Promise.resolve()
    const run = previous.then(() => this.#dialect.withLock(this.#db, name, fn))
    const tail = run.catch(() => {})
    this.#locks.set(name, tail)
    void tail.then(() => {
      if (this.#locks.get(name) === tail) this.#locks.delete(name)
    })
    return run
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db)
  }

  close(): Promise<void> {
    return this.#db.destroy()
  }
}
