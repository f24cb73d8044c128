/**
 * The gateway's own entities for the database mode (issue 7): services, routes, consumers, plugins and
 * credentials as JSON documents keyed by type and id, and a change counter nodes poll to learn that the
 * configuration changed (lib/entities.ts). Uniqueness beyond a name per type (a consumer's custom_id,
 * an API key) is checked by the loader on every write (db-mode/). Documents are PostgreSQL `json`, not
 * `jsonb`: they are read whole and never queried, and `json` keeps their keys in the order written, so an
 * export reads like the file it came from.
 */
import { type Kysely, sql } from 'kysely'
import type { MigrationDialect } from './index.ts'

export async function up(db: Kysely<unknown>, { rawJsonType }: MigrationDialect): Promise<void> {
  await db.schema
    .createTable('entities')
    .addColumn('entity_type', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('document', rawJsonType, (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('entities_pk', ['entity_type', 'id'])
    .addUniqueConstraint('entities_name_unique', ['entity_type', 'name'])
    .execute()

  await db.schema
    .createTable('config_version')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addCheckConstraint('config_version_one_row', sql`id = 1`)
    .execute()
  await sql`insert into config_version (id, version) values (1, 0)`.execute(db)
}
