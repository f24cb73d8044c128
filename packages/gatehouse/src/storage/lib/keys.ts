/**
 * Signing keys over SQL. Every change bumps `signing_key_version` in the same transaction, so a node
 * polls one row to learn that keys rotated, in this process or any other.
 */
import type { Transaction, Updateable } from 'kysely'
import { type KeyStore, type StoredSigningKey, StoreNotFoundError } from '../store.ts'
import { conflictsNamed, type SqlContext } from './context.ts'
import type { Database, SigningKeyRow } from './tables.ts'

type KeyPatch = Partial<Omit<StoredSigningKey, 'kid' | 'alg' | 'encrypted_jwk' | 'created_at'>>

export class SqlKeyStore implements KeyStore {
  readonly #ctx: SqlContext

  constructor(ctx: SqlContext) {
    this.#ctx = ctx
  }

  async list(): Promise<StoredSigningKey[]> {
    return this.#ctx.db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute()
  }

  async insert(key: StoredSigningKey): Promise<void> {
    const row: SigningKeyRow = { ...key }
    await conflictsNamed(
      this.#ctx,
      () =>
        this.#ctx.db.transaction().execute(async (trx) => {
          await trx.insertInto('signing_keys').values(row).execute()
          await bump(trx)
        }),
      () => `kid '${key.kid}' is already taken`,
    )
  }

  async update(kid: string, patch: KeyPatch): Promise<void> {
    const set: Updateable<SigningKeyRow> = {}
    if (patch.state !== undefined) set.state = patch.state
    if (patch.activate_at !== undefined) set.activate_at = patch.activate_at
    if (patch.retired_at !== undefined) set.retired_at = patch.retired_at
    if (patch.delete_after !== undefined) set.delete_after = patch.delete_after
    const found = await this.#ctx.db.transaction().execute(async (trx) => {
      if (Object.keys(set).length === 0)
        return (
          (await trx.selectFrom('signing_keys').select('kid').where('kid', '=', kid).executeTakeFirst()) !==
          undefined
        )
      const result = await trx.updateTable('signing_keys').set(set).where('kid', '=', kid).executeTakeFirst()
      if (result.numUpdatedRows === 0n) return false
      await bump(trx)
      return true
    })
    if (!found) throw new StoreNotFoundError(`no signing key '${kid}'`)
  }

  async remove(kid: string): Promise<void> {
    await this.#ctx.db.transaction().execute(async (trx) => {
      const result = await trx.deleteFrom('signing_keys').where('kid', '=', kid).executeTakeFirst()
      if (result.numDeletedRows > 0n) await bump(trx)
    })
  }

  async version(): Promise<number> {
    const row = await this.#ctx.db
      .selectFrom('signing_key_version')
      .select('version')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow()
    return Number(row.version)
  }
}

async function bump(trx: Transaction<Database>): Promise<void> {
  await trx
    .updateTable('signing_key_version')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('id', '=', 1)
    .execute()
}
