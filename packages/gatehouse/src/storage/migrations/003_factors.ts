/**
 * Second factors (issue 14): a user's factors, their recovery codes, their own `mfa` policy, and a
 * client's. A factor row is one authenticator: `totp` now, `passkey` to come (which adds what WebAuthn
 * needs in a migration of its own). The secret is sealed (identity/factors/seal.ts), never in clear;
 * `last_step` is the last TOTP time step accepted, raised by one conditional UPDATE, so a code is taken
 * once however many nodes race for it. Recovery codes are stored as keyed hashes only. Everything a
 * user owns goes with the user (ON DELETE CASCADE; SQLite runs with foreign_keys on).
 */
import { type Kysely, sql } from 'kysely'
import type { MigrationDialect } from './index.ts'

export async function up(db: Kysely<unknown>, _dialect: MigrationDialect): Promise<void> {
  await db.schema
    .createTable('factors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('last_step', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addCheckConstraint('factors_kind_check', sql`kind in ('totp', 'passkey')`)
    .execute()
  await db.schema.createIndex('factors_user_id').on('factors').column('user_id').execute()

  await db.schema
    .createTable('recovery_codes')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('code_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_hash'])
    .execute()

  await db.schema
    .createTable('factor_settings')
    .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('mfa', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint('factor_settings_mfa_check', sql`mfa in ('off', 'optional', 'required')`)
    .execute()

  // NULL: the client sets no policy of its own (the provider's default and the user's decide).
  await db.schema
    .alterTable('clients')
    .addColumn('mfa', 'text', (c) => c.check(sql`mfa in ('off', 'optional', 'required')`))
    .execute()
}
