/**
 * Versioned schema migrations through kysely's Migrator: applied in order, recorded in
 * `gatehouse_migration`, under kysely's migration lock (an advisory lock on PostgreSQL, so two
 * `gatehouse migrate` at once apply each migration once). A database that has applied a migration this
 * code does not know was written by a newer Gatehouse, and is refused rather than used with a schema the
 * code cannot read.
 */
import type { Kysely } from 'kysely'
import { Migrator } from 'kysely/migration'
import { MIGRATIONS, migrationProvider } from '../migrations/index.ts'
import { StoreError } from '../store.ts'
import type { SqlDialect } from './dialect.ts'

const MIGRATION_TABLE = 'gatehouse_migration'
const MIGRATION_LOCK_TABLE = 'gatehouse_migration_lock'

/** Applies pending migrations; returns their names (none when up to date). */
export async function migrateToLatest(db: Kysely<unknown>, dialect: SqlDialect): Promise<string[]> {
  refuseNewer(await appliedMigrations(db, dialect))
  const migrator = new Migrator({
    db,
    provider: migrationProvider(dialect),
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  })
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName
    const reason = error instanceof Error ? error.message : String(error)
    throw new StoreError(
      failed ? `migration ${failed} failed: ${reason}` : `cannot migrate the database: ${reason}`,
    )
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName)
}

/** Throws a StoreError unless the database has applied exactly the migrations this code knows. */
export async function checkSchema(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  const applied = await appliedMigrations(db, dialect)
  refuseNewer(applied)
  const pending = Object.keys(MIGRATIONS).filter((name) => !applied.includes(name))
  if (pending.length > 0)
    throw new StoreError(
      `the database schema is older than this version of Gatehouse expects (pending migrations: ${pending.join(', ')}); run \`gatehouse migrate\``,
    )
}

async function appliedMigrations(db: Kysely<unknown>, dialect: SqlDialect): Promise<string[]> {
  if (!(await dialect.tableExists(db, MIGRATION_TABLE))) return []
  const rows = await (db as Kysely<Record<typeof MIGRATION_TABLE, { name: string }>>)
    .selectFrom(MIGRATION_TABLE)
    .select('name')
    .execute()
  return rows.map((r) => r.name)
}

function refuseNewer(applied: readonly string[]): void {
  const unknown = applied.filter((name) => !Object.hasOwn(MIGRATIONS, name)).sort()
  if (unknown.length > 0)
    throw new StoreError(
      `the database was migrated by a newer version of Gatehouse (unknown migrations: ${unknown.join(', ')}); upgrade Gatehouse to use it`,
    )
}
