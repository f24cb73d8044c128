/**
 * Turns a schema-checked declarative document into flat entity lists: nested entities get their
 * references filled in, top-level references by name or id are resolved, ids are assigned, and the
 * rules that span entities are checked (uniqueness, dangling references, plugin scopes, Kong's route
 * rules). Every problem is collected, none stops the others from being found. Over 400 lines: the
 * passes share the indexes they build, in one order; each entity kind's own checks live beside it
 * (normalize-credentials.ts, normalize-upstreams.ts, underscore-headers.ts, ...).
 */
import type { ConfigIssue } from '../errors/errors.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import {
  canonicalizePath,
  DEFAULT_PATH_POLICY,
  isPathRefusal,
  type PathPolicy,
} from '../router/normalize-path.ts'
import { EntityIndex } from './entity-index.ts'
import type {
  Composition,
  ConsumerEntity,
  GatewayConfig,
  PluginEntity,
  RouteEntity,
  ServiceEntity,
} from './model.ts'
import { normalizeComposition } from './normalize-composition.ts'
import { normalizeCredentials } from './normalize-credentials.ts'
import { normalizeUpstreams } from './normalize-upstreams.ts'
import type { DeclarativeDocument } from './schema/root.ts'
import { GRPC_PROTOCOLS, type Reference } from './schema/typedefs.ts'
import { stableId } from './stable-id.ts'
import { checkUnderscoreHeaders } from './underscore-headers.ts'

type RawService = NonNullable<DeclarativeDocument['services']>[number]
type RawRoute = NonNullable<DeclarativeDocument['routes']>[number]
type RawConsumer = NonNullable<DeclarativeDocument['consumers']>[number]
type RawPlugin = NonNullable<DeclarativeDocument['plugins']>[number]
type ScopeKind = 'service' | 'route' | 'consumer'

interface PendingRoute {
  raw: Omit<RawRoute, 'service'> & { service?: Reference | undefined }
  at: string
  serviceId?: string
}
interface PendingPlugin {
  raw: RawPlugin
  at: string
  fixed?: { kind: ScopeKind; id: string }
}

export type NormalizedEntities = Pick<
  GatewayConfig,
  'services' | 'routes' | 'consumers' | 'plugins' | 'upstreams' | 'targets' | 'credentials' | 'notices'
>

