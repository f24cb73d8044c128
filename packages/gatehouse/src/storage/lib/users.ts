/** Identity users over SQL: case-insensitive unique username and e-mail through lower-cased key columns. */
import { randomUUID } from 'node:crypto'
import { isDeepStrictEqual } from 'node:util'
import type { Insertable, Selectable, Updateable } from 'kysely'
import {
  type ConfigUserSeed,
  type ConfigUsersSynced,
  StoreConflictError,
  type StoredUser,
  StoreNotFoundError,
  type UserStore,
} from '../store.ts'
import { caseKey, conflictsNamed, type SqlContext } from './context.ts'
import { fromFlag } from './dialect.ts'
import { writePolicy } from './factors.ts'
import type { UserRow } from './tables.ts'

type UserSeed = Omit<ConfigUserSeed, 'mfa'>

export class SqlUserStore implements UserStore {
  readonly #ctx: SqlContext

  constructor(ctx: SqlContext) {
    this.#ctx = ctx
  }

  async get(id: string): Promise<StoredUser | undefined> {
    const row = await this.#ctx.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
    return row && this.#toUser(row)
  }

  async findByUsername(username: string): Promise<StoredUser | undefined> {
    const row = await this.#ctx.db
      .selectFrom('users')
      .selectAll()
      .where('username_key', '=', caseKey(username))
      .executeTakeFirst()
    return row && this.#toUser(row)
  }

  async findByEmail(email: string): Promise<StoredUser | undefined> {
    const row = await this.#ctx.db
      .selectFrom('users')
      .selectAll()
      .where('email_key', '=', caseKey(email))
      .executeTakeFirst()
    return row && this.#toUser(row)
  }

