/**
 * What the client of an explained request (explain.ts) would get, read from the request's state after
 * the dry run, as pipeline.ts would go on: the answer the gateway made (a refusal, or a plugin's own
 * answer), after the response phase of the plugins that ran, as sendGatewayResponse sends it; else a
 * composition, or a forward to the route's service. Upstream header values are not shown but for the
 * identity headers the gateway sets, and Set-Cookie values never.
 */
import { GatehouseError } from '../errors/errors.ts'
import { IDENTITY_HEADERS } from '../proxy/identity-headers.ts'
import type { DryRun } from './dry-run.ts'
import { grpcAnswerStatus } from './grpc-status.ts'
import { runResponsePhase } from './plugin-phases.ts'
import type { HeaderMap, RequestState } from './request-state.ts'
import { exitWithError } from './respond.ts'

export type Outcome =
  | {
      readonly result: 'refused'
      readonly status: number
      readonly code: string
      /** The reason, as the access log's `error_detail`. */
      readonly reason: string | null
      readonly message: string
      /**
       * For a gRPC call: the grpc-status the client reads (the answer goes out as HTTP 200 with it, and
       * `status` is the HTTP status it stands for, as in the access log).
       */
      readonly grpc_status?: number
      readonly headers: HeaderMap
      /** The JSON body, or null for another body (a page), whose size `body_bytes` gives. */
      readonly body: unknown
      readonly body_bytes: number
    }
  | {
      readonly result: 'answered'
      /** The plugin (or `identity-provider`, `internal-jwks`) that answers the request itself. */
      readonly by: string
      /** null when the dry run did not run what answers (it would have side effects). */
      readonly status?: number | null
      readonly what?: string
      readonly headers?: HeaderMap
      readonly body_bytes?: number
    }
  | {
      readonly result: 'composed'
      readonly what: string
      /** The parts the caller would get (anonymous callers get the public ones). */
      readonly parts: readonly string[]
    }
  | {
      readonly result: 'forwarded'
      readonly what: string
      readonly service: { id: string; name: string | null; host: string; port: number; protocol: string }
      readonly upstream: { method: string; path: string; query_parameters: readonly string[] }
      /** The identity headers the upstream would get, with their values (never a credential). */
      readonly identity_headers: Readonly<Record<string, string | string[]>>
      /** Every header name the upstream would get. */
      readonly header_names: readonly string[]
    }

const IDENTITY: ReadonlySet<string> = new Set(IDENTITY_HEADERS)

export function outcomeOf(state: RequestState, dryRun: DryRun): Outcome {
  if (dryRun.answeredBy !== null)
    return { result: 'answered', by: dryRun.answeredBy.plugin, status: null, what: dryRun.answeredBy.what }
  if (state.exited) return answer(state, dryRun)
  const ctx = state.route!
  if (ctx.composition !== null) {
    const parts = state.principal === null ? ctx.composition.publicParts : ctx.composition.parts
    return {
      result: 'composed',
      what: 'answered by calling the composition’s parts (nothing was called in this dry run)',
      parts: parts.map((p) => p.name),
    }
  }
  const service = ctx.service
  if (service === null)
    return refused(state, new GatehouseError('GH_ERR_ROUTE_NO_SERVICE', 'no Service found with those values'))
  if (!service.enabled)
    return refused(state, new GatehouseError('GH_ERR_SERVICE_DISABLED', 'Service unavailable'))
  const headers = state.upstreamHeaders
  const identity: Record<string, string | string[]> = {}
  for (const name of Object.keys(headers).sort()) if (IDENTITY.has(name)) identity[name] = headers[name]!
  return {
    result: 'forwarded',
    what: `would be forwarded${state.websocket !== null ? ' as a WebSocket handshake' : state.grpc ? ' as a gRPC call over HTTP/2' : ''} to service '${ctx.serviceName}' (nothing was sent in this dry run)`,
    service: {
      id: service.id,
      name: service.name ?? null,
      host: service.host,
      port: service.port,
      protocol: service.protocol,
    },
    upstream: {
      method: state.upstreamMethod,
      path: state.upstreamPath,
      query_parameters: [...new URLSearchParams(state.upstreamQuery).keys()],
    },
    identity_headers: identity,
    header_names: Object.keys(headers).sort(),
  }
}

function refused(state: RequestState, err: GatehouseError): Outcome {
  exitWithError(state, err, err.status, undefined)
  return answer(state, null)
}

/** The gateway's own answer, as sendGatewayResponse would send it (the response phase first). */
function answer(state: RequestState, dryRun: DryRun | null): Outcome {
  if (state.route !== null) runResponsePhase(state)
  const head = state.response!
  const raw = state.responseBody
  const bytes = raw === null ? 0 : Buffer.byteLength(raw)
  const headers: HeaderMap = {}
  for (const [name, value] of Object.entries(head.headers))
    headers[name] = name === 'set-cookie' ? '(not shown)' : value
  const error = state.error
  if (error === null) {
    const by = dryRun?.verdicts.findLast((v) => v.verdict === 'answered')?.name ?? 'gateway'
    return { result: 'answered', by, status: head.status, headers, body_bytes: bytes }
  }
  return {
    result: 'refused',
    status: head.status,
    code: error.code,
    reason: error.detail ?? null,
    message: error.expose ? error.message : 'An unexpected error occurred',
    ...(state.grpc ? { grpc_status: grpcAnswerStatus(state, head.status) } : {}),
    headers,
    body: jsonOf(raw, headers['content-type']),
    body_bytes: bytes,
  }
}

function jsonOf(raw: string | Buffer | null, type: string | string[] | undefined): unknown {
  if (raw === null || typeof type !== 'string' || !type.startsWith('application/json')) return null
  try {
    return JSON.parse(raw.toString())
  } catch {
    return null
  }
}
