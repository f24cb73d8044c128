/**
 * A configuration from the store: the file's settings and the stored entities as one document, through
 * the same loader as a file (config/load.ts), then each entity given its stored created_at and
 * updated_at (the loader stamps the load time). The assembly is the same for a node's reload and for
 * a write's candidate (writer.ts), so what a write is checked against is exactly what nodes will run.
 */
import { deepFreeze, type LoadOptions, loadConfigObject } from '../config/load.ts'
import type { GatewayConfig } from '../config/model.ts'
import { ConfigError, type ConfigIssue } from '../errors/errors.ts'
import type { StoredEntity } from '../storage/store.ts'
import { assemble } from './documents.ts'
import type { EntityKind } from './kinds.ts'

export interface EntitiesLoad {
  readonly settings: Readonly<Record<string, unknown>>
  /** In the order they are to appear in their lists (issue paths count in this order). */
  readonly entities: readonly StoredEntity[]
  readonly kinds: readonly EntityKind[]
  readonly source: string
  readonly options: LoadOptions
}

/** Throws the loader's ConfigError as is: its paths count in `entities` (see issueAt). */
export function loadEntities(load: EntitiesLoad): GatewayConfig {
  const config = loadConfigObject(
    assemble(load.settings, load.entities, load.kinds),
    load.source,
    load.options,
  )
  return withTimestamps(config, load.entities)
}

/** Where an issue lies: the entity (by its list and position in `entities`) and the path inside it. */
export function issueAt(
  issue: ConfigIssue,
  entities: readonly StoredEntity[],
): { entity: StoredEntity; path: string } | null {
  const m = /^([a-z_]+)\[(\d+)\](.*)$/.exec(issue.path)
  if (m === null) return null
  const entity = entities.filter((e) => e.type === m[1])[Number(m[2])]
  return entity ? { entity, path: m[3]!.replace(/^\./, '') } : null
}

/** The error with each entity named by id (`routes[<id>].paths[0]`): positions mean nothing in a database. */
export function byId(err: ConfigError, entities: readonly StoredEntity[]): ConfigError {
  const issues = err.issues.map((issue) => {
    const at = issueAt(issue, entities)
    if (at === null) return issue
    const rest = at.path === '' || at.path.startsWith('[') ? at.path : `.${at.path}`
    return { path: `${at.entity.type}[${at.entity.id}]${rest}`, message: issue.message }
  })
  return new ConfigError(err.source, issues, err.code)
}

function withTimestamps(config: GatewayConfig, entities: readonly StoredEntity[]): GatewayConfig {
  const stored = new Map(entities.map((e) => [`${e.type}\0${e.id}`, e]))
  const stamp = <T extends { readonly id: string }>(type: string, list: readonly T[]): T[] =>
    list.map((entity) => {
      const row = stored.get(`${type}\0${entity.id}`)
      if (!row) return entity
      return 'updated_at' in entity
        ? { ...entity, created_at: row.created_at, updated_at: row.updated_at }
        : { ...entity, created_at: row.created_at }
    })
  return deepFreeze({
    ...config,
    services: stamp('services', config.services),
    routes: stamp('routes', config.routes),
    consumers: stamp('consumers', config.consumers),
    plugins: stamp('plugins', config.plugins),
    credentials: Object.fromEntries(
      Object.entries(config.credentials).map(([type, list]) => [type, stamp(type, list)]),
    ),
  })
}
