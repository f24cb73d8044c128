import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GatehouseError } from '../errors/errors.ts'
import type { RequestState } from '../pipeline/request-state.ts'
import { AccessLog, msText } from './access-log.ts'
import { BUILTIN_ROUTES, RouteMetrics } from './metrics.ts'

/** The fields AccessLog reads, nothing else: a request as the pipeline leaves it. */
function state(overrides: Partial<Record<keyof RequestState, unknown>> = {}): RequestState {
  return {
    requestId: 'req-1',
    method: 'GET',
    path: '/orders/1',
    route: {
      routeName: 'orders',
      serviceName: 'orders-svc',
      service: {},
      logNames: ',"route":"orders","service":"orders-svc"',
    },
    builtin: null,
    consumer: null,
    upstreamLatency: 1.23456,
    clientIp: '203.0.113.9',
    bytesSent: 42,
    attempts: 1,
    failedParts: null,
    correlationId: null,
    error: null,
    trace: null,
    ...overrides,
  } as unknown as RequestState
}

function lineFor(s: RequestState, status = 200, latency = 2.5): Record<string, unknown> {
  const written: string[] = []
  new AccessLog({ write: (l: string) => written.push(l) }).write(s, status, latency)
  assert.equal(written.length, 1)
  assert.ok(written[0]!.endsWith('}\n'), 'one line, newline-terminated')
  return JSON.parse(written[0]!) as Record<string, unknown>
}

describe('access-log lines', () => {
  it("have pino's shape and every documented field", () => {
    const line = lineFor(state())
    assert.equal(line.level, 'info')
    assert.match(line.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    assert.equal(line.pid, process.pid)
    assert.equal(line.msg, 'request')
    const { level: _l, time: _t, pid: _p, msg: _m, ...fields } = line
    assert.deepEqual(fields, {
      type: 'access',
      request_id: 'req-1',
      method: 'GET',
      path: '/orders/1',
      route: 'orders',
      service: 'orders-svc',
      consumer: null,
      status: 200,
      latency_ms: 2.5,
      upstream_latency_ms: 1.235,
      client_ip: '203.0.113.9',
      bytes_sent: 42,
    })
  })

  it('stay valid JSON whatever characters the request carried', () => {
    const nasty = 'a"b\\c\nd\u0001e'
    const line = lineFor(
      state({ requestId: nasty, path: `/p${nasty}`, consumer: { username: nasty, id: 'x' }, route: null }),
      404,
    )
    assert.equal(line.request_id, nasty)
    assert.equal(line.path, `/p${nasty}`)
    assert.equal(line.consumer, nasty)
    assert.equal(line.route, null)
    assert.equal(line.service, null)
  })

  it('name a built-in endpoint by the route label it counts under in /metrics, with no service', () => {
    const builtin = new RouteMetrics('', BUILTIN_ROUTES.internalJwks)
    const line = lineFor(state({ route: null, builtin }))
    assert.equal(line.route, 'gatehouse:internal-jwks')
    assert.equal(line.service, null)
  })

  it('carry the trace and SERVER span ids of a traced request (the opentelemetry plugin), else neither', () => {
    const trace = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7' }
    const line = lineFor(state({ trace }))
    assert.equal(line.trace_id, trace.traceId)
    assert.equal(line.span_id, trace.spanId)
    assert.equal('trace_id' in lineFor(state()), false)
  })

  it('name retries, the error code and its server-side detail when there was one', () => {
    const error = new GatehouseError('GH_ERR_UPSTREAM_UNAVAILABLE', 'bad gateway', {
      detail: 'ECONNREFUSED: "x"',
    })
    const line = lineFor(state({ attempts: 3, error, upstreamLatency: -1 }), 502)
    assert.equal(line.attempts, 3)
    assert.equal(line.error_code, 'GH_ERR_UPSTREAM_UNAVAILABLE')
    assert.equal(line.error_detail, 'ECONNREFUSED: "x"')
    assert.equal(line.upstream_latency_ms, null)
  })

  it("carry the correlation-id plugin's id when there is one, a long one cut at 200 characters", () => {
    assert.equal(lineFor(state()).correlation_id, undefined)
    assert.equal(lineFor(state({ correlationId: 'abc#1' })).correlation_id, 'abc#1')
    assert.equal(lineFor(state({ correlationId: 'x'.repeat(300) })).correlation_id, `${'x'.repeat(200)}…`)
  })

  it('list the parts of a composition that failed, when some did, and why: code, and status when one came', () => {
    const line = lineFor(
      state({
        failedParts: [
          { name: 'reviews', code: 'GH_ERR_COMPOSITION_PART_REFUSED', status: 403 },
          { name: 'recommendations', code: 'GH_ERR_UPSTREAM_TIMEOUT', status: null },
        ],
      }),
    )
    assert.deepEqual(line.failed_parts, ['reviews', 'recommendations'])
    assert.deepEqual(line.part_errors, {
      reviews: { code: 'GH_ERR_COMPOSITION_PART_REFUSED', status: 403 },
      recommendations: { code: 'GH_ERR_UPSTREAM_TIMEOUT' },
    })
  })

  it('print latencies as the rounded number itself, to the microsecond', () => {
    const reference = (v: number) => String(Math.round(v * 1000) / 1000)
    const values = [
      0, 0.0004, 0.0005, 0.001, 0.01, 0.1, 0.5, 1, 2.5, 9.9995, 10, 999.999, 1000.0004, 123456.789,
    ]
    for (let i = 0; i < 20_000; i++) values.push(Math.random() * 10 ** ((i % 8) - 2))
    values.push(2 ** 31 / 1000, 4e6, 1e12 + 0.25, -0.0004, -1.5)
    for (const v of values) assert.equal(msText(v), reference(v), `latency ${v}`)
  })

  it('carry the time as pino does, to the millisecond', () => {
    const before = Date.now()
    const time = lineFor(state()).time as string
    const after = Date.now()
    const at = Date.parse(time)
    assert.equal(new Date(at).toISOString(), time)
    assert.ok(at >= before && at <= after, `${time} within the call`)
  })
})
