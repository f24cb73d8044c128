/**
 * Every schema migration, in order. A migration is never edited once released: a change is a new file
 * with the next number, added here. The names are what the migration table records, so they never change.
 */
import type { Migration, MigrationProvider } from 'kysely/migration'
import * as m001 from './001_identity.ts'

export const MIGRATIONS: Readonly<Record<string, Migration>> = Object.freeze({
  '001_identity': m001,
})

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...MIGRATIONS }),
}
