/**
 * oidc-provider's artefacts over SQL, one table for every model. grantId, uid and userCode are copied
 * out of the payload into indexed columns, for revokeByGrantId, findByUid and findByUserCode. An expired
 * row is never returned, whether or not deleteExpired has run yet.
 */
import type { Expression, ExpressionBuilder, Insertable, SqlBool } from 'kysely'
import type { OidcRecord, OidcStore } from '../store.ts'
import type { SqlContext } from './context.ts'
import type { Database, OidcRow } from './tables.ts'

export class SqlOidcStore implements OidcStore {
  readonly #ctx: SqlContext

  constructor(ctx: SqlContext) {
    this.#ctx = ctx
  }

  /**
   * Replaces the payload and expiry. A consumed artefact stays consumed: saving it again (oidc-provider
   * re-saves models) must not make a used code or rotated refresh token usable again.
   */
  async upsert(
    model: string,
    id: string,
    payload: Record<string, unknown>,
    expiresInSeconds: number | undefined,
    now: number,
  ): Promise<void> {
    const row: Insertable<OidcRow> = {
      model,
      id,
      payload: JSON.stringify(payload),
      grant_id: stringOrNull(payload.grantId),
      uid: stringOrNull(payload.uid),
      user_code: stringOrNull(payload.userCode),
      account_id: stringOrNull(payload.accountId),
      expires_at: expiresInSeconds === undefined ? null : now + expiresInSeconds,
      consumed_at: null,
    }
    await this.#ctx.db
      .insertInto('oidc_artifacts')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['model', 'id']).doUpdateSet((eb) => ({
          payload: eb.ref('excluded.payload'),
          grant_id: eb.ref('excluded.grant_id'),
          uid: eb.ref('excluded.uid'),
          user_code: eb.ref('excluded.user_code'),
          account_id: eb.ref('excluded.account_id'),
          expires_at: eb.ref('excluded.expires_at'),
        })),
      )
      .execute()
  }

  find(model: string, id: string, now: number): Promise<OidcRecord | undefined> {
    return this.#findWhere(model, now, (eb) => eb('id', '=', id))
  }

  findByUid(model: string, uid: string, now: number): Promise<OidcRecord | undefined> {
    return this.#findWhere(model, now, (eb) => eb('uid', '=', uid))
  }

  findByUserCode(model: string, userCode: string, now: number): Promise<OidcRecord | undefined> {
    return this.#findWhere(model, now, (eb) => eb('user_code', '=', userCode))
  }

  /** Keeps the first consumption time: a second consume is a replay, not a new use. */
  async consume(model: string, id: string, now: number): Promise<void> {
    await this.#ctx.db
      .updateTable('oidc_artifacts')
      .set({ consumed_at: now })
      .where('model', '=', model)
      .where('id', '=', id)
      .where('consumed_at', 'is', null)
      .execute()
  }

  async take(model: string, id: string, now: number): Promise<Record<string, unknown> | undefined> {
    const row = await this.#ctx.db
      .deleteFrom('oidc_artifacts')
      .where('model', '=', model)
      .where('id', '=', id)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .returning('payload')
      .executeTakeFirst()
    return row === undefined
      ? undefined
      : (this.#ctx.dialect.readJson(row.payload) as Record<string, unknown>)
  }

  async destroy(model: string, id: string): Promise<void> {
    await this.#ctx.db.deleteFrom('oidc_artifacts').where('model', '=', model).where('id', '=', id).execute()
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    await this.#ctx.db.deleteFrom('oidc_artifacts').where('grant_id', '=', grantId).execute()
  }

  async deleteExpired(now: number): Promise<number> {
    const result = await this.#ctx.db
      .deleteFrom('oidc_artifacts')
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', now)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  async listByAccount(
    model: string,
    accountId: string,
    now: number,
  ): Promise<(OidcRecord & { readonly id: string })[]> {
    const rows = await this.#ctx.db
      .selectFrom('oidc_artifacts')
      .select(['id', 'payload', 'expires_at', 'consumed_at'])
      .where('account_id', '=', accountId)
      .where('model', '=', model)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .execute()
    const records = rows.map((row) => ({
      id: row.id,
      payload: this.#ctx.dialect.readJson(row.payload) as Record<string, unknown>,
      expires_at: row.expires_at,
      consumed_at: row.consumed_at,
    }))
    const iat = (r: { payload: Record<string, unknown> }) =>
      typeof r.payload.iat === 'number' ? r.payload.iat : 0
    return records.sort((a, b) => iat(a) - iat(b) || (a.id < b.id ? -1 : 1))
  }

  async deleteByAccount(accountId: string): Promise<number> {
    const result = await this.#ctx.db
      .deleteFrom('oidc_artifacts')
      .where('account_id', '=', accountId)
      .executeTakeFirst()
    return Number(result.numDeletedRows)
  }

  async #findWhere(
    model: string,
    now: number,
    match: (eb: ExpressionBuilder<Database, 'oidc_artifacts'>) => Expression<SqlBool>,
  ): Promise<OidcRecord | undefined> {
    const row = await this.#ctx.db
      .selectFrom('oidc_artifacts')
      .select(['payload', 'expires_at', 'consumed_at'])
      .where('model', '=', model)
      .where(match)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirst()
    if (row === undefined) return undefined
    return {
      payload: this.#ctx.dialect.readJson(row.payload) as Record<string, unknown>,
      expires_at: row.expires_at,
      consumed_at: row.consumed_at,
    }
  }
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null)
