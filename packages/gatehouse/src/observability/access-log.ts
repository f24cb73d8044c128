/**
 * One JSON line per request. It names what happened (route, service, consumer, status, timings, request
 * id, error code) and deliberately holds no headers, cookies, query string or body: those are where
 * tokens and secrets travel.
 */
import type { RequestState } from '../pipeline/request-state.ts'

export interface AccessLogLine {
  request_id: string
  method: string
  path: string
  route: string | null
  service: string | null
  consumer: string | null
  status: number
  latency_ms: number
  upstream_latency_ms: number | null
  client_ip: string
  bytes_sent: number
  attempts?: number
  error_code?: string
  error_detail?: string
}

const round = (ms: number) => Math.round(ms * 1000) / 1000

export function accessLogLine(state: RequestState, status: number, latencyMs: number): AccessLogLine {
  const route = state.route
  const line: AccessLogLine = {
    request_id: state.requestId,
    method: state.method,
    path: state.path,
    route: route ? route.routeName : null,
    service: route?.service ? route.serviceName : null,
    consumer: state.consumer ? (state.consumer.username ?? state.consumer.id) : null,
    status,
    latency_ms: round(latencyMs),
    upstream_latency_ms: state.upstreamLatency >= 0 ? round(state.upstreamLatency) : null,
    client_ip: state.clientIp,
    bytes_sent: state.bytesSent,
  }
  if (state.attempts > 1) line.attempts = state.attempts
  if (state.error) {
    line.error_code = state.error.code
    if (state.error.detail !== undefined) line.error_detail = state.error.detail
  }
  return line
}

/**
 * Writes access lines in the same shape as pino's (`level`, `time`, `pid`, `type: "access"`, fields,
 * `msg: "request"`) with one JSON.stringify per line and the ISO time computed once per millisecond.
 */
export class AccessLog {
  readonly #stream: { write(line: string): unknown }
  readonly #prefix = `{"level":"info","time":"`
  readonly #pid = `","pid":${process.pid},"type":"access",`
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
    const fields = JSON.stringify(accessLogLine(state, status, latencyMs))
    this.#stream.write(`${this.#prefix}${this.#lastIso}${this.#pid}${fields.slice(1, -1)},"msg":"request"}\n`)
  }
}
