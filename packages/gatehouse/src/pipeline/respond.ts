/**
 * Sending a response the gateway made itself (a plugin's exit, or an error): the response phase of the
 * plugins that ran sees it first, so CORS or request-id headers are on errors too.
 */
import type { GatehouseError } from '../errors/errors.ts'
import { errorEnvelope } from '../errors/respond.ts'
import { runResponsePhase } from './plugin-phases.ts'
import type { RequestState } from './request-state.ts'

export function respondWithError(
  state: RequestState,
  err: GatehouseError,
  headers?: Record<string, string>,
): void {
  state.error = err
  state.exit(err.status, errorEnvelope(err, state.requestId), headers)
  sendGatewayResponse(state)
}

export function sendGatewayResponse(state: RequestState): void {
  const res = state.res
  if (res.headersSent || res.destroyed) {
    res.destroy()
    return
  }
  if (state.route !== null) runResponsePhase(state)
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
