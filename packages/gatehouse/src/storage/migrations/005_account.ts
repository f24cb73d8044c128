/**
 * The account page (issue 14): oidc-provider's artefacts carry the account they belong to in an indexed
 * column, copied out of the payload like grant_id, so a person's sessions can be listed and every
 * artefact of an account deleted at once ("sign out everywhere"). Rows written before this migration are
 * filled in from their payloads.
 */
import { type Kysely, sql } from 'kysely'
import type { MigrationDialect } from './index.ts'

export async function up(db: Kysely<unknown>, { name }: MigrationDialect): Promise<void> {
  await db.schema.alterTable('oidc_artifacts').addColumn('account_id', 'text').execute()
  const accountId =
    name === 'postgres' ? sql`payload::jsonb ->> 'accountId'` : sql`json_extract(payload, '$.accountId')`
  await sql`UPDATE oidc_artifacts SET account_id = ${accountId}`.execute(db)
  // Partial: client_credentials tokens, interactions and DPoP proofs have no account.
  await db.schema
    .createIndex('oidc_artifacts_account_id')
    .on('oidc_artifacts')
    .columns(['account_id', 'model'])
    .where('account_id', 'is not', null)
    .execute()
}
