/**
 * One JSON line per request. It names what happened (route, service, consumer, status, timings, request
 * id, error code, a composition's failed parts) and deliberately holds no headers, cookies, query string
 * or body: those are where tokens and secrets travel. Lines have pino's shape (`level`, `time`, `pid`,
 * then `type: "access"`, the fields, `msg: "request"`) so one parser reads both kinds, but are built
 * here, field by field, because this runs once per request.
 */
import type { RequestState } from '../pipeline/request-state.ts'

/** Characters JSON strings must escape; strings without them are quoted as they are. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/

function str(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`
}

function strOrNull(value: string | null): string {
  return value === null ? 'null' : str(value)
}

/** Milliseconds, to the microsecond. */
const ms = (value: number) => Math.round(value * 1000) / 1000

export class AccessLog {
  readonly #stream: { write(line: string): unknown }
  readonly #pid = `","pid":${process.pid},"type":"access","request_id":`
  #lastMs = 0
  #lastIso = ''

  constructor(stream: { write(line: string): unknown }) {
    this.#stream = stream
  }

  write(state: RequestState, status: number, latencyMs: number): void {
    const now = Date.now()
    if (now !== this.#lastMs) {
      this.#lastMs = now
      this.#lastIso = new Date(now).toISOString()
    }
    const route = state.route
    const consumer = state.consumer
    let line =
      `{"level":"info","time":"${this.#lastIso}${this.#pid}${str(state.requestId)}` +
      `,"method":${str(state.method)},"path":${str(state.path)}` +
      `,"route":${route ? str(route.routeName) : state.identity ? '"identity-provider"' : 'null'}` +
      `,"service":${route?.service ? str(route.serviceName) : 'null'}` +
      `,"consumer":${consumer ? strOrNull(consumer.username ?? consumer.id) : 'null'}` +
      `,"status":${status},"latency_ms":${ms(latencyMs)}` +
      `,"upstream_latency_ms":${state.upstreamLatency >= 0 ? ms(state.upstreamLatency) : 'null'}` +
      `,"client_ip":${str(state.clientIp)},"bytes_sent":${state.bytesSent}`
    if (state.attempts > 1) line += `,"attempts":${state.attempts}`
    if (state.failedParts !== null) line += `,"failed_parts":${JSON.stringify(state.failedParts)}`
    const error = state.error
    if (error !== null) {
      line += `,"error_code":"${error.code}"`
      if (error.detail !== undefined) line += `,"error_detail":${str(error.detail)}`
    }
    this.#stream.write(`${line},"msg":"request"}\n`)
  }
}
