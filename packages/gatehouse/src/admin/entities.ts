/**
 * Read-only entity endpoints in Kong's shapes: `GET /services`, `/routes`, `/consumers`, `/plugins`,
 * `/upstreams`, one entity by id or name, and the nested lists (`/services/{s}/routes`,
 * `/routes/{r}/service`, `/upstreams/{u}/targets`, ...); `/upstreams/{u}/health` is upstream-health.ts.
 * Lists page as Kong's do (`size`, default 100, max 1000; an opaque `offset`; `next`) and filter by
 * `tags` (`a,b` all of, `a/b` any of). Each export is one route's handler (routes.ts); writes are
 * writes.ts, and a DB-less node's 405 for them is dispatch.ts's.
 */
import {
  type EntityRef,
  type GatewayConfig,
  kongService,
  type PluginEntity,
  type RouteEntity,
  type ServiceEntity,
  type TargetEntity,
  type UpstreamEntity,
} from '../config/model.ts'
import { GatehouseError } from '../errors/errors.ts'
import { type AdminHandler, type AdminRequest, sendError, sendJson } from './http.ts'
import { sendUpstreamHealth } from './upstream-health.ts'

export type EntityType = 'services' | 'routes' | 'consumers' | 'plugins' | 'upstreams'
type AnyEntity = GatewayConfig[EntityType][number]

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** Finds by id, or by the entity's endpoint key (name, username or custom_id, instance_name). */
export function findEntity(config: GatewayConfig, type: EntityType, key: string): AnyEntity | undefined {
  const list = config[type] as readonly AnyEntity[]
  if (UUID.test(key)) {
    const byId = list.find((e) => e.id === key.toLowerCase())
    if (byId) return byId
  }
  const byKey = list.find((e) => {
    if ('username' in e) return e.username === key
    if ('instance_name' in e) return e.instance_name === key
    return 'name' in e && e.name === key
  })
  // A username wins over another consumer's custom_id of the same text.
  if (byKey || type !== 'consumers') return byKey
  return list.find((e) => 'custom_id' in e && e.custom_id === key)
}

export function notFound(): GatehouseError {
  return new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', 'Not found')
}

/** Kong's verbs (kong/db/strategies/off): insert → create, upsert → create or update, delete → remove. */
const WRITE_VERBS: Readonly<Record<string, string>> = {
  POST: 'create',
  PUT: 'create or update',
  PATCH: 'update',
  DELETE: 'remove',
}

export function methodNotAllowed(type: string, method: string): GatehouseError {
  const verb = WRITE_VERBS[method] ?? 'update'
  return new GatehouseError(
    'GH_ERR_ADMIN_METHOD_NOT_ALLOWED',
    `cannot ${verb} '${type}' entities when not using a database`,
  )
}

/** Kong's filter: `a,b` all of, `a/b` any of; mixing the two, or an empty tag, is refused. */
/** Anything a list endpoint pages: every entity has (nullable) tags. */
interface Tagged {
  readonly tags: readonly string[] | null
}

function tagFilter(filter: string | null): ((entity: Tagged) => boolean) | null {
  if (filter === null) return () => true
  const any = filter.includes('/')
  if (any && filter.includes(',')) return null
  const wanted = filter.split(any ? '/' : ',')
  if (wanted.some((t) => t === '')) return null
  return (entity) => {
    const tags = entity.tags ?? []
    return any ? wanted.some((t) => tags.includes(t)) : wanted.every((t) => tags.includes(t))
  }
}

