/**
 * The log entry of a finished request for the log plugins (file-log, http-log): Kong's basic serializer
 * (`kong.log.serialize()`, kong/pdk/log.lua) with the same member names and nesting, built from what the
 * gateway knows. What it cannot know is left out (docs/plugins.md lists it): `request.size`, `tries`,
 * `workspace`, `workspace_name`, `request.tls.client_verify`. `trace_id` (Kong's `{ w3c: <hex> }`) is
 * there when the opentelemetry plugin traced the request.
 *
 * Unlike Kong, which redacts only Authorization and Proxy-Authorization and logs the rest raw, nothing
 * secret is written here (issue 13): credential headers, Cookie and Set-Cookie, and every header and
 * query parameter any authentication plugin of the configuration reads a credential from are `REDACTED`,
 * in the headers, the query string and the URLs alike. Any plugin's, not only the route's: a key sent to
 * the wrong route is still a key. Consumers appear by id, username and custom_id only;
 * services without their client certificate.
 */
import type { ConsumerEntity, RouteEntity, ServiceEntity } from '../../config/model.ts'
import type { HeaderMap, RequestState } from '../../pipeline/request-state.ts'
import type { RouteContext } from '../../pipeline/route-context.ts'
import type { GatewayRuntime } from '../../pipeline/runtime.ts'
import { formDecode } from './conceal.ts'

/** Kong's placeholder for a redacted value. */
export const REDACTED = 'REDACTED'

/** Request headers that carry credentials whatever the route: HTTP auth, cookies, DPoP proofs. */
const ALWAYS_SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'dpop']
/** Query parameters that carry credentials whatever the route (RFC 6750 §2.3). */
const ALWAYS_SECRET_PARAMS = ['access_token']

/** Where the configuration's plugins read credentials from, compiled once per runtime. */
interface Secrets {
  readonly headers: ReadonlySet<string>
  readonly params: ReadonlySet<string>
}

/** The route and service as the entry shows them, as JSON text, compiled once per route. */
interface RouteJson {
  readonly route: string
  readonly service: string | null
}

const secretsByRuntime = new WeakMap<GatewayRuntime, Secrets>()
const jsonByRoute = new WeakMap<RouteContext, RouteJson>()

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

/** The credential locations every plugin instance's config names. */
function secretsOf(runtime: GatewayRuntime): Secrets {
  let secrets = secretsByRuntime.get(runtime)
  if (secrets !== undefined) return secrets
  const headers = new Set(ALWAYS_SECRET_HEADERS)
  const params = new Set(ALWAYS_SECRET_PARAMS)
  for (const instance of runtime.pluginInstances) {
    const config = instance.entity.config as Record<string, unknown>
    switch (instance.entity.name) {
      case 'key-auth':
        // A key may come in a header or a query parameter of any of these names (and in the body, never logged).
        for (const n of strings(config.key_names)) {
          headers.add(n.toLowerCase())
          params.add(n)
        }
        break
      case 'jwt':
        for (const n of strings(config.header_names)) headers.add(n.toLowerCase())
        for (const n of strings(config.uri_param_names)) params.add(n)
        break
      case 'session': {
        // The CSRF token is a per-session secret too.
        const csrf = config.csrf as { header_name?: unknown } | undefined
        if (typeof csrf?.header_name === 'string') headers.add(csrf.header_name.toLowerCase())
        break
      }
    }
  }
  secrets = { headers, params }
  secretsByRuntime.set(runtime, secrets)
  return secrets
}

function jsonOf(ctx: RouteContext): RouteJson {
  let json = jsonByRoute.get(ctx)
  if (json === undefined) {
    json = {
      route: JSON.stringify(routeView(ctx.route)),
      service: ctx.service !== null ? JSON.stringify(serviceView(ctx.service)) : null,
    }
    jsonByRoute.set(ctx, json)
  }
  return json
}

function routeView(r: RouteEntity): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    protocols: r.protocols,
    methods: r.methods,
    hosts: r.hosts,
    paths: r.paths,
    headers: r.headers,
    https_redirect_status_code: r.https_redirect_status_code,
    regex_priority: r.regex_priority,
    strip_path: r.strip_path,
    path_handling: r.path_handling,
    preserve_host: r.preserve_host,
    request_buffering: r.request_buffering,
    response_buffering: r.response_buffering,
    snis: r.snis,
    tags: r.tags,
    service: r.service !== null ? { id: r.service.id } : null,
    created_at: r.created_at,
    updated_at: r.updated_at,
  }
}

/** The service without its client certificate (a private key may be inline) or CA bundle. */
function serviceView(s: ServiceEntity): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name,
    protocol: s.protocol,
    host: s.host,
    port: s.port,
    path: s.path,
    retries: s.retries,
    connect_timeout: s.connect_timeout,
    write_timeout: s.write_timeout,
    read_timeout: s.read_timeout,
    enabled: s.enabled,
    tls_verify: s.tls_verify,
    tls_verify_depth: s.tls_verify_depth,
    tags: s.tags,
    created_at: s.created_at,
    updated_at: s.updated_at,
  }
}

