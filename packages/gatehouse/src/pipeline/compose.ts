/**
 * Stage 6 of a composition route (issue 6), in place of forwarding: the parts the caller may see are
 * called in parallel, each with the caller's internal token for its own audience, and their answers
 * become one JSON document (composition/merge.ts). Parts start together and none may outlast the
 * composition's timeout, so the response never waits past that deadline.
 *
 * A part gets only what the gateway chooses to send: Accept, X-Request-ID, traceparent (+ tracestate),
 * Via and the internal token. The client's Authorization, cookies, API key and other headers never
 * reach a part, and anonymous callers (no principal) get the public parts only, with no token.
 */
import { callPart, type PartResult } from '../composition/call-part.ts'
import { mergeParts } from '../composition/merge.ts'
import { renderTemplate } from '../composition/path-template.ts'
import type { PlannedPart } from '../composition/plan.ts'
import { GatehouseError } from '../errors/errors.ts'
import { toGatehouseError } from '../errors/respond.ts'
import type { HeaderMap, RequestState } from './request-state.ts'
import { exitWithError, respondWithError, sendGatewayResponse } from './respond.ts'
import { VIA } from './upstream-request.ts'

const JSON_UTF8 = 'application/json; charset=utf-8'
const ALLOW = { allow: 'GET, HEAD' }

export function composeResponse(state: RequestState): void {
  if (state.method !== 'GET' && state.method !== 'HEAD') {
    respondWithError(
      state,
      new GatehouseError(
        'GH_ERR_COMPOSITION_METHOD_NOT_ALLOWED',
        'Method not allowed: this route answers GET and HEAD',
      ),
      ALLOW,
    )
    return
  }
  const plan = state.route!.composition!
  const parts = state.principal === null ? plan.publicParts : plan.parts
  const cancel = new AbortController()
  state.inflight = { abort: (reason) => cancel.abort(reason) }
  state.upstreamStartedAt = performance.now()
  const common = commonHeaders(state)
  const trace = state.trace
  const calls = parts.map((part) => {
    const path = renderTemplate(part.target, state.captures)
    if (trace === null) return callPart(part, path, headersFor(state, part, common), cancel.signal)
    // A traced request: each part is a CLIENT span, and the part's traceparent names it as the parent.
    const own = { ...common }
    const s = part.service
    const span = trace.client(
      `part ${part.name}`,
      { method: 'GET', scheme: s.protocol, host: s.host, port: s.port, path },
      own,
    )
    const call = callPart(part, path, headersFor(state, part, own), cancel.signal)
    if (span === null) return call
    span.setAttribute('gatehouse.part', part.name)
    return call.then((result) => {
      trace.endClient(span, result.ok ? null : result.status, result.ok ? null : result.code)
      return result
    })
  })
  Promise.all(calls)
    .then((results) => respond(state, parts, results))
    .catch((err: unknown) => {
      if (state.res.headersSent || state.res.destroyed) state.res.destroy()
      else respondWithError(state, toGatehouseError(err))
    })
}

function respond(state: RequestState, parts: readonly PlannedPart[], results: readonly PartResult[]): void {
  state.inflight = null
  if (state.res.destroyed) return
  state.upstreamLatency = performance.now() - state.upstreamStartedAt
  const outcome = mergeParts(parts, results)
  if (outcome.kind === 'failed') {
    state.failedParts = outcome.failed
    exitWithError(state, outcome.error, outcome.status, undefined)
    sendGatewayResponse(state)
    return
  }
  const headers: HeaderMap = Object.create(null)
  if (outcome.personal) headers['cache-control'] = 'private, no-store'
  if (outcome.kind === 'not-found') {
    // A required part says the thing does not exist: its answer is the answer.
    const { part } = outcome
    if (part.contentType !== null) headers['content-type'] = part.contentType
    state.response = { status: 404, headers }
    state.responseBody = part.body !== null && part.body.length > 0 ? part.body : null
  } else {
    if (outcome.failed.length > 0) state.failedParts = outcome.failed
    headers['content-type'] = JSON_UTF8
    headers['x-gatehouse-completed'] = outcome.completed ? 'true' : 'false'
    state.response = { status: 200, headers }
    state.responseBody = outcome.body
  }
  sendGatewayResponse(state)
}

/** What every part receives, built once per request from the prepared upstream headers. */
function commonHeaders(state: RequestState): Record<string, string> {
  const up = state.upstreamHeaders
  const h: Record<string, string> = {
    accept: 'application/json',
    'x-request-id': state.requestId,
    via: VIA,
  }
  // prepareUpstreamRequest kept the client's traceparent when valid, else started a new trace.
  if (typeof up.traceparent === 'string') h.traceparent = up.traceparent
  if (typeof up.tracestate === 'string') h.tracestate = up.tracestate
  return h
}

function headersFor(
  state: RequestState,
  part: PlannedPart,
  common: Record<string, string>,
): Record<string, string> | Promise<Record<string, string>> {
  const tokens = state.internalTokens
  if (tokens === null || state.principal === null || !part.service.enabled) return common
  let token: string | Promise<string>
  try {
    token = tokens.forAudience(part.audience)
  } catch (err) {
    return Promise.reject(err)
  }
  if (typeof token === 'string') return { ...common, authorization: `Bearer ${token}` }
  return token.then((t) => ({ ...common, authorization: `Bearer ${t}` }))
}
