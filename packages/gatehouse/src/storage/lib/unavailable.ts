/**
 * The store says "unreachable" in one way: every failure of the database itself being out of reach
 * (refused or lost connections, PostgreSQL shutting down, the SQLite file locked or unreadable) leaves
 * the store as a StoreUnavailableError, whatever query failed, so callers (the admin API's 503
 * GH_ERR_STORE_UNAVAILABLE) need not know pg's or SQLite's error codes. This wraps the kysely driver,
 * the one place every query, transaction and connection passes; other errors pass through unchanged.
 */
import type {
  DatabaseConnection,
  Dialect,
  Driver,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
} from 'kysely'
import { StoreUnavailableError } from '../store.ts'

/** Tells whether a driver's error means the database cannot be reached. */
export type UnavailableTest = (err: unknown) => boolean

/** `dialect` whose unreachable-database errors become StoreUnavailableError naming `location`. */
export function reportingUnavailable(
  dialect: Dialect,
  unavailable: UnavailableTest,
  location: string,
): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createDriver: () =>
      new ReportingDriver(dialect.createDriver(), (err) => translate(err, unavailable, location)),
  }
}

function translate(err: unknown, unavailable: UnavailableTest, location: string): unknown {
  if (err instanceof StoreUnavailableError || !unavailable(err)) return err
  return new StoreUnavailableError(`the database ${location} cannot be reached: ${reason(err)}`, {
    cause: err,
  })
}

/** A driver error in a few words (an AggregateError, every address refused, has no message of its own). */
export function reason(err: unknown): string {
  const e = err as Error & { code?: string; errors?: unknown[] }
  if (e.message) return e.message
  if (Array.isArray(e.errors) && e.errors.length > 0) return reason(e.errors[0])
  return e.code ?? String(err)
}

type Translate = (err: unknown) => unknown

async function guarded<T>(translate: Translate, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    throw translate(err)
  }
}

/**
 * The inner driver's connections are handed out wrapped (their queries translated), and unwrapped again
 * for the inner driver's own methods, which rely on their private fields.
 */
class ReportingDriver implements Driver {
  readonly #inner: Driver
  readonly #translate: Translate
  readonly #wrapped = new WeakMap<DatabaseConnection, DatabaseConnection>()
  readonly #unwrapped = new WeakMap<DatabaseConnection, DatabaseConnection>()

  constructor(inner: Driver, translate: Translate) {
    this.#inner = inner
    this.#translate = translate
  }

  init(): Promise<void> {
    return guarded(this.#translate, () => this.#inner.init())
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await guarded(this.#translate, () => this.#inner.acquireConnection())
    let wrapped = this.#wrapped.get(connection)
    if (wrapped === undefined) {
      wrapped = this.#wrap(connection)
      this.#wrapped.set(connection, wrapped)
      this.#unwrapped.set(wrapped, connection)
    }
    return wrapped
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return guarded(this.#translate, () => this.#inner.beginTransaction(this.#inside(connection), settings))
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return guarded(this.#translate, () => this.#inner.commitTransaction(this.#inside(connection)))
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return guarded(this.#translate, () => this.#inner.rollbackTransaction(this.#inside(connection)))
  }

  // Both drivers this wraps (pg, better-sqlite3) have savepoints.
  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await guarded(this.#translate, async () =>
      this.#inner.savepoint!(this.#inside(connection), name, compile),
    )
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await guarded(this.#translate, async () =>
      this.#inner.rollbackToSavepoint!(this.#inside(connection), name, compile),
    )
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await guarded(this.#translate, async () =>
      this.#inner.releaseSavepoint!(this.#inside(connection), name, compile),
    )
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.#inner.releaseConnection(this.#inside(connection))
  }

  destroy(): Promise<void> {
    return this.#inner.destroy()
  }

  #inside(connection: DatabaseConnection): DatabaseConnection {
    return this.#unwrapped.get(connection) ?? connection
  }

  #wrap(connection: DatabaseConnection): DatabaseConnection {
    const translate = this.#translate
    return {
      executeQuery: <R>(query: Parameters<DatabaseConnection['executeQuery']>[0]): Promise<QueryResult<R>> =>
        guarded(translate, () => connection.executeQuery<R>(query)),
      streamQuery: <R>(query: Parameters<DatabaseConnection['streamQuery']>[0], chunkSize: number) =>
        connection.streamQuery<R>(query, chunkSize),
    }
  }
}
