/**
 * Read-only entity endpoints in Kong's shapes: `GET /services`, `/routes`, `/consumers`, `/plugins`,
 * `/upstreams`, one entity by id or name, and the nested lists (`/services/{s}/routes`,
 * `/routes/{r}/service`, `/upstreams/{u}/targets`, ...); `/upstreams/{u}/health` is upstream-health.ts.
 * Lists page as Kong's do (`size`, default 100, max 1000; an opaque `offset`; `next`) and filter by
 * `tags` (`a,b` all of, `a/b` any of). Writes answer 405: this node is DB-less.
 */
import type { GatewayConfig, PluginEntity, ServiceEntity, UpstreamEntity } from '../config/model.ts'
import { GatehouseError } from '../errors/errors.ts'
import type { AdminContext } from './context.ts'
import { type AdminRequest, sendError, sendJson } from './http.ts'
import { sendUpstreamHealth } from './upstream-health.ts'

type EntityType = 'services' | 'routes' | 'consumers' | 'plugins' | 'upstreams'
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

/** The nested paths that exist, and the entity type each one lists or shows. */
const NESTED: Readonly<Record<string, string>> = {
  'services/routes': 'routes',
  'services/plugins': 'plugins',
  'routes/service': 'services',
  'routes/plugins': 'plugins',
  'consumers/plugins': 'plugins',
  'upstreams/targets': 'targets',
  'upstreams/health': 'targets',
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

/** Handles `/{type}[/{key}[/{nested}]]`. Returns false when the path is not an entity path. */
export function handleEntities(ctx: AdminContext, a: AdminRequest): boolean {
  const m = /^\/(services|routes|consumers|plugins|upstreams)(?:\/([^/]+))?(?:\/([a-z-]+))?\/?$/.exec(a.path)
  if (m === null) return handleTarget(ctx, a)
  const type = m[1] as EntityType
  const nested = m[3]
  const nestedType = nested === undefined ? type : NESTED[`${type}/${nested}`]
  if (nestedType === undefined) {
    sendError(a.res, notFound())
    return true
  }
  let key: string | undefined
  try {
    key = m[2] === undefined ? undefined : decodeURIComponent(m[2])
  } catch {
    sendError(a.res, new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'invalid percent-encoding in the path'))
    return true
  }
  if (a.method !== 'GET' && a.method !== 'HEAD') {
    if (a.method === 'OPTIONS') {
      a.res.writeHead(204, { allow: 'GET, HEAD, OPTIONS' }).end()
      return true
    }
    sendError(a.res, methodNotAllowed(nestedType, a.method), {}, { allow: 'GET, HEAD, OPTIONS' })
    return true
  }
  const config = ctx.config()
  if (key === undefined) {
    sendPage(
      a,
      type === 'plugins'
        ? config.plugins.map(presentPlugin(config))
        : type === 'services'
          ? config.services.map(presentService(config))
          : config[type],
      `/${type}`,
    )
    return true
  }
  if (type === 'plugins' && key === 'enabled' && nested === undefined) {
    sendJson(a.res, 200, { enabled_plugins: ctx.registry.names() })
    return true
  }
  const entity = findEntity(config, type, key)
  if (!entity) {
    sendError(a.res, notFound())
    return true
  }
  if (nested === undefined) {
    sendJson(
      a.res,
      200,
      type === 'plugins'
        ? presentPlugin(config)(entity as PluginEntity)
        : type === 'services'
          ? presentService(config)(entity as ServiceEntity)
          : entity,
    )
    return true
  }
  const base = `/${type}/${encodeURIComponent(key)}/${nested}`
  const id = entity.id
  switch (`${type}/${nested}`) {
    case 'services/routes':
      sendPage(
        a,
        config.routes.filter((r) => r.service?.id === id),
        base,
      )
      return true
    case 'services/plugins':
      sendPage(a, config.plugins.filter((p) => p.service?.id === id).map(presentPlugin(config)), base)
      return true
    case 'routes/plugins':
      sendPage(a, config.plugins.filter((p) => p.route?.id === id).map(presentPlugin(config)), base)
      return true
    case 'consumers/plugins':
      sendPage(a, config.plugins.filter((p) => p.consumer?.id === id).map(presentPlugin(config)), base)
      return true
    case 'upstreams/targets':
      sendPage(
        a,
        config.targets.filter((t) => t.upstream.id === id),
        base,
      )
      return true
    case 'upstreams/health':
      sendUpstreamHealth(ctx, a, entity as UpstreamEntity)
      return true
    case 'routes/service': {
      const serviceId = 'service' in entity ? entity.service?.id : undefined
      const service = serviceId ? config.services.find((s) => s.id === serviceId) : undefined
      if (service) sendJson(a.res, 200, presentService(config)(service))
      else sendError(a.res, notFound())
      return true
    }
    default:
      sendError(a.res, notFound())
      return true
  }
}

/**
 * `GET /upstreams/{u}/targets/{id or host:port}`, and `POST .../healthy` or `.../unhealthy` to set a
 * target's health by hand on this node (Kong allows these without a database too); false when the path
 * is not one of them.
 */
function handleTarget(ctx: AdminContext, a: AdminRequest): boolean {
  const m = /^\/upstreams\/([^/]+)\/targets\/([^/]+)(?:\/(healthy|unhealthy))?$/.exec(a.path)
  if (m === null) return false
  const override = m[3]
  const allowed = override === undefined ? ['GET', 'HEAD'] : ['POST']
  if (!allowed.includes(a.method)) {
    sendError(a.res, methodNotAllowed('targets', a.method), {}, { allow: allowed.join(', ') })
    return true
  }
  let upstreamKey: string
  let targetKey: string
  try {
    upstreamKey = decodeURIComponent(m[1]!)
    targetKey = decodeURIComponent(m[2]!)
  } catch {
    sendError(a.res, new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'invalid percent-encoding in the path'))
    return true
  }
  const config = ctx.config()
  const upstream = findEntity(config, 'upstreams', upstreamKey)
  const target = upstream
    ? config.targets.find(
        (t) => t.upstream.id === upstream.id && (t.id === targetKey.toLowerCase() || t.target === targetKey),
      )
    : undefined
  if (!upstream || !target) sendError(a.res, notFound())
  else if (override === undefined) sendJson(a.res, 200, target)
  else if (
    ctx.upstreams
      .find(upstream as UpstreamEntity, config.targets)
      ?.setTargetHealth(target.id, override === 'healthy')
  )
    sendJson(a.res, 204, null)
  else sendError(a.res, notFound())
  return true
}

/**
 * A service as the admin API shows it: the private key of its upstream client certificate (mTLS) as
 * its vault reference, its file path, or "[redacted]" when it was written as PEM text.
 */
export function presentService(config: GatewayConfig): (s: ServiceEntity) => ServiceEntity {
  return (s) => {
    const cc = s.client_certificate
    if (cc === null || cc === undefined) return s
    const key = config.vaultReferences.get(cc.key) ?? (cc.key.includes('-----BEGIN') ? '[redacted]' : cc.key)
    return { ...s, client_certificate: { ...cc, key } }
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
