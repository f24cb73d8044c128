/** Identity clients over SQL; the list fields are JSON documents, the secret only ever a keyed hash. */
import { isDeepStrictEqual } from 'node:util'
import type { Insertable, Selectable } from 'kysely'
import type { ClientStore, StoredClient } from '../store.ts'
import { conflictsNamed, type SqlContext } from './context.ts'
import { fromFlag } from './dialect.ts'
import type { ClientRow } from './tables.ts'

type ClientSeed = Omit<StoredClient, 'source' | 'created_at' | 'updated_at'>
type SeedColumns = Omit<Insertable<ClientRow>, 'client_id' | 'source' | 'created_at' | 'updated_at'>

export class SqlClientStore implements ClientStore {
  readonly #ctx: SqlContext

  constructor(ctx: SqlContext) {
    this.#ctx = ctx
  }

  async get(clientId: string): Promise<StoredClient | undefined> {
    const row = await this.#ctx.db
      .selectFrom('clients')
      .selectAll()
      .where('client_id', '=', clientId)
      .executeTakeFirst()
    return row && this.#toClient(row)
  }

  async list(): Promise<StoredClient[]> {
    const rows = await this.#ctx.db
      .selectFrom('clients')
      .selectAll()
      .orderBy('created_at')
      .orderBy('client_id')
      .execute()
    return rows.map((r) => this.#toClient(r))
  }

  async insert(client: StoredClient): Promise<void> {
    const row: Insertable<ClientRow> = {
      client_id: client.client_id,
      ...this.#seedColumns(client),
      source: client.source,
      created_at: client.created_at,
      updated_at: client.updated_at,
    }
    await conflictsNamed(
      this.#ctx,
      () => this.#ctx.db.insertInto('clients').values(row).execute(),
      () => `client_id '${client.client_id}' is already taken`,
    )
  }

  async remove(clientId: string): Promise<boolean> {
    const result = await this.#ctx.db
      .deleteFrom('clients')
      .where('client_id', '=', clientId)
      .executeTakeFirst()
    return result.numDeletedRows > 0n
  }

  async syncConfigClients(seeds: readonly ClientSeed[], now: number): Promise<string[]> {
    return this.#ctx.db.transaction().execute(async (trx) => {
      await this.#ctx.dialect.lockTransaction(trx, 'config-clients')
      const existing = new Map(
        (await trx.selectFrom('clients').selectAll().execute()).map((r) => [r.client_id, r]),
      )
      const listed = new Set(seeds.map((s) => s.client_id))
      const gone = [...existing.values()]
        .filter((r) => r.source === 'config' && !listed.has(r.client_id))
        .map((r) => r.client_id)
      if (gone.length > 0) await trx.deleteFrom('clients').where('client_id', 'in', gone).execute()

      const takenOver: string[] = []
      for (const seed of seeds) {
        const row = existing.get(seed.client_id)
        const columns = this.#seedColumns(seed)
        if (row === undefined) {
          await trx
            .insertInto('clients')
            .values({
              client_id: seed.client_id,
              ...columns,
              source: 'config',
              created_at: now,
              updated_at: now,
            })
            .execute()
        } else if (row.source === 'cli' || differs(this.#toClient(row), seed)) {
          await trx
            .updateTable('clients')
            .set({ ...columns, source: 'config', updated_at: now })
            .where('client_id', '=', seed.client_id)
            .execute()
          if (row.source === 'cli') takenOver.push(seed.client_id)
        }
      }
      return takenOver
    })
  }

  #seedColumns(client: ClientSeed): SeedColumns {
    return {
      secret_hash: client.secret_hash,
      client_name: client.client_name,
      redirect_uris: JSON.stringify(client.redirect_uris),
      post_logout_redirect_uris: JSON.stringify(client.post_logout_redirect_uris),
      grant_types: JSON.stringify(client.grant_types),
      scopes: JSON.stringify(client.scopes),
      resources: JSON.stringify(client.resources),
      first_party: this.#ctx.dialect.toFlag(client.first_party),
      mfa: client.mfa,
    }
  }

  #toClient(row: Selectable<ClientRow>): StoredClient {
    const list = (value: unknown) => this.#ctx.dialect.readJson(value) as string[]
    return {
      client_id: row.client_id,
      secret_hash: row.secret_hash,
      client_name: row.client_name,
      redirect_uris: list(row.redirect_uris),
      post_logout_redirect_uris: list(row.post_logout_redirect_uris),
      grant_types: list(row.grant_types),
      scopes: list(row.scopes),
      resources: list(row.resources),
      first_party: fromFlag(row.first_party),
      mfa: row.mfa,
      source: row.source,
      created_at: row.created_at,
      updated_at: row.updated_at,
    }
  }
}

const SEED_FIELDS = [
  'secret_hash',
  'client_name',
  'redirect_uris',
  'post_logout_redirect_uris',
  'grant_types',
  'scopes',
  'resources',
  'first_party',
  'mfa',
] as const

function differs(client: StoredClient, seed: ClientSeed): boolean {
  return SEED_FIELDS.some((k) => !isDeepStrictEqual(client[k], seed[k]))
}
