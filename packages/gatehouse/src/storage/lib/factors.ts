/**
 * Second factors over SQL. The two single-use rules are each one conditional UPDATE, never a read then
 * a write, so concurrent sign-ins (in this process or on other nodes) cannot both pass: a TOTP step is
 * taken only while it is later than the last one taken, a recovery code only while it is unused.
 */
import type { Transaction } from 'kysely'
import {
  type FactorStore,
  type MfaPolicy,
  type StoredFactor,
  type StoredPasskey,
  StoreNotFoundError,
} from '../store.ts'
import { conflictsNamed, type SqlContext } from './context.ts'
import { fromFlag } from './dialect.ts'
import type { Database, PasskeyRow } from './tables.ts'

export class SqlFactorStore implements FactorStore {
  readonly #ctx: SqlContext

  constructor(ctx: SqlContext) {
    this.#ctx = ctx
  }

  list(userId: string): Promise<StoredFactor[]> {
    return this.#ctx.db
      .selectFrom('factors')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute()
  }

  get(id: string): Promise<StoredFactor | undefined> {
    return this.#ctx.db.selectFrom('factors').selectAll().where('id', '=', id).executeTakeFirst()
  }

  async insert(factor: StoredFactor): Promise<void> {
    await conflictsNamed(
      this.#ctx,
      () =>
        this.#ctx.db.transaction().execute(async (trx) => {
          await userMustExist(trx, factor.user_id)
          await trx
            .insertInto('factors')
            .values({ ...factor })
            .execute()
        }),
      () => `factor id '${factor.id}' is already taken`,
    )
  }

  async remove(id: string): Promise<boolean> {
    const result = await this.#ctx.db.deleteFrom('factors').where('id', '=', id).executeTakeFirst()
    return result.numDeletedRows > 0n
  }

  async acceptStep(id: string, step: number, now: number): Promise<boolean> {
    const result = await this.#ctx.db
      .updateTable('factors')
      .set({ last_step: step, last_used_at: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  }

  async insertPasskey(factor: StoredFactor, passkey: StoredPasskey): Promise<void> {
    await conflictsNamed(
      this.#ctx,
      () =>
        this.#ctx.db.transaction().execute(async (trx) => {
          await userMustExist(trx, factor.user_id)
          await trx
            .insertInto('factors')
            .values({ ...factor })
            .execute()
          await trx
            .insertInto('passkeys')
            .values({
              ...passkey,
              factor_id: factor.id,
              transports: JSON.stringify(passkey.transports),
              backed_up: this.#ctx.dialect.toFlag(passkey.backed_up),
            })
            .execute()
        }),
      () => `factor id '${factor.id}' or this passkey is already registered`,
    )
  }

  async findPasskey(
    credentialId: string,
  ): Promise<{ factor: StoredFactor; passkey: StoredPasskey } | undefined> {
    const row = await this.#ctx.db
      .selectFrom('passkeys')
      .selectAll()
      .where('credential_id', '=', credentialId)
      .executeTakeFirst()
    if (row === undefined) return undefined
    const factor = await this.get(row.factor_id)
    return factor === undefined ? undefined : { factor, passkey: passkeyOf(row) }
  }

  async passkeys(userId: string): Promise<StoredPasskey[]> {
    const rows = await this.#ctx.db
      .selectFrom('passkeys')
      .innerJoin('factors', 'factors.id', 'passkeys.factor_id')
      .selectAll('passkeys')
      .where('factors.user_id', '=', userId)
      .orderBy('factors.created_at')
      .orderBy('factors.id')
      .execute()
    return rows.map(passkeyOf)
  }

  async acceptCounter(factorId: string, counter: number, now: number): Promise<boolean> {
    return this.#ctx.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('passkeys')
        .set({ counter })
        .where('factor_id', '=', factorId)
        // 0 after 0: an authenticator that keeps no counter (most synced passkeys); else strictly up.
        .where('counter', counter === 0 ? '=' : '<', counter)
        .executeTakeFirst()
      if (result.numUpdatedRows === 0n) return false
      await trx.updateTable('factors').set({ last_used_at: now }).where('id', '=', factorId).execute()
      return true
    })
  }

  async rename(userId: string, id: string, name: string): Promise<boolean> {
    const result = await this.#ctx.db
      .updateTable('factors')
      .set({ name })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  }

  async replaceRecoveryCodes(userId: string, hashes: readonly string[], now: number): Promise<void> {
    await this.#ctx.db.transaction().execute(async (trx) => {
      await userMustExist(trx, userId)
      await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
      if (hashes.length > 0)
        await trx
          .insertInto('recovery_codes')
          .values([...new Set(hashes)].map((code_hash) => ({ user_id: userId, code_hash, created_at: now })))
          .execute()
    })
  }

  async consumeRecoveryCode(userId: string, hash: string, now: number): Promise<boolean> {
    const result = await this.#ctx.db
      .updateTable('recovery_codes')
      .set({ used_at: now })
      .where('user_id', '=', userId)
      .where('code_hash', '=', hash)
      .where('used_at', 'is', null)
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  }

  async recoveryCodesLeft(userId: string): Promise<number> {
    const row = await this.#ctx.db
      .selectFrom('recovery_codes')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('left'))
      .where('user_id', '=', userId)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow()
    return Number(row.left)
  }

  removeAll(userId: string): Promise<number> {
    return this.#ctx.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute()
      const result = await trx.deleteFrom('factors').where('user_id', '=', userId).executeTakeFirst()
      return Number(result.numDeletedRows)
    })
  }

  async policy(userId: string): Promise<MfaPolicy | null> {
    const row = await this.#ctx.db
      .selectFrom('factor_settings')
      .select('mfa')
      .where('user_id', '=', userId)
      .executeTakeFirst()
    return row?.mfa ?? null
  }

  async setPolicy(userId: string, mfa: MfaPolicy | null, now: number): Promise<void> {
    await this.#ctx.db.transaction().execute(async (trx) => {
      await userMustExist(trx, userId)
      await writePolicy(trx, userId, mfa, now)
    })
  }
}

function passkeyOf(row: PasskeyRow): StoredPasskey {
  return {
    factor_id: row.factor_id,
    credential_id: row.credential_id,
    public_key: row.public_key,
    counter: Number(row.counter),
    transports: JSON.parse(row.transports) as string[],
    backed_up: fromFlag(row.backed_up),
    aaguid: row.aaguid,
  }
}

/**
 * A clear StoreNotFoundError instead of each dialect's foreign-key error. The check and the write share
 * a transaction; a user removed in between still cannot leave an orphan (the foreign key refuses it).
 */
async function userMustExist(trx: Transaction<Database>, userId: string): Promise<void> {
  const found = await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst()
  if (found === undefined) throw new StoreNotFoundError(`no user with id '${userId}'`)
}

/**
 * Sets the user's own mfa policy (null: none of its own) inside `trx`: FactorStore.setPolicy, and the
 * sync of the users a configuration file declares (users.ts).
 */
export async function writePolicy(
  trx: Transaction<Database>,
  userId: string,
  mfa: MfaPolicy | null,
  now: number,
): Promise<void> {
  if (mfa === null) {
    await trx.deleteFrom('factor_settings').where('user_id', '=', userId).execute()
    return
  }
  await trx
    .insertInto('factor_settings')
    .values({ user_id: userId, mfa, updated_at: now })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ mfa, updated_at: now }))
    .execute()
}
