/**
 * Opens the configured store, ready to use. SQLite is one node's own file, so its migrations run here,
 * at every start, with nothing to coordinate; PostgreSQL, shared by several nodes, will instead check
 * the schema at start and leave migrating to `gatehouse migrate`.
 */
import type { GatewaySettings } from '../config/model.ts'
import { SqliteStore } from './sqlite.ts'
import type { Store } from './store.ts'

export interface OpenStoreOptions {
  /** Apply pending migrations. Default: true (`gatehouse migrate` opens without, to report what it applies). */
  readonly migrate?: boolean
}

export async function openStore(
  settings: GatewaySettings['storage'],
  options: OpenStoreOptions = {},
): Promise<Store> {
  const store = await SqliteStore.open(settings.sqlite.path)
  if (options.migrate === false) return store
  try {
    await store.migrate()
  } catch (err) {
    await store.close()
    throw err
  }
  return store
}
