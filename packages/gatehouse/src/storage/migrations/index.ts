/**
 * Every schema migration, in order. A migration is never edited once released: a change is a new file
 * with the next number, added here. The names are what the migration table records, so they never change.
 * One list for both dialects: a migration takes the dialect's column types (lib/dialect.ts) where they
 * differ, so the version numbers mean the same schema in SQLite and PostgreSQL.
 */
import type { Kysely } from 'kysely'
import type { MigrationProvider } from 'kysely/migration'
import type { SqlDialect } from '../lib/dialect.ts'
import * as m001 from './001_identity.ts'
import * as m002 from './002_entities.ts'
import * as m003 from './003_factors.ts'
import * as m004 from './004_identity_links.ts'
import * as m005 from './005_account.ts'
import * as m006 from './006_passkeys.ts'
import * as m007 from './007_identity_audit.ts'

/** The column types a migration may need to tell the dialects apart. */
export type MigrationDialect = Pick<SqlDialect, 'name' | 'jsonType' | 'rawJsonType' | 'flagType'>

export interface GatehouseMigration {
  up(db: Kysely<unknown>, dialect: MigrationDialect): Promise<void>
}

export const MIGRATIONS: Readonly<Record<string, GatehouseMigration>> = Object.freeze({
  '001_identity': m001,
  '002_entities': m002,
  '003_factors': m003,
  '004_identity_links': m004,
  '005_account': m005,
  '006_passkeys': m006,
  '007_identity_audit': m007,
})

/** The migrations as kysely's Migrator runs them, for one dialect. */
export function migrationProvider(dialect: MigrationDialect): MigrationProvider {
  return {
    getMigrations: async () =>
      Object.fromEntries(
        Object.entries(MIGRATIONS).map(([name, m]) => [
          name,
          { up: (db: Kysely<unknown>) => m.up(db, dialect) },
        ]),
      ),
  }
}
