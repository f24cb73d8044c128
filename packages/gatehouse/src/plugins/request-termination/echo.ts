/**
 * request-termination's `echo`: the request as the gateway received it, in Kong's shape. What Kong shows
 * that could hurt is left out: the values of credential headers (a script on a page may call the echo and
 * read an HttpOnly cookie or the browser's stored Basic credentials from it, as with HTTP TRACE) and the
 * route's and service's TLS material (a service's client_certificate may hold a PEM key).
 */
import { hostname } from 'node:os'
import type { RequestState } from '../../pipeline/request-state.ts'
import type { RouteContext } from '../../pipeline/route-context.ts'

const HIDDEN = new Set(['authorization', 'proxy-authorization', 'cookie'])
const HIDDEN_VALUE = '[hidden]'

/** Names to values, a repeated name as a list of its values (Kong's get_query). */
export function queryObject(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of new URLSearchParams(query)) {
    const seen = out[name]
    out[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value]
  }
  return out
}

/** The body parsed by its Content-Type as Kong's get_body does (JSON, form), else undefined. */
function parsedBody(contentType: string | undefined, raw: Buffer): unknown {
  if (raw.length === 0 || contentType === undefined) return undefined
  const type = contentType.split(';')[0]!.trim().toLowerCase()
  if (type === 'application/x-www-form-urlencoded') return queryObject(raw.toString('utf8'))
  if (type === 'application/json' || type.endsWith('+json')) {
    try {
      return JSON.parse(raw.toString('utf8')) as unknown
    } catch {
      return undefined
    }
  }
  return undefined
}

function captures(state: RequestState): { named: Record<string, string>; unnamed: string[] } {
  const named: Record<string, string> = {}
  const unnamed: string[] = []
  for (const [key, value] of Object.entries(state.captures ?? {})) {
    if (/^\d+$/.test(key)) unnamed[Number(key)] = value
    else named[key] = value
  }
  return { named, unnamed: unnamed.filter((v) => v !== undefined) }
}

function matched(ctx: RouteContext): { matched_route: unknown; matched_service: unknown } {
  const { route, service } = ctx
  return {
    matched_route: {
      id: route.id,
      name: route.name,
      protocols: route.protocols,
      methods: route.methods,
      hosts: route.hosts,
      paths: route.paths,
      headers: route.headers,
      strip_path: route.strip_path,
      preserve_host: route.preserve_host,
      service: route.service,
      tags: route.tags,
    },
    matched_service:
      service === null
        ? null
        : {
            id: service.id,
            name: service.name,
            protocol: service.protocol,
            host: service.host,
            port: service.port,
            path: service.path,
            tags: service.tags,
          },
  }
}

/** The echo document; `body` is the request body as read (empty when there was none). */
export function echoDocument(
  state: RequestState,
  message: string | null,
  body: Buffer,
): Record<string, unknown> {
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(state.req.headers)) {
    if (value === undefined) continue
    headers[name] = HIDDEN.has(name) ? HIDDEN_VALUE : value
  }
  const request: Record<string, unknown> = {
    scheme: state.protocol,
    host: state.host,
    port: state.req.socket.localPort ?? null,
    method: state.method,
    path: state.path,
    headers,
    query: queryObject(state.query),
    uri_captures: captures(state),
  }
  const parsed = parsedBody(state.req.headers['content-type'], body)
  if (parsed !== undefined) request.body = parsed
  if (body.length > 0) request.raw_body = body.toString('utf8')
  return {
    ...(message !== null ? { message } : {}),
    kong: { worker_pid: process.pid, hostname: hostname() },
    request,
    ...matched(state.route!),
  }
}
