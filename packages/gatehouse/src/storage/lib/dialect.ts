/**
 * What differs between the SQL databases behind the one query layer, and nothing else. Upserts
 * (`on conflict ... do update`, `excluded.`) and `returning` are written once: kysely compiles them the
 * same for SQLite (3.35+) and PostgreSQL. What each dialect supplies:
 * - column types: JSON is text in SQLite and jsonb (or json) in PostgreSQL, flags are integers 0/1 and
 *   booleans;
 *   JSON is always written as text (PostgreSQL parses it into jsonb) and read back through `readJson`;
 * - unique violations: SQLite names the column, PostgreSQL the constraint (the migrations name theirs);
 * - locking: SQLite writers are serialised by the file (every transaction is BEGIN IMMEDIATE), so its
 *   locks are this process's only; PostgreSQL takes advisory locks, which every node sharing the
 *   database respects;
 * - whether a table exists (the migration table, before the first migration);
 * - notifications: PostgreSQL tells listening nodes at commit (NOTIFY); SQLite has none (nodes poll).
 */
import { createHash } from 'node:crypto'
import { type Kysely, sql, type Transaction } from 'kysely'

export interface SqlDialect {
  readonly name: 'sqlite' | 'postgres'
  /** Column type of JSON documents. */
  readonly jsonType: 'text' | 'jsonb'
  /**
   * Column type of JSON kept as written, never queried: oidc-provider's payloads, which carry what
   * clients send. PostgreSQL's json, which unlike jsonb takes any string (`\u0000` included).
   */
  readonly rawJsonType: 'text' | 'json'
  /** Column type of flags. */
  readonly flagType: 'integer' | 'boolean'
  /** A JSON column's value as the driver returns it (text, or already parsed), parsed. */
  readJson(value: unknown): unknown
  toFlag(value: boolean): Flag
  /** `table.column` of the unique key `err` violates, or undefined when it is not a unique violation. */
  uniqueViolation(err: unknown): string | undefined
  tableExists(db: Kysely<unknown>, table: string): Promise<boolean>
  /**
   * In a transaction: waits for the lock `name`, held until the transaction ends, so that two
   * read-then-write transactions on the same things (a config sync on two nodes) run one after the other.
   */
  lockTransaction<DB>(trx: Transaction<DB>, name: string): Promise<void>
  /** Runs `fn` holding the lock `name`; `fn` uses the store as usual (other connections). */
  withLock<T>(db: Kysely<unknown>, name: string, fn: () => Promise<T>): Promise<T>
  /** In a transaction: tells `channel`'s listeners `payload` when (and only if) it commits. */
  notify<DB>(trx: Transaction<DB>, channel: string, payload: string): Promise<void>
}

/** A flag column's value: 0/1 in SQLite, a boolean in PostgreSQL. */
export type Flag = number | boolean

export const fromFlag = (value: Flag): boolean => value === true || value === 1

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  jsonType: 'text',
  rawJsonType: 'text',
  flagType: 'integer',
  readJson: (value) => JSON.parse(value as string),
  toFlag: (value) => (value ? 1 : 0),
  // better-sqlite3 reports `UNIQUE constraint failed: users.username_key` (first column of the key).
  uniqueViolation(err) {
    const code = (err as { code?: unknown })?.code
    if (code !== 'SQLITE_CONSTRAINT_UNIQUE' && code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return undefined
    return /constraint failed: ([\w.]+)/.exec((err as Error).message)?.[1] ?? 'unknown'
  },
  async tableExists(db, table) {
    const { rows } = await sql`select 1 from sqlite_master where type = 'table' and name = ${table}`.execute(
      db,
    )
    return rows.length > 0
  },
  // BEGIN IMMEDIATE already holds the database's one write lock for the whole transaction.
  lockTransaction: async () => {},
  // The caller's in-process mutex (sql-store.ts) is the whole lock: one node per SQLite file.
  withLock: (_db, _name, fn) => fn(),
  notify: async () => {},
}

/**
 * PostgreSQL's unique constraints, by name, as the `table.column` SQLite would report. The primary
 * keys declared on a column get PostgreSQL's default name, `<table>_pkey`.
 */
const PG_UNIQUE_CONSTRAINTS: Readonly<Record<string, string>> = {
  users_pkey: 'users.id',
  users_username_key_unique: 'users.username_key',
  users_email_key_unique: 'users.email_key',
  clients_pkey: 'clients.client_id',
  signing_keys_pkey: 'signing_keys.kid',
  factors_pkey: 'factors.id',
  entities_name_unique: 'entities.name',
  identity_links_pk: 'identity_links.broker',
  identity_links_user_broker_unique: 'identity_links.user_id',
  passkeys_credential_id_key: 'passkeys.credential_id',
  passkeys_pkey: 'passkeys.factor_id',
}

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  jsonType: 'jsonb',
  rawJsonType: 'json',
  flagType: 'boolean',
  // pg parses json and jsonb values itself.
  readJson: (value) => value,
  toFlag: (value) => value,
  // 23505 unique_violation; the constraint name, unlike the message, is the same in every locale.
  uniqueViolation(err) {
    const e = err as { code?: unknown; constraint?: unknown; table?: unknown }
    if (e?.code !== '23505') return undefined
    const constraint = typeof e.constraint === 'string' ? e.constraint : ''
    return (
      PG_UNIQUE_CONSTRAINTS[constraint] ??
      (typeof e.table === 'string' ? `${e.table}.${constraint}` : 'unknown')
    )
  },
  async tableExists(db, table) {
    // to_regclass resolves the name through the search_path, as unqualified queries do.
    const { rows } = await sql<{ found: boolean }>`select to_regclass(${table}) is not null as found`.execute(
      db,
    )
    return rows[0]?.found === true
  },
  async lockTransaction(trx, name) {
    await sql`select pg_advisory_xact_lock(${lockKey(name)}::bigint)`.execute(trx)
  },
  // A transaction-level lock on a connection of its own: released by commit or rollback, and by the
  // server if this process dies, so it can never be left held (a session-level lock on a pooled
  // connection could be).
  withLock: (db, name, fn) =>
    db.transaction().execute(async (trx) => {
      await postgresDialect.lockTransaction(trx, name)
      return fn()
    }),
  async notify(trx, channel, payload) {
    await sql`select pg_notify(${channel}, ${payload})`.execute(trx)
  },
}

/** The advisory lock key of `name`: 64 bits of its sha256, as the decimal text of a signed bigint. */
function lockKey(name: string): string {
  return createHash('sha256').update(`gatehouse:${name}`).digest().readBigInt64BE(0).toString()
}