  async list(): Promise<StoredUser[]> {
    const rows = await this.#ctx.db
      .selectFrom('users')
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .execute()
    return rows.map((r) => this.#toUser(r))
  }

  async insert(user: StoredUser): Promise<void> {
    const row: Insertable<UserRow> = {
      id: user.id,
      ...this.#seedColumns(user),
      source: user.source,
      created_at: user.created_at,
      updated_at: user.updated_at,
    }
    await conflictsNamed(
      this.#ctx,
      () => this.#ctx.db.insertInto('users').values(row).execute(),
      conflictMessage(user.username, user.id),
    )
  }

  async update(id: string, patch: Partial<Omit<StoredUser, 'id' | 'created_at'>>): Promise<void> {
    const set: Updateable<UserRow> = {}
    if (patch.username !== undefined) {
      set.username = patch.username
      set.username_key = caseKey(patch.username)
    }
    if (patch.email !== undefined) {
      set.email = patch.email
      set.email_key = patch.email === null ? null : caseKey(patch.email)
    }
    if (patch.password_hash !== undefined) set.password_hash = patch.password_hash
    if (patch.roles !== undefined) set.roles = JSON.stringify(patch.roles)
    if (patch.claims !== undefined) set.claims = JSON.stringify(patch.claims)
    if (patch.disabled !== undefined) set.disabled = this.#ctx.dialect.toFlag(patch.disabled)
    if (patch.source !== undefined) set.source = patch.source
    if (patch.updated_at !== undefined) set.updated_at = patch.updated_at

    const found =
      Object.keys(set).length === 0
        ? (await this.get(id)) !== undefined
        : (
            await conflictsNamed(
              this.#ctx,
              () => this.#ctx.db.updateTable('users').set(set).where('id', '=', id).executeTakeFirst(),
              conflictMessage(patch.username, id),
            )
          ).numUpdatedRows > 0n
    if (!found) throw new StoreNotFoundError(`no user with id '${id}'`)
  }

  async replacePasswordHash(id: string, expected: string, next: string, updatedAt: number): Promise<boolean> {
    const result = await this.#ctx.db
      .updateTable('users')
      .set({ password_hash: next, updated_at: updatedAt })
      .where('id', '=', id)
      .where('password_hash', '=', expected)
      .executeTakeFirst()
    return result.numUpdatedRows > 0n
  }

  async remove(id: string): Promise<boolean> {
    const result = await this.#ctx.db.deleteFrom('users').where('id', '=', id).executeTakeFirst()
    return result.numDeletedRows > 0n
  }

  async syncConfigUsers(seeds: readonly ConfigUserSeed[], now: number): Promise<ConfigUsersSynced> {
    return this.#ctx.db.transaction().execute(async (trx) => {
      await this.#ctx.dialect.lockTransaction(trx, 'config-users')
      const existing = new Map(
        (await trx.selectFrom('users').selectAll().execute()).map((r) => [r.username_key, r]),
      )
      const policies = new Map(
        (await trx.selectFrom('factor_settings').select(['user_id', 'mfa']).execute()).map((r) => [
          r.user_id,
          r.mfa,
        ]),
      )
      const listed = new Set(seeds.map((s) => caseKey(s.username)))
      const gone = [...existing.values()]
        .filter((r) => r.source === 'config' && !listed.has(r.username_key))
        .map((r) => r.id)
      if (gone.length > 0) await trx.deleteFrom('users').where('id', 'in', gone).execute()
      // Free the e-mail keys that change first, so that two users can swap addresses in one sync.
      const moving = seeds.flatMap((s) => {
        const row = existing.get(caseKey(s.username))
        return row && row.email_key !== emailKey(s.email) ? [row.id] : []
      })
      if (moving.length > 0)
        await trx.updateTable('users').set({ email_key: null }).where('id', 'in', moving).execute()

      const takenOver: string[] = []
      const mfaCleared: string[] = []
      for (const seed of seeds) {
        const row = existing.get(caseKey(seed.username))
        const columns = this.#seedColumns(seed)
        const conflict = conflictMessage(seed.username, row?.id ?? '')
        if (row !== undefined && seed.id != null && row.id !== seed.id)
          throw new StoreConflictError(
            'id',
            `user '${seed.username}' already exists with id '${row.id}', not '${seed.id}': an id cannot change (remove the user first: gatehouse users remove ${seed.username})`,
          )
        const id = row?.id ?? seed.id ?? randomUUID()
        if (row === undefined) {
          const values = {
            id,
            ...columns,
            source: 'config' as const,
            created_at: now,
            updated_at: now,
          }
          await conflictsNamed(this.#ctx, () => trx.insertInto('users').values(values).execute(), conflict)
        } else if (row.source === 'cli' || differs(this.#toUser(row), seed)) {
          const set = { ...columns, source: 'config' as const, updated_at: now }
          await conflictsNamed(
            this.#ctx,
            () => trx.updateTable('users').set(set).where('id', '=', row.id).execute(),
            conflict,
          )
          if (row.source === 'cli') takenOver.push(seed.username)
        }
        const had = policies.get(id) ?? null
        const wanted = seed.mfa ?? null
        if (wanted !== had) {
          await writePolicy(trx, id, wanted, now)
          if (wanted === null) mfaCleared.push(seed.username)
        }
      }
      return { takenOver, mfaCleared }
    })
  }

  #seedColumns(user: UserSeed): Omit<Insertable<UserRow>, 'id' | 'source' | 'created_at' | 'updated_at'> {
    return {
      username: user.username,
      username_key: caseKey(user.username),
      email: user.email,
      email_key: emailKey(user.email),
      password_hash: user.password_hash,
      roles: JSON.stringify(user.roles),
      claims: JSON.stringify(user.claims),
      disabled: this.#ctx.dialect.toFlag(user.disabled),
    }
  }

  #toUser(row: Selectable<UserRow>): StoredUser {
    const { readJson } = this.#ctx.dialect
    return {
      id: row.id,
      username: row.username,
      email: row.email,
      password_hash: row.password_hash,
      roles: readJson(row.roles) as string[],
      claims: readJson(row.claims) as Record<string, string | number | boolean>,
      disabled: fromFlag(row.disabled),
      source: row.source,
      created_at: row.created_at,
      updated_at: row.updated_at,
    }
  }
}

const SEED_FIELDS = ['username', 'email', 'password_hash', 'roles', 'claims', 'disabled'] as const

/** Compared as values, not as stored: jsonb keeps an object's keys in its own order. */
function differs(user: StoredUser, seed: UserSeed): boolean {
  return SEED_FIELDS.some((k) => !isDeepStrictEqual(user[k], seed[k]))
}

const emailKey = (email: string | null): string | null => (email === null ? null : caseKey(email))

function conflictMessage(username: string | undefined, id: string): (field: string) => string {
  return (field) => {
    if (field === 'username') return `username '${username}' is already taken`
    if (field === 'email')
      return `${username === undefined ? 'that e-mail address' : `the e-mail address of '${username}'`} is already taken by another user`
    return `user id '${id}' is already taken`
  }
}