export function normalizeDocument(
  doc: DeclarativeDocument,
  registry: PluginRegistry,
  nowSeconds: number,
): { entities: NormalizedEntities; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = []
  const issue = (path: string, message: string) => issues.push({ path, message })
  const stamp = { created_at: nowSeconds, updated_at: nowSeconds }

  const services: ServiceEntity[] = []
  const routes: RouteEntity[] = []
  const consumers: ConsumerEntity[] = []
  const plugins: PluginEntity[] = []
  const pendingRoutes: PendingRoute[] = []
  const pendingPlugins: PendingPlugin[] = []

  const serviceIndex = new EntityIndex('service', issue)
  const routeIndex = new EntityIndex('route', issue)
  const consumerIndex = new EntityIndex('consumer', issue, 'username')

  for (const [i, raw] of (doc.services ?? []).entries()) {
    const at = `services[${i}]`
    const service = buildService(raw, at, issue, stamp)
    services.push(service)
    serviceIndex.add(service.id, raw.id !== undefined, at, [['name', service.name]])
    for (const [j, r] of (raw.routes ?? []).entries()) {
      pendingRoutes.push({ raw: r, at: `${at}.routes[${j}]`, serviceId: service.id })
    }
    for (const [k, p] of (raw.plugins ?? []).entries()) {
      pendingPlugins.push({ raw: p, at: `${at}.plugins[${k}]`, fixed: { kind: 'service', id: service.id } })
    }
  }
  for (const [i, r] of (doc.routes ?? []).entries()) pendingRoutes.push({ raw: r, at: `routes[${i}]` })

  const servicesById = new Map(services.map((s) => [s.id, s]))
  // The salvage pass (after schema errors) may lack the section; its defaults then stand in.
  const pathPolicy = doc.proxy?.path_normalization ?? DEFAULT_PATH_POLICY
  const routeSources: { entity: RouteEntity; at: string }[] = []
  for (const { raw, at, serviceId } of pendingRoutes) {
    let service: { id: string } | null = serviceId ? { id: serviceId } : null
    if (raw.service !== undefined) {
      const id = serviceIndex.resolve(raw.service, `${at}.service`)
      if (id) service = { id }
    }
    const composition =
      raw.composition === undefined
        ? null
        : normalizeComposition(
            raw.composition,
            {
              at,
              name: raw.name ?? null,
              nested: serviceId !== undefined,
              hasService: raw.service !== undefined,
              paths: raw.paths ?? null,
            },
            { index: serviceIndex, byId: servicesById },
            issue,
          )
    const route = buildRoute(raw, at, service, composition, pathPolicy, issue, stamp)
    routes.push(route)
    routeSources.push({ entity: route, at })
    routeIndex.add(route.id, raw.id !== undefined, at, [['name', route.name]])
    for (const [k, p] of (raw.plugins ?? []).entries()) {
      pendingPlugins.push({ raw: p, at: `${at}.plugins[${k}]`, fixed: { kind: 'route', id: route.id } })
    }
  }

  const consumerSources: { entity: ConsumerEntity; raw: Record<string, unknown>; at: string }[] = []
  for (const [i, raw] of (doc.consumers ?? []).entries()) {
    const at = `consumers[${i}]`
    const consumer = buildConsumer(raw, at, issue, stamp)
    consumers.push(consumer)
    consumerSources.push({ entity: consumer, raw, at })
    consumerIndex.add(consumer.id, raw.id !== undefined, at, [
      ['username', consumer.username],
      ['custom_id', consumer.custom_id],
    ])
    for (const [k, p] of (raw.plugins ?? []).entries()) {
      pendingPlugins.push({ raw: p, at: `${at}.plugins[${k}]`, fixed: { kind: 'consumer', id: consumer.id } })
    }
  }
  for (const [i, p] of (doc.plugins ?? []).entries()) pendingPlugins.push({ raw: p, at: `plugins[${i}]` })

  const notices: string[] = []
  const credentials = normalizeCredentials(
    { consumers: consumerSources, topLevel: doc, consumerIndex },
    registry,
    nowSeconds,
    issue,
    (message) => notices.push(message),
  )

  const indexes = { service: serviceIndex, route: routeIndex, consumer: consumerIndex }
  const pluginScopes = new Map<string, string>()
  const pluginIds = new EntityIndex('plugin', issue)
  const pluginSources: { entity: PluginEntity; at: string }[] = []
  for (const pending of pendingPlugins) {
    const plugin = buildPlugin(pending, indexes, registry, issue, stamp)
    if (!plugin) continue
    if (plugin.protocols.length === 1)
      notices.push(
        `${pending.at}.protocols: lists only ${plugin.protocols[0]}, but a plugin runs for every request of its scope whatever its protocol (as in Kong); limit the route's protocols instead`,
      )
    const scopeKey = `${plugin.name}|${plugin.service?.id ?? ''}|${plugin.route?.id ?? ''}|${plugin.consumer?.id ?? ''}`
    const first = pluginScopes.get(scopeKey)
    if (first) {
      issue(
        pending.at,
        `plugin '${plugin.name}' is already configured for the same service/route/consumer at ${first}; one instance per scope`,
      )
      continue
    }
    pluginScopes.set(scopeKey, pending.at)
    pluginIds.add(plugin.id, pending.raw.id !== undefined, pending.at, [
      ['instance_name', plugin.instance_name],
    ])
    plugins.push(plugin)
    pluginSources.push({ entity: plugin, at: pending.at })
  }
  checkUnderscoreHeaders(
    doc.proxy?.headers_with_underscores ?? 'drop',
    routeSources,
    pluginSources,
    registry,
    issue,
    (message) => notices.push(message),
  )

  const { upstreams, targets } = normalizeUpstreams(doc, stamp, issue, (message) => notices.push(message))

  return {
    entities: { services, routes, consumers, plugins, upstreams, targets, credentials, notices },
    issues,
  }
}