function consumerView(c: ConsumerEntity): Record<string, unknown> {
  return { id: c.id, username: c.username, custom_id: c.custom_id, tags: c.tags, created_at: c.created_at }
}

function redactedHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  secret: ReadonlySet<string>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    out[name] = secret.has(name) ? REDACTED : value
  }
  return out
}

/** The raw query (with its `?`) with the values of secret parameters replaced, other bytes kept. */
function redactedQuery(query: string, secret: ReadonlySet<string>): string {
  if (query.length <= 1) return query
  let changed = false
  const parts = query
    .slice(1)
    .split('&')
    .map((segment) => {
      const eq = segment.indexOf('=')
      const name = formDecode(eq === -1 ? segment : segment.slice(0, eq))
      if (!secret.has(name) || eq === -1) return segment
      changed = true
      return `${segment.slice(0, eq)}=${REDACTED}`
    })
  return changed ? `?${parts.join('&')}` : query
}

/** Kong's `request.querystring`: name → value, `true` for a bare name, an array for a repeated one. */
function querystringOf(query: string): Record<string, string | true | (string | true)[]> {
  const out: Record<string, string | true | (string | true)[]> = {}
  if (query.length <= 1) return out
  for (const segment of query.slice(1).split('&')) {
    if (segment === '') continue
    const eq = segment.indexOf('=')
    const name = formDecode(eq === -1 ? segment : segment.slice(0, eq))
    const value: string | true = eq === -1 ? true : formDecode(segment.slice(eq + 1))
    const prior = out[name]
    if (prior === undefined) out[name] = value
    else if (Array.isArray(prior)) prior.push(value)
    else out[name] = [prior, value]
  }
  return out
}

function tlsOf(state: RequestState): { version: string; cipher: string } | undefined {
  const socket = state.req.socket as {
    encrypted?: boolean
    getProtocol?(): string | null
    getCipher?(): { name: string }
  }
  if (socket.encrypted !== true || socket.getProtocol === undefined) return undefined
  return { version: socket.getProtocol() ?? '', cipher: socket.getCipher?.().name ?? '' }
}

const round = (ms: number) => Math.max(0, Math.round(ms))

/**
 * The entry of a finished request as JSON text (one line: JSON.stringify escapes every control character),
 * called from a log phase. `nowMs` is performance.now() at the end of the request.
 */
export function serializeLogEntry(state: RequestState, nowMs: number = performance.now()): string {
  const ctx = state.route!
  const secrets = secretsOf(state.runtime)
  const json = jsonOf(ctx)
  const rawUrl = state.req.url ?? ''
  const q = rawUrl.indexOf('?')
  const uri = q === -1 ? rawUrl : rawUrl.slice(0, q) + redactedQuery(rawUrl.slice(q), secrets.params)
  const port = state.req.socket.localPort
  const total = nowMs - state.startedAt
  const upstreamAnswered = state.upstreamStartedAt >= 0 && state.upstreamLatency >= 0
  const beforeUpstream = upstreamAnswered ? state.upstreamStartedAt - state.startedAt : total
  const response = state.response
  const source = upstreamAnswered && !state.exited && state.error === null ? 'upstream' : 'kong'
  const entry: Record<string, unknown> = {
    request: {
      id: state.requestId,
      uri,
      url: `${state.protocol}://${state.host}${port !== undefined ? `:${port}` : ''}${uri}`,
      querystring: querystringOf(redactedQuery(state.query, secrets.params)),
      method: state.method,
      headers: redactedHeaders(state.req.headers, secrets.headers),
      tls: tlsOf(state),
    },
    upstream_uri: state.upstreamPath + redactedQuery(state.upstreamQuery, secrets.params),
    upstream_status: upstreamAnswered && response !== null ? String(state.res.statusCode) : '',
    response: {
      status: state.finalStatus || state.res.statusCode,
      headers: response !== null ? responseHeaders(response.headers) : {},
      size: state.bytesSent,
    },
    latencies: {
      kong: round(beforeUpstream),
      proxy: upstreamAnswered ? round(state.upstreamLatency) : -1,
      request: round(total),
      receive: upstreamAnswered ? round(total - beforeUpstream - state.upstreamLatency) : 0,
    },
    authenticated_entity:
      state.credential !== null ? { id: state.credential.id, consumer_id: state.consumer?.id } : undefined,
    consumer: state.consumer !== null ? consumerView(state.consumer) : undefined,
    client_ip: state.clientIp,
    started_at: Math.round(performance.timeOrigin + state.startedAt),
    source,
    correlation_id: state.correlationId ?? undefined,
    // Kong's shape: the trace id by header format, present when a tracing plugin traced the request.
    trace_id: state.trace !== null ? { w3c: state.trace.traceId } : undefined,
  }
  // The route and service are JSON compiled once per route, appended rather than serialised again.
  const text = JSON.stringify(entry)
  const service = json.service !== null ? `,"service":${json.service}` : ''
  return `${text.slice(0, -1)},"route":${json.route}${service}}`
}

/** Response headers with Set-Cookie redacted (session cookies, and whatever an upstream sets). */
function responseHeaders(headers: HeaderMap): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) out[name] = name === 'set-cookie' ? REDACTED : value
  return out
}
