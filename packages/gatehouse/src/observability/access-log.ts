/**
 * One JSON line per request. It names what happened (route, service, consumer, status, timings, request
 * id, the correlation-id plugin's id, the trace and SERVER span ids of a traced request, a gRPC call's grpc-status, error code, a composition's failed parts) and deliberately holds no headers, cookies, query string
 * or body: those are where tokens and secrets travel. Lines have pino's shape (`level`, `time`, `pid`,
 * then `type: "access"`, the fields, `msg: "request"`) so one parser reads both kinds, but are built
 * here, field by field, because this runs once per request.
 *
 * `route` and `service` name the series the request counts under in /metrics (docs/metrics.md): the
 * same strings, with null where the metric label is "" (no route matched, a route without a service).
 */
import type { FailedPart, RequestState } from '../pipeline/request-state.ts'

/** Characters JSON strings must escape; strings without them are quoted as they are. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const NEEDS_ESCAPE = /["\\\u0000-\u001f]/

function str(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`
}

function strOrNull(value: string | null): string {
  return value === null ? 'null' : str(value)
}

/**
 * `failed_parts` (their names, as the composed document's `_errors` keys) and `part_errors` (each one's
 * code and, when it answered, its status: a refusal by the service reads apart from an outage).
 */
function failedPartsText(parts: readonly FailedPart[]): string {
  let names = ''
  let errors = ''
  for (const p of parts) {
    const sep = names === '' ? '' : ','
    names += sep + str(p.name)
    errors += `${sep}${str(p.name)}:{"code":"${p.code}"${p.status !== null ? `,"status":${p.status}` : ''}}`
  }
  return `,"failed_parts":[${names}],"part_errors":{${errors}}`
}

/**
 * The decimals of a millisecond count, by thousandths: FRACTION[230] is ".23", FRACTION[0] is "". Printing
 * a double is the slowest step of a line (a shortest-representation conversion, about a microsecond);
 * printing the whole part, a small integer, is a cache lookup. The text equals `String(round(v·1000)/1000)`.
 */
const FRACTION = Array.from({ length: 1000 }, (_, i) =>
  i === 0 ? '' : `.${String(i).padStart(3, '0').replace(/0+$/, '')}`,
)

/** Milliseconds, to the microsecond, as JSON (a number without trailing zeros). */
export function msText(value: number): string {
  const micros = Math.round(value * 1000)
  // Beyond 2^31 µs (35 minutes) or below 0 (never, but a clock may step) the plain conversion is exact too.
  if (!(micros >= 0 && micros < 0x7fffffff)) return String(micros / 1000)
  const whole = (micros / 1000) | 0
  return `${whole}${FRACTION[micros - whole * 1000]}`
}

/** "000" … "999": the milliseconds of an ISO time. */
const MILLIS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))

export class AccessLog {
  readonly #stream: { write(line: string): unknown }
  readonly #pid = `","pid":${process.pid},"type":"access","request_id":`
  /** The second `#isoPrefix` is for, and its ISO text up to the milliseconds ("2026-12-07T05:49:18."). */
  #second = -1
  #isoPrefix = ''

  constructor(stream: { write(line: string): unknown }) {
    this.#stream = stream
  }

  write(state: RequestState, status: number, latencyMs: number): void {
    // The time as pino writes it (toISOString), formatted once a second: a Date per line costs more than
    // the rest of the line.
    const now = Date.now()
    const second = Math.floor(now / 1000)
    if (second !== this.#second) {
      this.#second = second
      this.#isoPrefix = new Date(second * 1000).toISOString().slice(0, -4)
    }
    const route = state.route
    const consumer = state.consumer
    let line =
      `{"level":"info","time":"${this.#isoPrefix}${MILLIS[now - second * 1000]}Z${this.#pid}${str(state.requestId)}` +
      `,"method":${str(state.method)},"path":${str(state.path)}` +
      (route !== null
        ? route.logNames
        : `,"route":${state.builtin !== null ? str(state.builtin.route) : 'null'},"service":null`) +
      `,"consumer":${consumer ? strOrNull(consumer.username ?? consumer.id) : 'null'}` +
      `,"status":${status},"latency_ms":${msText(latencyMs)}` +
      `,"upstream_latency_ms":${state.upstreamLatency >= 0 ? msText(state.upstreamLatency) : 'null'}` +
      `,"client_ip":${str(state.clientIp)},"bytes_sent":${state.bytesSent}`
    const correlationId = state.correlationId
    if (correlationId !== null)
      line += `,"correlation_id":${str(correlationId.length > 200 ? `${correlationId.slice(0, 200)}…` : correlationId)}`
    // Only a traced request (a tracing plugin applies) has them: hex ids, safe to write unquoted-checked.
    const trace = state.trace
    if (trace !== null) line += `,"trace_id":"${trace.traceId}","span_id":"${trace.spanId}"`
    if (state.grpc && state.grpcStatus >= 0) line += `,"grpc_status":${state.grpcStatus}`
    if (state.attempts > 1) line += `,"attempts":${state.attempts}`
    if (state.failedParts !== null) line += failedPartsText(state.failedParts)
    const error = state.error
    if (error !== null) {
      line += `,"error_code":"${error.code}"`
      if (error.detail !== undefined) line += `,"error_detail":${str(error.detail)}`
    }
    this.#stream.write(`${line},"msg":"request"}\n`)
  }
}