/** Sends one page of `items`, Kong style. */
export function sendPage(a: AdminRequest, items: readonly Tagged[], basePath: string): void {
  const sizeText = a.query.get('size')
  const size = sizeText === null ? 100 : Number(sizeText)
  if (!Number.isInteger(size) || size < 1 || size > 1000) {
    sendError(
      a.res,
      new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'size must be an integer between 1 and 1000'),
    )
    return
  }
  const offsetText = a.query.get('offset')
  let start = 0
  if (offsetText !== null) {
    const decoded = Buffer.from(offsetText, 'base64url').toString()
    if (!/^\d{1,9}$/.test(decoded) || Buffer.from(decoded).toString('base64url') !== offsetText) {
      sendError(a.res, new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'invalid offset'))
      return
    }
    start = Number(decoded)
  }
  const tagsText = a.query.get('tags')
  const matches = tagFilter(tagsText)
  if (matches === null) {
    sendError(
      a.res,
      new GatehouseError(
        'GH_ERR_ADMIN_BAD_REQUEST',
        "invalid tags filter: use 'a,b' (all of) or 'a/b' (any of), not both",
      ),
    )
    return
  }
  const filtered = items.filter(matches)
  const data = filtered.slice(start, start + size)
  const more = start + size < filtered.length
  const offset = more ? Buffer.from(String(start + size)).toString('base64url') : null
  // The next link repeats the filter and size: the offset counts entries of the filtered list.
  const nextQuery = new URLSearchParams({
    ...(sizeText !== null ? { size: sizeText } : {}),
    ...(tagsText !== null ? { tags: tagsText } : {}),
  })
  const next = offset === null ? null : `${basePath}?${nextQuery}${nextQuery.size ? '&' : ''}offset=${offset}`
  sendJson(a.res, 200, offset === null ? { data, next } : { data, next, offset })
}

/** The list of one entity type's page: plugins and services as the admin API shows them. */
function presented(config: GatewayConfig, type: EntityType): readonly Tagged[] {
  if (type === 'plugins') return config.plugins.map(presentPlugin(config))
  if (type === 'services') return config.services.map(presentService(config))
  return config[type]
}

function present(config: GatewayConfig, type: EntityType, entity: AnyEntity): unknown {
  if (type === 'plugins') return presentPlugin(config)(entity as PluginEntity)
  if (type === 'services') return presentService(config)(entity as ServiceEntity)
  return entity
}

/** `GET /{type}`: one page of the entities. */
export function listEntities(type: EntityType): AdminHandler {
  return (ctx, a) => sendPage(a, presented(ctx.config(), type), `/${type}`)
}

/** `GET /{type}/{param}`: one entity by id or endpoint key. */
export function showEntity(type: EntityType, param: string): AdminHandler {
  return (ctx, a) => {
    const config = ctx.config()
    const entity = findEntity(config, type, a.params[param]!)
    if (entity === undefined) sendError(a.res, notFound())
    else sendJson(a.res, 200, present(config, type, entity))
  }
}

/** What refers to its parent by which field: a route's `service`, a plugin's `route`, a target's `upstream`. */
const PARENT_FIELD: Readonly<Record<string, string>> = {
  services: 'service',
  routes: 'route',
  consumers: 'consumer',
  upstreams: 'upstream',
}

/** The children of `childType` that belong to the entity the path's `param` names, or null when it is unknown. */
function childrenOf(
  config: GatewayConfig,
  parentType: EntityType,
  childType: 'routes' | 'plugins' | 'targets',
  key: string,
): readonly (AnyEntity | TargetEntity)[] | null {
  const parent = findEntity(config, parentType, key)
  if (parent === undefined) return null
  const field = PARENT_FIELD[parentType]!
  const list: readonly (AnyEntity | TargetEntity)[] =
    childType === 'targets' ? config.targets : config[childType]
  return list.filter((e) => (e as unknown as Record<string, EntityRef | null>)[field]?.id === parent.id)
}

/** `GET /{parent}/{param}/{child}`: one page of the parent's routes, plugins or targets. */
export function listChildren(
  parentType: EntityType,
  param: string,
  childType: 'routes' | 'plugins' | 'targets',
): AdminHandler {
  return (ctx, a) => {
    const config = ctx.config()
    const key = a.params[param]!
    const children = childrenOf(config, parentType, childType, key)
    if (children === null) return sendError(a.res, notFound())
    const shown = childType === 'plugins' ? (children as PluginEntity[]).map(presentPlugin(config)) : children
    sendPage(a, shown, `/${parentType}/${encodeURIComponent(key)}/${childType}`)
  }
}

/** `GET /{parent}/{param}/{child}/{childParam}`: one of the parent's routes or plugins. */
export function showChild(
  parentType: EntityType,
  param: string,
  childType: 'routes' | 'plugins',
  childParam: string,
): AdminHandler {
  return (ctx, a) => {
    const config = ctx.config()
    const children = childrenOf(config, parentType, childType, a.params[param]!)
    const child = findEntity(config, childType, a.params[childParam]!)
    if (children === null || child === undefined || !children.includes(child)) sendError(a.res, notFound())
    else sendJson(a.res, 200, present(config, childType, child))
  }
}

