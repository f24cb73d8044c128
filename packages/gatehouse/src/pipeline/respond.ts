/**
 * Sending a response the gateway made itself (a plugin's exit, or an error): the response phase of the
 * plugins that ran sees it first, so CORS or request-id headers are on errors too.
 */
import type { GatehouseError } from '../errors/errors.ts'
import { ERROR_CODE_HEADER, errorBody } from '../errors/respond.ts'
import { sendGrpcAnswer } from './grpc-status.ts'
import { runResponsePhase } from './plugin-phases.ts'
import type { HeaderMap, RequestState } from './request-state.ts'

export function respondWithError(state: RequestState, err: GatehouseError, headers?: HeaderMap): void {
  exitWithError(state, err, err.status, undefined, headers)
  sendGatewayResponse(state)
}

/**
 * Ends the request with an error the gateway answers itself: every refusal, whichever plugin makes it,
 * comes through here, so all share one body (errors/respond.ts) and one pair of headers. `own` is the
 * answer's JSON body in Kong or the plugin's protocol (its members come first), or a finished non-JSON
 * body (a page) sent as it is. `X-Gatehouse-Error` names the code, and `X-Request-ID` the access log's
 * id (the gateway sends it downstream only on its own errors, unless request-id echoes it): a client
 * tells a gateway refusal from an upstream's answer, and quotes the id, without parsing the body.
 * The plugins' response phase may still change the headers; the caller's (WWW-Authenticate, Retry-After,
 * RateLimit-*) are kept as given.
 */
export function exitWithError(
  state: RequestState,
  err: GatehouseError,
  status: number,
  own: Readonly<Record<string, unknown>> | string | undefined,
  headers?: HeaderMap,
): void {
  state.error = err
  state.exit(status, typeof own === 'string' ? own : errorBody(err, status, state.requestId, own), headers)
  const h = state.response!.headers
  h[ERROR_CODE_HEADER] = err.code
  h['x-request-id'] ??= state.requestId
}

export function sendGatewayResponse(state: RequestState): void {
  const res = state.res
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return
  }
  if (state.route !== null) runResponsePhase(state)
  if (state.grpc) {
    sendGrpcAnswer(state)
    return
  }
  const head = state.response!
  const body = state.responseBody
  if (body !== null) head.headers['content-length'] = String(Buffer.byteLength(body))
  // A HEAD answer may keep the length a plugin gave: that of the GET body (a cached HEAD response).
  else if (
    head.status !== 204 &&
    head.status !== 304 &&
    !(state.method === 'HEAD' && head.headers['content-length'])
  )
    head.headers['content-length'] = '0'
  res.writeHead(head.status, head.headers)
  if (state.method === 'HEAD' || body === null) res.end()
  else {
    state.bytesSent = Buffer.byteLength(body)
    res.end(body)
  }
}
