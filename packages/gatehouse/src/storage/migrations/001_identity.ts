/**
 * The identity provider's tables: users, clients, oidc-provider artefacts, signing keys (and their
 * change counter), login throttling. Written with kysely's schema builder, so one migration serves both
 * dialects; constraints are named so that PostgreSQL's errors (which name the constraint, where SQLite
 * names the column) can be mapped to the field too. JSON and flag columns take the dialect's types
 * (jsonb, json and boolean in PostgreSQL); for SQLite they are text and integer, exactly as first
 * released.
 */
import { type Kysely, sql } from 'kysely'
import type { MigrationDialect } from './index.ts'

// Times are `bigint`: epoch seconds outlive a 32-bit integer in 2038 (SQLite stores both alike).
export async function up(
  db: Kysely<unknown>,
  { jsonType, rawJsonType, flagType }: MigrationDialect,
): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('username_key', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('email_key', 'text')
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('roles', jsonType, (c) => c.notNull())
    .addColumn('claims', jsonType, (c) => c.notNull())
    .addColumn('disabled', flagType, (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('users_username_key_unique', ['username_key'])
    .addUniqueConstraint('users_email_key_unique', ['email_key'])
    .addCheckConstraint('users_source_check', sql`source in ('config', 'cli')`)
    .execute()

  await db.schema
    .createTable('clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('secret_hash', 'text')
    .addColumn('client_name', 'text')
    .addColumn('redirect_uris', jsonType, (c) => c.notNull())
    .addColumn('post_logout_redirect_uris', jsonType, (c) => c.notNull())
    .addColumn('grant_types', jsonType, (c) => c.notNull())
    .addColumn('scopes', jsonType, (c) => c.notNull())
    .addColumn('resources', jsonType, (c) => c.notNull())
    .addColumn('first_party', flagType, (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint('clients_source_check', sql`source in ('config', 'cli')`)
    .execute()

  await db.schema
    .createTable('oidc_artifacts')
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('payload', rawJsonType, (c) => c.notNull())
    .addColumn('grant_id', 'text')
    .addColumn('uid', 'text')
    .addColumn('user_code', 'text')
    .addColumn('expires_at', 'bigint')
    .addColumn('consumed_at', 'bigint')
    .addPrimaryKeyConstraint('oidc_artifacts_pk', ['model', 'id'])
    .execute()
  // Partial indexes: most artefacts have no uid or user_code, and only the lookups below use them.
  await db.schema
    .createIndex('oidc_artifacts_grant_id')
    .on('oidc_artifacts')
    .column('grant_id')
    .where('grant_id', 'is not', null)
    .execute()
  await db.schema
    .createIndex('oidc_artifacts_uid')
    .on('oidc_artifacts')
    .columns(['model', 'uid'])
    .where('uid', 'is not', null)
    .execute()
  await db.schema
    .createIndex('oidc_artifacts_user_code')
    .on('oidc_artifacts')
    .columns(['model', 'user_code'])
    .where('user_code', 'is not', null)
    .execute()
  await db.schema
    .createIndex('oidc_artifacts_expires_at')
    .on('oidc_artifacts')
    .column('expires_at')
    .where('expires_at', 'is not', null)
    .execute()

  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('encrypted_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('activate_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .addColumn('delete_after', 'bigint')
    .addCheckConstraint('signing_keys_state_check', sql`state in ('next', 'active', 'retired')`)
    .execute()
  // A row, not SQLite's PRAGMA data_version: that one only sees other connections' commits, and a
  // PostgreSQL node needs the same counter.
  await db.schema
    .createTable('signing_key_version')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addCheckConstraint('signing_key_version_one_row', sql`id = 1`)
    .execute()
  await sql`insert into signing_key_version (id, version) values (1, 0)`.execute(db)

  await db.schema
    .createTable('login_throttle')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    .execute()
}
