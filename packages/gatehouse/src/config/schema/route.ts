/** The `routes` entity: which requests go to which service (Kong's routes.lua). */
import { z } from 'zod'
import { compositionSchema } from './composition.ts'
import {
  GRPC_PROTOCOLS,
  HTTP_PROTOCOLS,
  host,
  method,
  name,
  proxyProtocol,
  tags,
  uuid,
  WEBSOCKET_PROTOCOLS,
} from './typedefs.ts'

/** Kong's protocol groups: one route takes protocols of one group only. */
const groupOf = (p: string) =>
  WEBSOCKET_PROTOCOLS.includes(p) ? 'ws' : GRPC_PROTOCOLS.includes(p) ? 'grpc' : 'http'

/** A route path: a prefix starting with `/`, or a regular expression starting with `~`. */
const routePath = z
  .string()
  .regex(/^(\/[^\s#?]*|~.+)$/, { error: 'must start with "/" (prefix) or "~" (regular expression)' })

/**
 * A host to match: exact, or with one wildcard label at either end (`*.example.com`, `example.*`),
 * optionally with `:port`.
 */
const routeHost = z.string().refine(
  (h) => {
    const bare = h.replace(/:\d{1,5}$/, '')
    const unwild = bare.startsWith('*.') ? bare.slice(2) : bare.endsWith('.*') ? bare.slice(0, -2) : bare
    return !unwild.includes('*') && host.safeParse(unwild).success
  },
  { error: 'expected a host name, optionally with one leading "*." or trailing ".*" wildcard and ":port"' },
)

export const routeFields = {
  id: uuid.optional().describe('Entity id. Default: a stable UUID derived from the name (or position).'),
  name: name.optional().describe('Unique name, shown in logs and metrics.'),
  protocols: z
    .array(proxyProtocol('routes'))
    .min(1)
    .refine(
      (list) =>
        list.every((p) => WEBSOCKET_PROTOCOLS.includes(p)) ||
        !list.some((p) => WEBSOCKET_PROTOCOLS.includes(p)),
      { error: 'ws and wss cannot be combined with http or https on one route (as in Kong); use two routes' },
    )
    .refine((list) => !list.some((p) => groupOf(p) === 'grpc') || list.every((p) => groupOf(p) === 'grpc'), {
      error:
        'grpc and grpcs cannot be combined with other protocols on one route (as in Kong); use two routes',
    })
    .default([...HTTP_PROTOCOLS])
    .describe(
      "Client protocols this route accepts: `http` and `https`, or `ws` and `wss` (WebSocket handshakes only: a request without `Upgrade: websocket` does not match; `wss` over TLS only; see docs/websocket.md), or `grpc` and `grpcs` (gRPC over HTTP/2: `grpc` on the plain listener with prior knowledge, `grpcs` on the HTTPS listener; no `methods`, no `strip_path`; see docs/grpc.md). Kong's stream protocols are not supported yet. Default: `[http, https]`.",
    ),
  methods: z.array(method).optional().describe('HTTP methods to match, e.g. `[GET, POST]`. Default: any.'),
  hosts: z
    .array(routeHost)
    .optional()
    .describe('Host header values to match; `*.example.com` and `example.*` wildcards; `:port` optional.'),
  paths: z
    .array(routePath)
    .optional()
    .describe('Path prefixes to match, or regular expressions prefixed with `~` (anchored at the start).'),
  headers: z
    .record(
      z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'expected a header name' }),
      z.array(z.string()).min(1),
    )
    .optional()
    .describe(
      'Request headers to match: name → accepted values (case-insensitive); a value `~*regex` is a regular expression.',
    ),
  https_redirect_status_code: z
    .union([z.literal(426), z.literal(301), z.literal(302), z.literal(307), z.literal(308)])
    .default(426)
    .describe('Status sent when an http request hits an https-only route. Default: 426.'),
  regex_priority: z
    .int()
    .default(0)
    .describe('Order among routes with regex paths that otherwise tie; higher first. Default: 0.'),
  strip_path: z
    .boolean()
    .optional()
    .describe(
      'Remove the matched path prefix before proxying. Default: true (false on grpc/grpcs routes, where it cannot be set: a gRPC path is the method itself, as in Kong).',
    ),
  path_handling: z
    .enum(['v0', 'v1'])
    .default('v0')
    .describe('How the service path and the request path are joined (Kong semantics). Default: `v0`.'),
  preserve_host: z
    .boolean()
    .default(false)
    .describe("Send the client's Host header upstream instead of the service host. Default: false."),
  request_buffering: z
    .boolean()
    .default(true)
    .describe('Accepted for Kong compatibility; bodies are always streamed.'),
  response_buffering: z
    .boolean()
    .default(true)
    .describe('Accepted for Kong compatibility; bodies are always streamed.'),
  snis: z
    .array(z.string())
    .optional()
    .describe(
      'Accepted for Kong compatibility; not used for matching yet (the HTTPS listener chooses certificates by `proxy.tls.certificates[].snis`).',
    ),
  sources: z.array(z.unknown()).optional().describe('Not supported yet (stream routes).'),
  destinations: z.array(z.unknown()).optional().describe('Not supported yet (stream routes).'),
  tags,
  composition: compositionSchema.optional(),
}