function buildService(
  raw: RawService,
  at: string,
  issue: (path: string, message: string) => void,
  stamp: { created_at: number; updated_at: number },
): ServiceEntity {
  // Kong's ws/wss services are http/https to the upstream: the handshake is an HTTP/1.1 request.
  let named: string = raw.protocol ?? 'http'
  let host = raw.host?.toLowerCase() ?? ''
  let port = raw.port
  let path = raw.path ?? null
  if (raw.url !== undefined) {
    if (
      raw.protocol !== undefined ||
      raw.host !== undefined ||
      raw.port !== undefined ||
      raw.path !== undefined
    ) {
      issue(`${at}.url`, 'set either url or protocol/host/port/path, not both')
    }
    const url = new URL(raw.url)
    if (url.username || url.password || url.search || url.hash) {
      issue(`${at}.url`, 'must not contain credentials, a query or a fragment')
    }
    named = url.protocol.slice(0, -1)
    host = url.hostname.toLowerCase()
    port = url.port ? Number(url.port) : undefined
    // `http://x` has no path; `http://x/` has "/" (Kong keeps the difference).
    path = /^[a-z]+:\/\/[^/]+\//i.test(raw.url) ? url.pathname : null
  } else if (raw.host === undefined) {
    issue(`${at}.host`, 'required (or give url)')
  }
  const protocol: 'http' | 'https' =
    named === 'https' || named === 'wss' || named === 'grpcs' ? 'https' : 'http'
  // gRPC names a method by the whole path (/package.Service/Method): nothing may be put before it (Kong).
  const grpc = named === 'grpc' || named === 'grpcs'
  if (grpc && path !== null)
    issue(`${at}.path`, `must not be set when the protocol is '${named}' (as in Kong)`)
  const clientCertificate = raw.client_certificate
  if (clientCertificate !== undefined && 'id' in clientCertificate)
    issue(`${at}.client_certificate`, 'certificate entities are not supported yet; give { cert, key }')
  raw.ca_certificates?.forEach((ca, k) => {
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ca))
      issue(
        `${at}.ca_certificates[${k}]`,
        'CA certificate entities are not supported yet; give a PEM file or text',
      )
  })
  return {
    id: raw.id ?? stableId('service', raw.name ?? at),
    name: raw.name ?? null,
    protocol,
    host,
    port: port ?? (protocol === 'https' ? 443 : 80),
    path,
    retries: raw.retries,
    connect_timeout: raw.connect_timeout,
    write_timeout: raw.write_timeout,
    read_timeout: raw.read_timeout,
    enabled: raw.enabled,
    tls_verify: raw.tls_verify ?? true,
    websocket_upgrade: raw.websocket_upgrade ?? (named === 'ws' || named === 'wss'),
    grpc,
    tls_verify_depth: raw.tls_verify_depth ?? null,
    ca_certificates: raw.ca_certificates ?? null,
    client_certificate:
      clientCertificate !== undefined && 'cert' in clientCertificate ? clientCertificate : null,
    tags: raw.tags ?? null,
    ...stamp,
  }
}

function buildRoute(
  raw: PendingRoute['raw'],
  at: string,
  service: { id: string } | null,
  composition: Composition | null,
  pathPolicy: PathPolicy,
  issue: (path: string, message: string) => void,
  stamp: { created_at: number; updated_at: number },
): RouteEntity {
  const hasHeaders = raw.headers !== undefined && Object.keys(raw.headers).length > 0
  const grpc = raw.protocols.some((p) => GRPC_PROTOCOLS.includes(p))
  if (grpc) {
    // Kong's grpc route subschema: gRPC requests are all POSTs to the method's own path.
    const named = raw.protocols.includes('grpcs') ? 'grpcs' : 'grpc'
    if (raw.methods !== undefined)
      issue(`${at}.methods`, "cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'")
    if (raw.strip_path === true)
      issue(`${at}.strip_path`, "cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'")
    if (!raw.hosts?.length && !raw.paths?.length && !hasHeaders && !(named === 'grpcs' && raw.snis?.length))
      issue(
        at,
        named === 'grpcs'
          ? "must set one of 'hosts', 'headers', 'paths', 'snis' when 'protocols' is 'grpcs'"
          : "must set one of 'hosts', 'headers', 'paths' when 'protocols' is 'grpc'",
      )
  } else if (!raw.methods?.length && !raw.hosts?.length && !raw.paths?.length && !hasHeaders) {
    issue(at, "must set one of 'methods', 'hosts', 'headers', 'paths'")
  }
  if (raw.sources?.length || raw.destinations?.length) {
    issue(at, "'sources' and 'destinations' (stream routes) are not supported yet")
  }
  const paths = raw.paths?.map((p, k) => {
    if (!p.startsWith('~')) {
      // Requests are made canonical before matching (router/normalize-path.ts), so prefixes must be too;
      // a prefix the request policy refuses could never match.
      const canonical = canonicalizePath(p, pathPolicy, true)
      if (!isPathRefusal(canonical)) return canonical
      issue(
        `${at}.paths[${k}]`,
        canonical.code === 'GH_ERR_REQUEST_INVALID'
          ? "invalid percent-encoding: '%' must be followed by two hex digits"
          : `can never match: requests are refused for ${canonical.what} (proxy.path_normalization)`,
      )
      return p
    }
    // Compiled as the router compiles it: anchored at the start.
    const problem = regexProblem(`^(?:${p.slice(1)})`)
    if (problem) issue(`${at}.paths[${k}]`, `invalid regular expression: ${problem}`)
    return p
  })
  let headers: Record<string, string[]> | null = null
  if (hasHeaders) {
    headers = {}
    for (const [name, values] of Object.entries(raw.headers!)) {
      const lower = name.toLowerCase()
      if (lower === 'host') issue(`${at}.headers.${name}`, "use 'hosts' to match the Host header")
      if (headers[lower]) issue(`${at}.headers.${name}`, `header '${lower}' is listed twice`)
      headers[lower] = values
      for (const [k, v] of values.entries()) {
        if (!v.startsWith('~*')) continue
        const problem = regexProblem(v.slice(2), 'i')
        if (problem) issue(`${at}.headers.${name}[${k}]`, `invalid regular expression: ${problem}`)
      }
    }
  }
  return {
    id: raw.id ?? stableId('route', raw.name ?? at),
    name: raw.name ?? null,
    service,
    protocols: raw.protocols,
    methods: raw.methods ?? null,
    hosts: raw.hosts?.map((h) => h.toLowerCase()) ?? null,
    paths: paths ?? null,
    headers,
    https_redirect_status_code: raw.https_redirect_status_code,
    regex_priority: raw.regex_priority,
    strip_path: raw.strip_path ?? !grpc,
    path_handling: raw.path_handling,
    preserve_host: raw.preserve_host,
    request_buffering: raw.request_buffering,
    response_buffering: raw.response_buffering,
    snis: raw.snis ?? null,
    tags: raw.tags ?? null,
    composition,
    ...stamp,
  }
}

