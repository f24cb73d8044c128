/**
 * `POST /explain`: "Why was this refused?" (issue 12). The body names a route (id or name) or a request
 * (method, host, path, matched by the real router), with what a client would send: headers
 * (Authorization, apikey, Cookie, ...) and query parameters. The answer lists each plugin of the route in
 * the order its access phase runs them, with its verdict — passed, refused (status, the GH_ERR code and
 * the reason, as the access log's error_code and error_detail), answered, skipped and why, not evaluated
 * after the deciding one — the consumer it resolved to, and the outcome: forwarded to which service, or
 * refused with which status, headers and body. It is a dry run of the pipeline's own code
 * (pipeline/explain.ts, dry-run.ts): nothing is forwarded, counted, signed, stored or refreshed.
 *
 * What was sent is described, never echoed (explain-credentials.ts: "a JWT with kid X, alg Y, expired
 * at T"), the answer is scrubbed of every value sent, and the log line names the route and the outcome
 * only. Answers 200 whatever the outcome; 404 for a route that does not exist.
 */
import { isIP } from 'node:net'
import { z } from 'zod'
import { GatehouseError } from '../errors/errors.ts'
import { type ExplainProtocol, explainRequest } from '../pipeline/explain.ts'
import type { RouteContext } from '../pipeline/route-context.ts'
import { checkedBody } from './checked-body.ts'
import { describeSent, scrub, secretsOf } from './explain-credentials.ts'
import { type AdminHandler, sendError } from './http.ts'

/** An HTTP token (RFC 9110 §5.6.2): a method or a header name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** A field value: visible characters, spaces and tabs inside (RFC 9110 §5.5), no CR, LF or NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\uffff]*$/
/** Headers the gateway frames the request by, or that `host` gives: the explained request has no body. */
const FRAMING = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'expect', 'upgrade'])

const headerValue = z
  .string()
  .max(8192, { error: 'must be at most 8192 characters' })
  .regex(FIELD_VALUE, { error: 'must not contain control characters (CR, LF, NUL)' })
const queryValue = z.string().max(8192, { error: 'must be at most 8192 characters' })
const oneOrMore = <T extends z.ZodType>(value: T) => z.union([value, z.array(value).min(1).max(20)])

/** The body of `POST /explain`. */
export const explainBody = z
  .strictObject({
    route: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe(
        'The route to explain, by id or name; explained with this request even if the router would pick another (the answer says so). Default: the route the router picks.',
      ),
    method: z
      .string()
      .regex(TOKEN, { error: 'expected an HTTP method' })
      .max(32)
      .optional()
      .describe('Default: the named route’s first method, else GET.'),
    host: z
      .string()
      .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?$/, {
        error: 'expected a host name or address, with an optional :port',
      })
      .max(260)
      .optional()
      .describe('The Host header. Default: the named route’s first host without a wildcard, else localhost.'),
    path: z
      .string()
      .max(4096)
      .regex(/^\/[^?#\s\p{Cc}]*$/u, {
        error: 'expected a path starting with /, without query or fragment (give the query as `query`)',
      })
      .optional()
      .describe('The path, as the client sends it. Default: the named route’s first plain path, else /.'),
    query: z
      .record(z.string().min(1).max(256), oneOrMore(queryValue))
      .refine((q) => Object.keys(q).length <= 50, { error: 'at most 50 query parameters' })
      .optional()
      .describe('Query parameters, e.g. `{"apikey": "…"}`.'),
    headers: z
      .record(
        z
          .string()
          .regex(TOKEN, { error: 'expected a header name' })
          .max(256)
          .refine((n) => !FRAMING.has(n.toLowerCase()), {
            error: 'is not taken here: the request has no body, and its Host is `host`',
          }),
        oneOrMore(headerValue),
      )
      .refine((h) => Object.keys(h).length <= 64, { error: 'at most 64 headers' })
      .optional()
      .describe(
        'Request headers as the client sends them (a list repeats a header), e.g. `{"Authorization": "Bearer …", "Cookie": "…"}`.',
      ),
    protocol: z
      .enum(['http', 'https', 'ws', 'wss', 'grpc', 'grpcs'])
      .optional()
      .describe(
        'How the client reached the gateway: `ws`/`wss` explains a WebSocket handshake (a GET with its Upgrade headers; give `Sec-WebSocket-Protocol` and the like in `headers`), `grpc`/`grpcs` a gRPC call over HTTP/2 (refusals say the grpc-status the client reads). Default: the named route’s first protocol, else http.',
      ),
    client_ip: z
      .string()
      .refine((ip) => isIP(ip) !== 0, { error: 'expected an IPv4 or IPv6 address' })
      .optional()
      .describe('The address the request comes from (the connection’s peer). Default: 127.0.0.1.'),
  })
  .refine((b) => b.route !== undefined || b.path !== undefined, {
    error: 'name a route, or give the request’s path',
  })