/** `GET /routes/{route}/service`. */
export const showRouteService: AdminHandler = (ctx, a) => {
  const config = ctx.config()
  const route = findEntity(config, 'routes', a.params.route!) as RouteEntity | undefined
  const service = route?.service ? config.services.find((s) => s.id === route.service!.id) : undefined
  if (service) sendJson(a.res, 200, presentService(config)(service))
  else sendError(a.res, notFound())
}

/** `GET /plugins/enabled`: the plugins this node can run. */
export const showEnabledPlugins: AdminHandler = (ctx, a) => {
  sendJson(a.res, 200, { enabled_plugins: ctx.registry.names() })
}

/** `GET /upstreams/{upstream}/health` (upstream-health.ts). */
export const showUpstreamHealth: AdminHandler = (ctx, a) => {
  const upstream = findEntity(ctx.config(), 'upstreams', a.params.upstream!)
  if (upstream === undefined) sendError(a.res, notFound())
  else sendUpstreamHealth(ctx, a, upstream as UpstreamEntity)
}

/** The upstream and its target the path names (by id, or the target's `host:port`). */
function findTarget(
  config: GatewayConfig,
  a: AdminRequest,
): { upstream: UpstreamEntity; target: TargetEntity } | undefined {
  const upstream = findEntity(config, 'upstreams', a.params.upstream!) as UpstreamEntity | undefined
  const key = a.params.target!
  const target = upstream
    ? config.targets.find(
        (t) => t.upstream.id === upstream.id && (t.id === key.toLowerCase() || t.target === key),
      )
    : undefined
  return upstream && target ? { upstream, target } : undefined
}

/** `GET /upstreams/{upstream}/targets/{target}`. */
export const showTarget: AdminHandler = (ctx, a) => {
  const found = findTarget(ctx.config(), a)
  if (found === undefined) sendError(a.res, notFound())
  else sendJson(a.res, 200, found.target)
}

/**
 * `POST /upstreams/{upstream}/targets/{target}/healthy` (or `unhealthy`): sets a target's health by hand
 * on this node (Kong allows these without a database too).
 */
export function setTargetHealth(healthy: boolean): AdminHandler {
  return (ctx, a) => {
    const config = ctx.config()
    const found = findTarget(config, a)
    if (
      found &&
      ctx.upstreams.find(found.upstream, config.targets)?.setTargetHealth(found.target.id, healthy)
    )
      sendJson(a.res, 204, null)
    else sendError(a.res, notFound())
  }
}

/**
 * A service as the admin API shows it: the private key of its upstream client certificate (mTLS) as
 * its vault reference, its file path, or "[redacted]" when it was written as PEM text.
 */
export function presentService(
  config: GatewayConfig,
): (s: ServiceEntity) => Omit<ServiceEntity, 'grpc' | 'protocol'> & { protocol: string } {
  return (s) => {
    const cc = s.client_certificate
    if (cc === null || cc === undefined) return kongService(s)
    const key = config.vaultReferences.get(cc.key) ?? (cc.key.includes('-----BEGIN') ? '[redacted]' : cc.key)
    return kongService({ ...s, client_certificate: { ...cc, key } })
  }
}

/** Plugin config keys whose values are secrets, whatever the plugin. */
const SECRET_KEYS = new Set(['secret', 'client_secret', 'password', 'token', 'api_key'])

/**
 * A plugin as the admin API shows it: a value read through a vault reference shows as the reference
 * (as Kong shows referenceable fields), and a secret written in the file itself as "[redacted]", so
 * reading the admin API never yields a client secret or a cookie-encryption key.
 */
export function presentPlugin(config: GatewayConfig): (p: PluginEntity) => PluginEntity {
  const hide = (value: unknown, key: string | null): unknown => {
    if (typeof value === 'string') {
      const reference = config.vaultReferences.get(value)
      if (reference !== undefined) return reference
      return key !== null && SECRET_KEYS.has(key) ? '[redacted]' : value
    }
    if (Array.isArray(value)) return value.map((v) => hide(v, null))
    if (typeof value === 'object' && value !== null)
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, hide(v, k)]))
    return value
  }
  return (p) => ({ ...p, config: hide(p.config, null) as PluginEntity['config'] })
}
