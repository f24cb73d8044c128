/**
 * Passkeys (WebAuthn, issue 14): what a `passkey` factor of 003 needs beyond a name and dates, in a
 * table of its own keyed by the factor (so a passkey goes with its factor and its user). The credential
 * id is unique across users: a sign-in with a passkey alone finds the account by it. The public key is
 * not a secret (it only verifies); the signature counter is raised by one conditional UPDATE, so a
 * cloned authenticator replaying an old counter is caught however many nodes race.
 */
import type { Kysely } from 'kysely'
import type { MigrationDialect } from './index.ts'

export async function up(db: Kysely<unknown>, { flagType }: MigrationDialect): Promise<void> {
  await db.schema
    .createTable('passkeys')
    .addColumn('factor_id', 'text', (c) => c.primaryKey().references('factors.id').onDelete('cascade'))
    .addColumn('credential_id', 'text', (c) => c.notNull().unique())
    .addColumn('public_key', 'text', (c) => c.notNull())
    .addColumn('counter', 'bigint', (c) => c.notNull())
    .addColumn('transports', 'text', (c) => c.notNull())
    .addColumn('backed_up', flagType, (c) => c.notNull())
    .addColumn('aaguid', 'text', (c) => c.notNull())
    .execute()
}