type ExplainBody = z.output<typeof explainBody>

/** `POST /explain`. */
export const explain: AdminHandler = async (ctx, a, env) => {
  const body = await checkedBody(a, env, explainBody)
  if (body === null) return
  const runtime = ctx.runtime()
  let route: RouteContext | null = null
  if (body.route !== undefined) {
    route =
      runtime.routeContexts.find((r) => r.route.id === body.route || r.route.name === body.route) ?? null
    if (route === null)
      return sendError(a.res, new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', `no route '${body.route}'`))
  }
  const headers = pairs(body.headers)
  const query = pairs(body.query)
  const request = requestOf(body, route)
  const explanation = await explainRequest(
    {
      method: request.method,
      host: request.host,
      target: query.length === 0 ? request.path : `${request.path}?${new URLSearchParams(query)}`,
      protocol: request.protocol,
      peer: body.client_ip ?? '127.0.0.1',
      rawHeaders: headers.flat(),
      route,
    },
    { runtime, identity: ctx.identity()?.mount ?? null },
  )
  const outcome = explanation.outcome
  env.logger.info(
    {
      route: explanation.route?.name ?? explanation.route?.id ?? null,
      result: outcome.result,
      status: 'status' in outcome ? outcome.status : undefined,
      code: outcome.result === 'refused' ? outcome.code : undefined,
    },
    'request explained',
  )
  const answer = {
    ...explanation,
    request: { ...explanation.request, sent: describeSent(headers, query) },
  }
  const text = scrub(JSON.stringify(answer), secretsOf(headers, query))
  a.res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
  })
  a.res.end(text)
}

/** The request line and Host: the body's, or what the named route takes. */
function requestOf(body: ExplainBody, route: RouteContext | null) {
  const r = route?.route
  const first = r?.protocols[0]
  const protocol: ExplainProtocol =
    body.protocol ?? (first !== undefined && isExplainProtocol(first) ? first : 'http')
  return {
    method: body.method ?? r?.methods?.[0] ?? (protocol === 'grpc' || protocol === 'grpcs' ? 'POST' : 'GET'),
    host: body.host ?? r?.hosts?.find((h) => !h.includes('*')) ?? 'localhost',
    path: body.path ?? r?.paths?.find((p) => !p.startsWith('~')) ?? '/',
    protocol,
  } as const
}

/** A record of one value or several as [name, value] pairs, a list repeating its name. */
function pairs(record: Readonly<Record<string, string | string[]>> | undefined): [string, string][] {
  const out: [string, string][] = []
  for (const [name, value] of Object.entries(record ?? {}))
    for (const v of Array.isArray(value) ? value : [value]) out.push([name, v])
  return out
}

const EXPLAIN_PROTOCOLS: ReadonlySet<string> = new Set(['http', 'https', 'ws', 'wss', 'grpc', 'grpcs'])

function isExplainProtocol(p: string): p is ExplainProtocol {
  return EXPLAIN_PROTOCOLS.has(p)
}
