/**
 * Opens the configured store, ready to use. SQLite is one node's own file, so its migrations run here,
 * at every start, with nothing to coordinate. PostgreSQL is shared by several nodes, which may run
 * different versions during a rolling upgrade: its schema is only checked here (an older one is refused,
 * saying to run `gatehouse migrate`), and changed by `gatehouse migrate` alone.
 */
import { type StorageSettings, storageLocation } from '../config/schema/storage.ts'
import { type Store, StoreError } from './store.ts'

export interface OpenStoreOptions {
  /**
   * Make the schema ready: SQLite applies pending migrations, PostgreSQL checks that none is pending.
   * Default: true (`gatehouse migrate` opens without, to apply them itself).
   */
  readonly migrate?: boolean
}

export async function openStore(settings: StorageSettings, options: OpenStoreOptions = {}): Promise<Store> {
  // Only the configured backend's driver is loaded: `pg` and its dependencies cost every command that
  // opens a SQLite store about 40 ms of start-up, and the other way round.
  const store =
    settings.postgres !== undefined
      ? await (await import('./postgres.ts')).PostgresStore.open(settings.postgres)
      : await (await import('./sqlite.ts')).SqliteStore.open(settings.sqlite.path)
  if (options.migrate === false) return store
  try {
    if (settings.postgres !== undefined) await store.checkSchema()
    else await store.migrate()
  } catch (err) {
    await store.close()
    if (err instanceof StoreError && settings.postgres !== undefined)
      throw new StoreError(`PostgreSQL database ${storageLocation(settings)}: ${err.message}`)
    throw err
  }
  return store
}
