/**
 * Users' links to external OpenID Connect providers over SQL (migration 004). A new account created by
 * a first external sign-in is written with its link in one transaction, so an account never exists
 * without the identity it was made for, nor a link without its user.
 */
import type { Insertable, Selectable } from 'kysely'
import {
  type LinkStore,
  StoreConflictError,
  type StoredLink,
  type StoredUser,
  StoreNotFoundError,
} from '../store.ts'
import { caseKey, conflictsNamed, type SqlContext } from './context.ts'
import type { LinkRow, UserRow } from './tables.ts'

export class SqlLinkStore implements LinkStore {
  readonly #ctx: SqlContext

  constructor(ctx: SqlContext) {
    this.#ctx = ctx
  }

  async find(broker: string, subject: string): Promise<StoredLink | undefined> {
    const row = await this.#ctx.db
      .selectFrom('identity_links')
      .selectAll()
      .where('broker', '=', broker)
      .where('subject', '=', subject)
      .executeTakeFirst()
    return row && toLink(row)
  }

  async listByUser(userId: string): Promise<StoredLink[]> {
    const rows = await this.#ctx.db
      .selectFrom('identity_links')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('broker')
      .execute()
    return rows.map(toLink)
  }

  async insert(link: StoredLink): Promise<void> {
    await this.#written(() => this.#ctx.db.insertInto('identity_links').values(linkRow(link)).execute(), link)
  }

  async insertUserWithLink(user: StoredUser, link: StoredLink): Promise<void> {
    const { toFlag } = this.#ctx.dialect
    const row: Insertable<UserRow> = {
      id: user.id,
      username: user.username,
      username_key: caseKey(user.username),
      email: user.email,
      email_key: user.email === null ? null : caseKey(user.email),
      password_hash: user.password_hash,
      roles: JSON.stringify(user.roles),
      claims: JSON.stringify(user.claims),
      disabled: toFlag(user.disabled),
      source: user.source,
      created_at: user.created_at,
      updated_at: user.updated_at,
    }
    await this.#written(
      () =>
        this.#ctx.db.transaction().execute(async (trx) => {
          await conflictsNamed(
            this.#ctx,
            () => trx.insertInto('users').values(row).execute(),
            (field) => `the new user's ${field} is already taken`,
          )
          await trx.insertInto('identity_links').values(linkRow(link)).execute()
        }),
      link,
    )
  }

  async touch(
    broker: string,
    subject: string,
    seen: { email: string | null; username: string | null },
    now: number,
  ): Promise<void> {
    await this.#ctx.db
      .updateTable('identity_links')
      .set({ last_used_at: now, email: seen.email, username: seen.username })
      .where('broker', '=', broker)
      .where('subject', '=', subject)
      .execute()
  }

  async remove(userId: string, broker: string): Promise<boolean> {
    const result = await this.#ctx.db
      .deleteFrom('identity_links')
      .where('user_id', '=', userId)
      .where('broker', '=', broker)
      .executeTakeFirst()
    return result.numDeletedRows > 0n
  }

  /** A write, its unique violations named (conflictsNamed) and a missing user a StoreNotFoundError. */
  async #written(write: () => Promise<unknown>, link: StoredLink): Promise<void> {
    try {
      await conflictsNamed(this.#ctx, write, (field) =>
        field === 'broker'
          ? `the user already has a link to '${link.broker}'`
          : `that '${link.broker}' identity is already linked to a user`,
      )
    } catch (err) {
      if (err instanceof StoreConflictError || !isForeignKeyViolation(err)) throw err
      throw new StoreNotFoundError(`no user with id '${link.user_id}'`)
    }
  }
}

/** SQLite's and PostgreSQL's (23503) foreign key violation: here, always a link to a missing user. */
function isForeignKeyViolation(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code
  return code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || code === '23503'
}

function linkRow(link: StoredLink): Insertable<LinkRow> {
  return { ...link }
}

function toLink(row: Selectable<LinkRow>): StoredLink {
  return {
    broker: row.broker,
    subject: row.subject,
    user_id: row.user_id,
    email: row.email,
    username: row.username,
    created_at: Number(row.created_at),
    last_used_at: row.last_used_at === null ? null : Number(row.last_used_at),
  }
}
