/**
 * A declarative document's entities into the store, all or nothing (`gatehouse config import`, and an
 * empty database seeded from the configuration file): checked by the loader as the file it is (issues
 * name the file's own paths), stored as the entities it declares with the ids the loader gave them (so
 * a DB-less file's stable ids carry over), checked again in the form nodes will load, and written in
 * one transaction that replaces every stored entity.
 */
import { isDeepStrictEqual } from 'node:util'
import { checkRuntime } from '../config/check-runtime.ts'
import { loadConfigObject } from '../config/load.ts'
import { ConfigError } from '../errors/errors.ts'
import type { StoredEntity } from '../storage/store.ts'
import { entitiesFromDocument } from './documents.ts'
import { byId, loadEntities } from './load.ts'
import type { EntityContext } from './writer.ts'

export interface ImportPlan {
  /** What the store would hold. */
  readonly entities: readonly StoredEntity[]
  /** The version it was planned on. */
  readonly version: number
  /** Per type: how many are new, changed, removed and unchanged. */
  readonly changes: Readonly<
    Record<string, { created: number; updated: number; deleted: number; unchanged: number }>
  >
}

/** Checks `document` (from `source`) and plans the import; throws ConfigError naming the document's paths. */
export async function planImport(
  ctx: EntityContext,
  document: Record<string, unknown>,
  source: string,
): Promise<ImportPlan> {
  const candidate: Record<string, unknown> = { ...ctx.settings }
  for (const kind of ctx.kinds)
    if (document[kind.type] !== undefined) candidate[kind.type] = document[kind.type]
  const loaded = loadConfigObject(candidate, source, ctx.options)
  const snapshot = await ctx.store.entities.snapshot()
  const now = Math.floor(Date.now() / 1000)
  const entities = entitiesFromDocument(candidate, loaded, ctx.kinds, snapshot.entities, now)
  try {
    await checkRuntime(loadEntities({ ...ctx, entities }), ctx.registry)
  } catch (err) {
    throw err instanceof ConfigError ? byId(err, entities) : err
  }
  return {
    entities,
    version: snapshot.version,
    changes: diff(
      snapshot.entities,
      entities,
      ctx.kinds.map((k) => k.type),
    ),
  }
}

/** Writes a plan; a StoreConflictError on `version` when the entities changed since it was made. */
export function commitImport(ctx: EntityContext, plan: ImportPlan): Promise<number> {
  return ctx.store.entities.replace(plan.version, plan.entities)
}

function diff(before: readonly StoredEntity[], after: readonly StoredEntity[], types: readonly string[]) {
  const key = (e: StoredEntity) => `${e.type}\0${e.id}`
  const old = new Map(before.map((e) => [key(e), e]))
  const kept = new Set(after.map(key))
  const changes: Record<string, { created: number; updated: number; deleted: number; unchanged: number }> = {}
  for (const type of types) changes[type] = { created: 0, updated: 0, deleted: 0, unchanged: 0 }
  for (const e of after) {
    const counts = changes[e.type]!
    const was = old.get(key(e))
    if (was === undefined) counts.created++
    else if (isDeepStrictEqual(was.document, e.document)) counts.unchanged++
    else counts.updated++
  }
  for (const e of before) if (!kept.has(key(e)) && changes[e.type]) changes[e.type]!.deleted++
  return changes
}
