/**
 * The gateway's entities over SQL (DB mode). Every write is one transaction that first moves
 * `config_version` from the version the writer read to the next one (`where version = expected`), so two
 * writers that read the same version cannot both commit: on PostgreSQL the second waits for the first's
 * row lock and then matches nothing. The same transaction notifies listening nodes (PostgreSQL), who
 * also poll the version (the only way on SQLite).
 */
import type { Insertable, Selectable, Transaction } from 'kysely'
import {
  type EntityChanges,
  type EntitySnapshot,
  type EntityStore,
  StoreConflictError,
  type StoredEntity,
} from '../store.ts'
import { conflictsNamed, type SqlContext } from './context.ts'
import type { Database, EntityRow } from './tables.ts'

/** The NOTIFY channel; the payload is the new version. */
export const ENTITIES_CHANNEL = 'gatehouse_entities'

/** A snapshot read while writers keep committing is retried this many times before failing. */
const SNAPSHOT_ATTEMPTS = 20

export class SqlEntityStore implements EntityStore {
  readonly #ctx: SqlContext

  constructor(ctx: SqlContext) {
    this.#ctx = ctx
  }

  /**
   * The version, the rows, the version again: equal versions mean no write committed in between (a
   * write moves the version in its own transaction), so the rows are that version's, at any isolation.
   */
  async snapshot(): Promise<EntitySnapshot> {
    for (let attempt = 1; ; attempt++) {
      const before = await this.version()
      const rows = await this.#ctx.db
        .selectFrom('entities')
        .selectAll()
        .orderBy('entity_type')
        .orderBy('created_at')
        .orderBy('id')
        .execute()
      if ((await this.version()) === before)
        return { version: before, entities: rows.map((row) => this.#entity(row)) }
      if (attempt >= SNAPSHOT_ATTEMPTS)
        throw new StoreConflictError('version', 'the entities kept changing while being read')
    }
  }

  async version(): Promise<number> {
    const row = await this.#ctx.db
      .selectFrom('config_version')
      .select('version')
      .where('id', '=', 1)
      .executeTakeFirstOrThrow()
    return Number(row.version)
  }

  apply(expected: number, changes: EntityChanges): Promise<number> {
    return this.#write(expected, async (trx) => {
      for (const { type, id } of changes.remove)
        await trx.deleteFrom('entities').where('entity_type', '=', type).where('id', '=', id).execute()
      for (const entity of changes.upsert)
        await trx
          .insertInto('entities')
          .values(this.#row(entity))
          .onConflict((oc) =>
            oc.columns(['entity_type', 'id']).doUpdateSet((eb) => ({
              name: eb.ref('excluded.name'),
              document: eb.ref('excluded.document'),
              updated_at: eb.ref('excluded.updated_at'),
            })),
          )
          .execute()
    })
  }

  replace(expected: number, entities: readonly StoredEntity[]): Promise<number> {
    return this.#write(expected, async (trx) => {
      await trx.deleteFrom('entities').execute()
      // In chunks: SQLite takes at most 32766 parameters per statement.
      for (let i = 0; i < entities.length; i += 500)
        await trx
          .insertInto('entities')
          .values(entities.slice(i, i + 500).map((e) => this.#row(e)))
          .execute()
    })
  }

  async watch(onChange: () => void): Promise<() => Promise<void>> {
    if (this.#ctx.listen === undefined) return async () => {}
    return this.#ctx.listen(ENTITIES_CHANNEL, onChange)
  }

  async #write(expected: number, body: (trx: Transaction<Database>) => Promise<void>): Promise<number> {
    const next = expected + 1
    return conflictsNamed(
      this.#ctx,
      () =>
        this.#ctx.db.transaction().execute(async (trx) => {
          const moved = await trx
            .updateTable('config_version')
            .set({ version: next })
            .where('id', '=', 1)
            .where('version', '=', expected)
            .executeTakeFirst()
          if (moved.numUpdatedRows === 0n)
            throw new StoreConflictError('version', `the entities changed since version ${expected}`)
          await body(trx)
          await this.#ctx.dialect.notify(trx, ENTITIES_CHANNEL, String(next))
          return next
        }),
      () => 'another entity of the same type has this name',
    )
  }

  #row(entity: StoredEntity): Insertable<EntityRow> {
    return {
      entity_type: entity.type,
      id: entity.id,
      name: entity.name,
      document: JSON.stringify(entity.document),
      created_at: entity.created_at,
      updated_at: entity.updated_at,
    }
  }

  #entity(row: Selectable<EntityRow>): StoredEntity {
    return {
      type: row.entity_type,
      id: row.id,
      name: row.name,
      document: this.#ctx.dialect.readJson(row.document) as Record<string, unknown>,
      created_at: row.created_at,
      updated_at: row.updated_at,
    }
  }
}
