/**
 * Links between a local user and an identity at an external OpenID Connect provider (issue 14,
 * src/identity/broker/): one row per (provider, upstream subject), and at most one per user and provider.
 * The upstream's `sub` is the only key (OIDC Core §5.7: `iss` + `sub` is the one stable identifier); the
 * e-mail and username are copies for display, never matched on. A user's links go with the user.
 */
import type { Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('identity_links')
    .addColumn('broker', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('username', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addPrimaryKeyConstraint('identity_links_pk', ['broker', 'subject'])
    .addUniqueConstraint('identity_links_user_broker_unique', ['user_id', 'broker'])
    .addForeignKeyConstraint('identity_links_user_fk', ['user_id'], 'users', ['id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute()
}
