/**
 * One admin write in DB mode: plan it on a snapshot of the stored entities (plan.ts), load the whole
 * candidate configuration with the file's loader and build its runtime (as `gatehouse config check`
 * does), and only then commit it in one transaction that moves the configuration version on — which
 * fails, and the write is planned again, if another write committed since the snapshot. So every write
 * is judged by the same rules as a declarative file, and a refused one changes nothing. Callers hold the
 * store's `entities` lock (source.ts), so writers on every node take turns.
 */

import { checkRuntime } from '../config/check-runtime.ts'
import type { LoadOptions } from '../config/load.ts'
import type { GatewayConfig } from '../config/model.ts'
import { ConfigError, type ConfigIssue, GatehouseError } from '../errors/errors.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import { type Store, StoreConflictError, type StoredEntity } from '../storage/store.ts'
import { storedDocument, storedName } from './documents.ts'
import { type EntityKind, kindOf } from './kinds.ts'
import { issueAt, loadEntities } from './load.ts'
import { planWrite, type WritePlan, type WriteRequest } from './plan.ts'
import { presentEntity } from './present.ts'
import { schemaViolation, uniqueViolation } from './write-error.ts'

export interface EntityContext {
  readonly store: Store
  readonly registry: PluginRegistry
  readonly kinds: readonly EntityKind[]
  /** The configuration file without its entity sections, vault references unresolved. */
  readonly settings: Readonly<Record<string, unknown>>
  readonly options: LoadOptions
  /** Names the configuration in messages. */
  readonly source: string
}

export interface WriteOutcome {
  readonly status: 200 | 201 | 204
  /** The entity as the admin API shows it; null for a delete. */
  readonly body: unknown
  /** The configuration version the write made; null when it changed nothing. */
  readonly version: number | null
}

/** Writes that keep losing the race to others in a row before the client is told to retry. */
const ATTEMPTS = 5

export async function applyWrite(ctx: EntityContext, request: WriteRequest): Promise<WriteOutcome> {
  for (let attempt = 1; ; attempt++) {
    const snapshot = await ctx.store.entities.snapshot()
    const plan = planWrite(request, snapshot.entities, ctx.kinds, Math.floor(Date.now() / 1000))
    if (plan === null) return { status: 204, body: null, version: null }
    const config = await checkCandidate(ctx, plan)
    const focus = plan.focus
    const kind = focus === null ? null : kindOf(ctx.kinds, focus.type)
    const upsert: StoredEntity[] = []
    if (focus !== null && kind !== null) {
      const document = storedDocument(kind, config, focus.id, focus.document)
      upsert.push({ ...focus, name: storedName(kind, document), document })
    }
    try {
      const version = await ctx.store.entities.apply(snapshot.version, { upsert, remove: plan.remove })
      const body = focus === null || kind === null ? null : presentEntity(kind, config, focus.id)
      return { status: plan.status, body, version }
    } catch (err) {
      if (!(err instanceof StoreConflictError)) throw err
      if (err.field === 'name') throw uniqueViolation('name', { name: 'already exists' })
      if (attempt >= ATTEMPTS)
        throw new GatehouseError('GH_ERR_ADMIN_BUSY', 'the entities keep changing; retry the write')
    }
  }
}

/** The candidate's configuration, or a schema violation with the loader's (or a plugin's) issues. */
async function checkCandidate(ctx: EntityContext, plan: WritePlan): Promise<GatewayConfig> {
  try {
    const config = loadEntities({ ...ctx, entities: plan.entities })
    await checkRuntime(config, ctx.registry)
    return config
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    throw schemaViolation(err.issues.map((issue) => relative(issue, plan)))
  }
}

/**
 * An issue about the written entity with its path inside it (`url`, as Kong's `fields` name it; the
 * file's loader says `services[0].url`); one about another entity names it by id.
 */
function relative(issue: ConfigIssue, plan: WritePlan): ConfigIssue {
  const at = issueAt(issue, plan.entities)
  if (at === null) return issue
  if (at.entity === plan.focus) return { path: at.path, message: issue.message }
  const rest = at.path === '' ? '' : `.${at.path}`
  return { path: `${at.entity.type}[${at.entity.id}]${rest}`, message: issue.message }
}
