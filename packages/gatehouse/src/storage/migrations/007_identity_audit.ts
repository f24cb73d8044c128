/**
 * The identity audit trail (issue 14): one row per change an administrator made to a user, client,
 * signing key or revocation, through the admin API or the CLI. Append-only and on purpose without a
 * foreign key to users: the trail of a removed user is what an investigation needs most. Actor and
 * detail are JSON objects of scalars, chosen field by field (identity/manage/audit.ts), never a secret.
 *
 * `id` is the database's own counter (SQLite AUTOINCREMENT never reuses one, even after a prune; a
 * PostgreSQL sequence is shared by every node), so the trail is listed and paged by it rather than by
 * `at`, which comes from the clocks of several nodes and has a resolution of a second. Hence the indexes
 * end in `id`; the one on `at` serves pruning by date.
 */
import type { Kysely } from 'kysely'
import type { MigrationDialect } from './index.ts'

export async function up(db: Kysely<unknown>, { name, jsonType }: MigrationDialect): Promise<void> {
  await db.schema
    .createTable('identity_audit')
    .addColumn('id', name === 'postgres' ? 'bigserial' : 'integer', (c) =>
      name === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('actor_via', 'text', (c) => c.notNull())
    .addColumn('actor', jsonType, (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    .addColumn('target_name', 'text')
    .addColumn('detail', jsonType, (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('identity_audit_target')
    .on('identity_audit')
    .columns(['target_type', 'target_id', 'id'])
    .execute()
  await db.schema
    .createIndex('identity_audit_action')
    .on('identity_audit')
    .columns(['action', 'id'])
    .execute()
  await db.schema.createIndex('identity_audit_at').on('identity_audit').column('at').execute()
}
