/**
 * The gateway's own answers to gRPC clients: a gRPC client reads `grpc-status`, not the HTTP status, so
 * a refusal (401, 403, 429, …) goes out as Kong sends it to gRPC requests (kong/pdk/response.lua): its
 * HTTP status mapped to a gRPC status by Kong's table, the message in `grpc-message`, as a trailers-only
 * response (one HEADERS frame that ends the stream, gRPC's HTTP/2 protocol) with `:status 200` and
 * `content-type: application/grpc`. The gateway's headers (X-Gatehouse-Error, X-Request-ID,
 * WWW-Authenticate, Retry-After, RateLimit-*) are in the same frame, so a client reads them as trailers.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { RequestState } from './request-state.ts'

/** Kong's HTTP_TO_GRPC_STATUS (kong/pdk/response.lua); other statuses fall back by class. */
const HTTP_TO_GRPC = new Map<number, number>([
  [200, 0],
  [400, 3],
  [401, 16],
  [403, 7],
  [404, 5],
  [409, 6],
  [429, 8],
  [499, 1],
  [500, 13],
  [501, 12],
  [503, 14],
  [504, 4],
])

export const GRPC_STATUS = { OK: 0, CANCELLED: 1, DEADLINE_EXCEEDED: 4, UNAVAILABLE: 14 } as const

/** The gRPC status for an HTTP status (Kong: 5xx → INTERNAL, 4xx → INVALID_ARGUMENT, 2xx → OK, else UNKNOWN). */
export function grpcStatusOf(status: number): number {
  const mapped = HTTP_TO_GRPC.get(status)
  if (mapped !== undefined) return mapped
  if (status >= 500 && status <= 599) return 13
  if (status >= 400 && status <= 499) return 3
  if (status >= 200 && status <= 299) return 0
  return 2
}

/** A gRPC request, as Kong tells one: its content-type is application/grpc or application/grpc+<codec>. */
export function isGrpcRequest(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type']
  if (type === undefined || !type.startsWith('application/grpc')) return false
  const next = type.charCodeAt(16)
  // Not grpc-web (its own framing over HTTP/1.1, which this gateway proxies as plain HTTP).
  return Number.isNaN(next) || next === 43 /* + */ || next === 59 /* ; */
}

/** grpc-message is percent-encoded UTF-8 (gRPC's HTTP/2 protocol: bytes outside 0x20–0x7E, and `%`). */
export function encodeGrpcMessage(message: string): string {
  let out = ''
  for (const byte of Buffer.from(message, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** The grpc-status of the gateway's own answer with this HTTP status. */
export function grpcAnswerStatus(state: RequestState, status: number): number {
  // An upstream that cannot be reached is UNAVAILABLE (14), the status gRPC clients retry on (gRPC's
  // own mapping of 502), where Kong's table would say INTERNAL (13).
  return state.error?.code === 'GH_ERR_UPSTREAM_UNAVAILABLE' ? 14 : grpcStatusOf(status)
}

/**
 * Sends the gateway's answer in `state.response` as a trailers-only gRPC response. The HTTP status it
 * stood for is kept in `grpcRefusedStatus` for the access log and metrics.
 */
export function sendGrpcAnswer(state: RequestState): void {
  const res = state.res
  const head = state.response!
  const status = head.status
  state.grpcRefusedStatus = status
  const headers = head.headers
  delete headers['content-length']
  delete headers['content-type']
  delete headers['transfer-encoding']
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined) res.setHeader(name, value as string | string[])
  }
  res.setHeader('content-type', 'application/grpc')
  const sent = headers['grpc-status'] ?? String(grpcAnswerStatus(state, status))
  state.grpcStatus = Number(sent)
  res.setHeader('grpc-status', sent)
  res.setHeader('grpc-message', encodeGrpcMessage(messageOf(state)))
  res.statusCode = 200
  // No writeHead: ending an HTTP/2 response whose head is not sent yet sends one HEADERS frame with
  // END_STREAM (the compatibility API's end()), which is what makes it trailers-only.
  res.end()
}

function messageOf(state: RequestState): string {
  const error = state.error
  if (error !== null) return error.expose ? error.message : 'An unexpected error occurred'
  const body = state.responseBody
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown }
      if (typeof parsed.message === 'string') return parsed.message
    } catch {
      // not JSON: Kong sends a string body as the message itself
    }
    return body.slice(0, 512)
  }
  return ''
}
