/**
 * The identity audit trail over SQL (migration 007): rows are only inserted, listed newest first by the
 * database's own counter (keyset paging: `id < before`), and deleted only by a prune.
 */
import { sql } from 'kysely'
import type { AuditQuery, AuditRecord, AuditStore, StoredAuditEvent } from '../store.ts'
import type { SqlContext } from './context.ts'

export class SqlAuditStore implements AuditStore {
  readonly #ctx: SqlContext

  constructor(ctx: SqlContext) {
    this.#ctx = ctx
  }

  async record(event: AuditRecord): Promise<StoredAuditEvent> {
    const { id } = await this.#ctx.db
      .insertInto('identity_audit')
      .values({
        at: event.at,
        action: event.action,
        actor_via: event.actor.via,
        actor: JSON.stringify(event.actor),
        target_type: event.target.type,
        target_id: event.target.id,
        target_name: event.target.name,
        detail: JSON.stringify(event.detail),
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    return { id: Number(id), ...event }
  }

  async list(query: AuditQuery): Promise<StoredAuditEvent[]> {
    let select = this.#ctx.db.selectFrom('identity_audit').selectAll()
    const { target } = query
    if (target !== undefined) {
      select = select.where('target_type', '=', target.type)
      const { id, name } = target
      if (id !== undefined || name !== undefined)
        select = select.where((eb) =>
          eb.or([
            ...(id !== undefined ? [eb('target_id', '=', id)] : []),
            // Usernames are unique case-insensitively (users.username_key); a removed user's too.
            ...(name !== undefined ? [eb(sql<string>`lower(target_name)`, '=', name.toLowerCase())] : []),
          ]),
        )
    }
    if (query.action !== undefined) select = select.where('action', '=', query.action)
    if (query.before !== undefined) select = select.where('id', '<', query.before)
    const rows = await select.orderBy('id', 'desc').limit(query.limit).execute()
    const { readJson } = this.#ctx.dialect
    return rows.map((row) => ({
      id: Number(row.id),
      at: Number(row.at),
      action: row.action,
      actor: readJson(row.actor) as StoredAuditEvent['actor'],
      target: { type: row.target_type, id: row.target_id, name: row.target_name },
      detail: readJson(row.detail) as StoredAuditEvent['detail'],
    }))
  }

  async prune(at: number): Promise<number> {
    const result = await this.#ctx.db.deleteFrom('identity_audit').where('at', '<', at).executeTakeFirst()
    return Number(result.numDeletedRows)
  }
}
