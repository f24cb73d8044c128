/**
 * The Store on embedded SQLite (better-sqlite3): the default for one node. The queries are the shared
 * SQL layer (lib/sql-store.ts); this file opens the file and tunes SQLite for a server:
 * - WAL, so readers (the CLI, a second process) never block the writer; synchronous NORMAL, which in WAL
 *   mode can lose the last commits on power loss but never corrupts;
 * - busy_timeout, so a writer waits for another process's write instead of failing at once;
 * - every transaction BEGIN IMMEDIATE: it takes the write lock up front, so a read-then-write
 *   transaction (a config sync, a migration) never fails half-way with SQLITE_BUSY when another
 *   process wrote in between; kysely's default BEGIN (deferred) would;
 * - migrations in a transaction: SQLite has transactional DDL, which kysely's adapter does not claim.
 */
import { closeSync, existsSync, openSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import BetterSqlite3 from 'better-sqlite3'
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  Kysely,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
} from 'kysely'
import { sqliteDialect } from './lib/dialect.ts'
import { SqlStore } from './lib/sql-store.ts'
import type { Database } from './lib/tables.ts'
import { reportingUnavailable } from './lib/unavailable.ts'
import { StoreError } from './store.ts'

/** Milliseconds a write waits for another connection's write lock. */
const BUSY_TIMEOUT_MS = 5000

export class SqliteStore extends SqlStore {
  /** The database file, or `:memory:`. */
  readonly path: string

  private constructor(path: string, db: Kysely<Database>) {
    super({ db, dialect: sqliteDialect })
    this.path = path
  }

  /**
   * Opens (creating when missing) the database file; does not migrate. Throws a StoreError naming the
   * path when the folder does not exist or the file is not a usable SQLite database.
   */
  static async open(path: string): Promise<SqliteStore> {
    if (path !== ':memory:') {
      const folder = dirname(path)
      if (!existsSync(folder) || !statSync(folder).isDirectory())
        throw new StoreError(`cannot open the SQLite database ${path}: the folder ${folder} does not exist`)
      createPrivately(path)
    }
    let sqlite: BetterSqlite3.Database | undefined
    try {
      sqlite = new BetterSqlite3(path)
      sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
      sqlite.pragma('journal_mode = WAL')
      sqlite.pragma('synchronous = NORMAL')
      sqlite.pragma('foreign_keys = ON')
    } catch (err) {
      sqlite?.close()
      throw new StoreError(`cannot open the SQLite database ${path}: ${(err as Error).message}`)
    }
    const db = new Kysely<Database>({
      dialect: reportingUnavailable(new ServerSqliteDialect({ database: sqlite }), sqliteUnavailable, path),
    })
    return new SqliteStore(path, db)
  }
}

/**
 * Creates a missing database file readable by its owner only (0600): it holds password hashes, sealed
 * keys and the provider's refresh tokens and sessions, which another user of the host must not read.
 * SQLite gives the -wal and -shm files the database file's permissions. An existing file is left as the
 * operator made it (docs/security.md says to keep it 0600).
 */
function createPrivately(path: string): void {
  try {
    closeSync(openSync(path, 'wx', 0o600))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new StoreError(`cannot create the SQLite database ${path}: ${(err as Error).message}`)
  }
}

/**
 * Whether better-sqlite3's error means the file cannot be used now: locked by another process's write
 * for longer than busy_timeout (BUSY, LOCKED), or unreadable, unwritable or out of space (CANTOPEN,
 * IOERR, READONLY, FULL), extended codes included (SQLITE_IOERR_WRITE, ...).
 */
export function sqliteUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|READONLY|FULL)(_|$)/.test(code)
}

class ServerSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig

  constructor(config: SqliteDialectConfig) {
    super(config)
    this.#config = config
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config)
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter()
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'))
  }
}

class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true
  }
}