function buildConsumer(
  raw: RawConsumer,
  at: string,
  issue: (path: string, message: string) => void,
  stamp: { created_at: number; updated_at: number },
): ConsumerEntity {
  if (raw.username === undefined && raw.custom_id === undefined) {
    issue(at, "at least one of 'username' or 'custom_id' is required")
  }
  return {
    id:
      raw.id ??
      stableId(
        'consumer',
        raw.username !== undefined ? `username:${raw.username}` : `custom_id:${raw.custom_id ?? at}`,
      ),
    username: raw.username ?? null,
    custom_id: raw.custom_id ?? null,
    tags: raw.tags ?? null,
    ...stamp,
  }
}

function buildPlugin(
  { raw, at, fixed }: PendingPlugin,
  indexes: Record<ScopeKind, EntityIndex>,
  registry: PluginRegistry,
  issue: (path: string, message: string) => void,
  stamp: { created_at: number; updated_at: number },
): PluginEntity | undefined {
  const def = registry.get(raw.name)
  if (!def) return undefined // reported by the schema pass
  const scope: Record<ScopeKind, { id: string } | null> = { service: null, route: null, consumer: null }
  let dangling = false
  for (const kind of ['service', 'route', 'consumer'] as const) {
    const ref = raw[kind] as Reference | undefined
    if (fixed?.kind === kind) {
      if (ref !== undefined) issue(`${at}.${kind}`, `is set by the enclosing ${kind}; remove it`)
      scope[kind] = { id: fixed.id }
    } else if (ref !== undefined) {
      const id = indexes[kind].resolve(ref, `${at}.${kind}`)
      if (id) scope[kind] = { id }
      else dangling = true
    }
  }
  const allowed = { global: true, service: true, route: true, consumer: true, ...def.scopes }
  for (const kind of ['service', 'route', 'consumer'] as const) {
    if (scope[kind] && !allowed[kind])
      issue(`${at}.${kind}`, `plugin '${def.name}' cannot be scoped to a ${kind}`)
  }
  if (!dangling && !scope.service && !scope.route && !scope.consumer && !allowed.global) {
    issue(at, `plugin '${def.name}' cannot be global; scope it to a service or route`)
  }
  // Without its full scope the plugin cannot be compared with others (it is not global either).
  if (dangling) return undefined
  const parsed = def.schema.safeParse(raw.config ?? {})
  if (!parsed.success) return undefined // reported by the schema pass
  const key = `${raw.name}:${scope.service?.id ?? ''}:${scope.route?.id ?? ''}:${scope.consumer?.id ?? ''}`
  return {
    id: raw.id ?? stableId('plugin', key),
    name: raw.name,
    instance_name: raw.instance_name ?? null,
    config: parsed.data,
    enabled: raw.enabled,
    protocols: raw.protocols,
    service: scope.service,
    route: scope.route,
    consumer: scope.consumer,
    tags: raw.tags ?? null,
    ...stamp,
  }
}

/**
 * Why `source` does not compile, or null. Only the reason is kept: the engine's message repeats the
 * pattern, which may have come from a vault reference.
 */
function regexProblem(source: string, flags = ''): string | null {
  try {
    new RegExp(source, flags)
    return null
  } catch (err) {
    const message = (err as Error).message
    return message.slice(message.lastIndexOf(': ') + 2)
  }
}
