/**
 * The opentelemetry plugin through the real gateway, with a real OTLP/HTTP receiver on port 0
 * (test/harness/otlp-receiver.ts): the spans exported (names, kinds, parent links, attributes), a
 * client's traceparent continued, the upstream's traceparent naming the CLIENT span, composition parts
 * and enrichment as spans, sampling 0 exporting nothing but still propagating, trace ids in the access
 * log only for traced requests, a dead collector changing nothing for the client, the identity
 * provider's endpoints traced by a global instance, and the queue flushed at SIGTERM.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { OtlpReceiver, type ReceivedSpan } from '../../../test/harness/otlp-receiver.ts'
import { closedPort, type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'
import { startIdentityGateway } from '../../../test/identity/support/gateway.ts'

const API_KEY = 'alice-key-0123456789abcdef'
const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const CLIENT_PARENT = '00f067aa0ba902b7'
const SERVER = 2
const CLIENT = 3
const INTERNAL = 1

function only(spans: readonly ReceivedSpan[], name: string): ReceivedSpan {
  const found = spans.filter((s) => s.name === name)
  assert.equal(found.length, 1, `one span '${name}', got ${spans.map((s) => s.name).join(', ')}`)
  return found[0]!
}

/** [trace-id, parent-id, flags] of a traceparent. */
function parts(traceparent: unknown): [string, string, string] {
  assert.equal(typeof traceparent, 'string')
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent as string)
  assert.ok(m, `a W3C traceparent: ${String(traceparent)}`)
  return [m[1]!, m[2]!, m[3]!]
}

describe('the opentelemetry plugin', () => {
  const receiver = new OtlpReceiver()
  let upstream: Upstream
  let users: Upstream
  let catalog: Upstream
  let gh: GatehouseProcess

  before(async () => {
    await receiver.listen()
    upstream = await startUpstream()
    catalog = await startUpstream()
    users = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"country":"GB"}')
    })
    const dead = await closedPort()
    // A short flush delay, so the spans arrive while the test waits.
    const otel = (more: object = {}) => ({
      name: 'opentelemetry',
      config: {
        traces_endpoint: receiver.url,
        headers: { 'X-Collector-Token': 'collector-secret-1' },
        resource_attributes: { 'service.name': 'edge', 'deployment.environment': 'test' },
        queue: { max_coalescing_delay: 0.05 },
        http_response_header_for_traceid: 'X-Trace-Id',
        ...more,
      },
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        internal_tokens: { issuer: 'https://gatehouse.test' },
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              {
                name: 'traced',
                paths: ['/traced'],
                plugins: [
                  otel(),
                  { name: 'key-auth' },
                  {
                    name: 'internal-token',
                    config: {
                      audience: 'orders',
                      enrich: { url: `${users.url}/users/{sub}`, claims: ['country'] },
                    },
                  },
                ],
              },
              { name: 'unsampled', paths: ['/unsampled'], plugins: [otel({ sampling_rate: 0 })] },
              { name: 'plain', paths: ['/plain'] },
              {
                name: 'fresh',
                paths: ['/fresh'],
                plugins: [otel({ header_type: 'ignore' })],
              },
              {
                name: 'dead-collector',
                paths: ['/dead-collector'],
                plugins: [otel({ traces_endpoint: `http://127.0.0.1:${dead}/v1/traces` })],
              },
              {
                name: 'held',
                paths: ['/held'],
                plugins: [otel({ queue: { max_coalescing_delay: 3600, max_batch_size: 1000 } })],
              },
            ],
          },
          {
            name: 'down',
            url: `http://127.0.0.1:${dead}`,
            routes: [{ name: 'down', paths: ['/down'], plugins: [otel()] }],
          },
          { name: 'catalog', url: catalog.url },
        ],
        routes: [
          {
            name: 'page',
            paths: ['/page'],
            plugins: [otel()],
            composition: {
              timeout: 2500,
              parts: [
                { name: 'product', service: 'catalog', path: '/products/1', required: true, public: true },
              ],
            },
          },
        ],
        consumers: [{ username: 'alice', keyauth_credentials: [{ key: API_KEY }] }],
      },
    })
  })

  after(async () => {
    await gh?.stop()
    await Promise.all([receiver.close(), upstream?.close(), users?.close(), catalog?.close()])
  })

  it('continues a client trace: SERVER span, plugin, enrichment and upstream spans, traceparent upstream', async () => {
    const res = await gh.proxy('/traced', {
      headers: {
        apikey: API_KEY,
        traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01`,
        tracestate: 'vendor=abc',
        'user-agent': 'otel-test/1',
      },
    })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-trace-id'), CLIENT_TRACE)
    const seen = (await res.json()) as EchoBody
    const spans = await receiver.waitForSpan(CLIENT_TRACE, 'upstream svc')
    await receiver.waitForSpan(CLIENT_TRACE, 'GET /traced')

    const server = only(spans, 'GET /traced')
    assert.equal(server.kind, SERVER)
    assert.equal(server.parentSpanId, CLIENT_PARENT, "the client's span is the parent")
    assert.equal(server.attributes['http.request.method'], 'GET')
    assert.equal(server.attributes['http.route'], '/traced')
    assert.equal(server.attributes['url.path'], '/traced')
    assert.equal(server.attributes['url.scheme'], 'http')
    assert.equal(server.attributes['http.response.status_code'], 200)
    assert.equal(server.attributes['client.address'], '127.0.0.1')
    assert.equal(server.attributes['user_agent.original'], 'otel-test/1')
    assert.equal(server.attributes['gatehouse.route'], 'traced')
    assert.equal(server.attributes['gatehouse.consumer'], 'alice')
    assert.equal(server.status.code, 0)
    assert.equal(server.resource['service.name'], 'edge', 'resource_attributes override the default')
    assert.equal(server.resource['deployment.environment'], 'test')

    for (const name of ['access key-auth', 'access internal-token', 'enrichment']) {
      const span = only(spans, name)
      assert.equal(span.kind, INTERNAL, name)
      assert.equal(span.parentSpanId, server.spanId, `${name} is a child of the SERVER span`)
    }
    const client = only(spans, 'upstream svc')
    assert.equal(client.kind, CLIENT)
    assert.equal(client.parentSpanId, server.spanId)
    assert.equal(client.attributes['http.response.status_code'], 200)
    assert.equal(client.attributes['server.address'], '127.0.0.1')

    // The upstream's traceparent names the CLIENT span, in the client's trace, sampled; tracestate kept.
    const [trace, parent, flags] = parts(seen.headers.traceparent)
    assert.deepEqual([trace, parent, flags], [CLIENT_TRACE, client.spanId, '01'])
    assert.equal(seen.headers.tracestate, 'vendor=abc')

    // The export carried the configured headers, as JSON.
    assert.equal(receiver.requests[0]!.headers['x-collector-token'], 'collector-secret-1')
    assert.match(receiver.requests[0]!.contentType, /^application\/json/)

    // The access log names the trace and the SERVER span.
    const line = await gh.waitForLog((l) => l.type === 'access' && l.path === '/traced')
    assert.equal(line.trace_id, CLIENT_TRACE)
    assert.equal(line.span_id, server.spanId)
    assert.ok(!gh.stdout.includes('collector-secret-1'), 'the collector token is never logged')
  })

  it('starts a new trace without a client traceparent, or with header_type: ignore', async () => {
    const res = await gh.proxy('/fresh', {
      headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_PARENT}-01` },
    })
    assert.equal(res.status, 200)
    const seen = (await res.json()) as EchoBody
    const [trace, parent] = parts(seen.headers.traceparent)
    assert.notEqual(trace, CLIENT_TRACE)
    const spans = await receiver.waitForSpan(trace, 'GET /fresh')
    const server = only(spans, 'GET /fresh')
    assert.equal(server.parentSpanId, '', 'a root span')
    assert.equal(only(spans, 'upstream svc').spanId, parent)
    assert.equal(seen.headers.tracestate, undefined, "the client's tracestate belongs to the client's trace")
  })

  it("marks the SERVER span and each attempt's CLIENT span as errors when the upstream is down (502)", async () => {
    const res = await gh.proxy('/down')
    assert.equal(res.status, 502)
    const traceId = res.headers.get('x-trace-id')
    assert.ok(traceId)
    const spans = await receiver.waitForSpan(traceId, 'GET /down')
    const server = only(spans, 'GET /down')
    assert.equal(server.status.code, 2)
    assert.equal(server.attributes['http.response.status_code'], 502)
    assert.equal(server.attributes['error.type'], 'GH_ERR_UPSTREAM_UNAVAILABLE')
    // One CLIENT span per attempt: the service's 5 retries and the first try, each refused.
    const attempts = spans.filter((s) => s.name === 'upstream down')
    assert.equal(attempts.length, 6)
    assert.equal(new Set(attempts.map((s) => s.spanId)).size, 6)
    for (const client of attempts) {
      assert.equal(client.kind, CLIENT)
      assert.equal(client.parentSpanId, server.spanId)
      assert.equal(client.status.code, 2)
      assert.equal(client.attributes['error.type'], 'ECONNREFUSED')
    }
  })

  it('traces each composition part as a CLIENT span whose context the part receives', async () => {
    const res = await gh.proxy('/page')
    assert.equal(res.status, 200)
    const traceId = res.headers.get('x-trace-id')!
    const spans = await receiver.waitForSpan(traceId, 'part product')
    await receiver.waitForSpan(traceId, 'GET /page')
    const server = only(spans, 'GET /page')
    const part = only(spans, 'part product')
    assert.equal(part.kind, CLIENT)
    assert.equal(part.parentSpanId, server.spanId)
    assert.equal(part.attributes['gatehouse.part'], 'product')
    const [trace, parent] = parts(catalog.requests.at(-1)!.headers.traceparent)
    assert.deepEqual([trace, parent], [traceId, part.spanId])
  })

  it('with sampling_rate 0 exports nothing, yet passes the trace id upstream and logs it', async () => {
    const res = await gh.proxy('/unsampled')
    assert.equal(res.status, 200)
    const seen = (await res.json()) as EchoBody
    const [trace, , flags] = parts(seen.headers.traceparent)
    assert.equal(flags, '00', 'not sampled')
    const line = await gh.waitForLog((l) => l.type === 'access' && l.path === '/unsampled')
    assert.equal(line.trace_id, trace)
    // A sampled request after it is exported (same flush delay); the unsampled one never is.
    const next = await gh.proxy('/fresh')
    await next.body?.cancel()
    await receiver.waitForSpan(next.headers.get('x-trace-id')!, 'GET /fresh')
    await sleep(200)
    assert.deepEqual(receiver.ofTrace(trace), [])
  })

  it('adds no trace fields to the access log of a route without the plugin', async () => {
    const res = await gh.proxy('/plain')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-trace-id'), null)
    const line = await gh.waitForLog((l) => l.type === 'access' && l.path === '/plain')
    assert.equal('trace_id' in line, false)
    assert.equal('span_id' in line, false)
  })

  it('answers as usual when the collector is down', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await gh.proxy('/dead-collector')
      assert.equal(res.status, 200)
      await res.body?.cancel()
    }
  })

  it('exports what is queued when the gateway stops (SIGTERM)', async () => {
    const res = await gh.proxy('/held')
    assert.equal(res.status, 200)
    const traceId = res.headers.get('x-trace-id')!
    await res.body?.cancel()
    // Held for an hour by max_coalescing_delay: only the shutdown flush sends it.
    await sleep(200)
    assert.deepEqual(receiver.ofTrace(traceId), [])
    const { code } = await gh.stop()
    assert.equal(code, 0)
    only(receiver.ofTrace(traceId), 'GET /held')
  })
})

describe('the opentelemetry plugin on the identity provider', () => {
  const receiver = new OtlpReceiver()
  let gh: GatehouseProcess
  let issuer = ''

  before(async () => {
    await receiver.listen()
    const gw = await startIdentityGateway({
      rest: {
        plugins: [
          {
            name: 'opentelemetry',
            config: { traces_endpoint: receiver.url, queue: { max_coalescing_delay: 0.05 } },
          },
        ],
      },
    })
    gh = gw.gh
    issuer = gw.issuer
  })

  after(async () => {
    await gh?.stop()
    await receiver.close()
  })

  it("gives each answer of the identity provider a SERVER span (a global instance's)", async () => {
    const line = await (async () => {
      const res = await fetch(`${issuer}/.well-known/openid-configuration`)
      assert.equal(res.status, 200)
      await res.body?.cancel()
      return gh.waitForLog(
        (l) => l.type === 'access' && String(l.path).endsWith('/.well-known/openid-configuration'),
      )
    })()
    const traceId = line.trace_id as string
    assert.match(traceId, /^[0-9a-f]{32}$/)
    const server = only(await receiver.waitForSpan(traceId, 'GET'), 'GET')
    assert.equal(server.kind, SERVER)
    assert.equal(server.spanId, line.span_id)
    assert.equal(server.attributes['gatehouse.route'], 'gatehouse:identity-provider')
    assert.equal(server.attributes['url.path'], line.path)
    assert.equal(server.attributes['http.response.status_code'], 200)
  })

  it('traces a request that no route matches, and one refused before routing', async () => {
    for (const [path, status] of [
      ['/no-route-takes-this', 404],
      ['/x/..%2Fy', 400],
    ] as const) {
      const res = await fetch(new URL(path, issuer).origin + path)
      assert.equal(res.status, status, path)
      await res.body?.cancel()
      const line = await gh.waitForLog((l) => l.type === 'access' && l.status === status)
      assert.match(String(line.trace_id), /^[0-9a-f]{32}$/, path)
      const server = only(await receiver.waitForSpan(line.trace_id as string, 'GET'), 'GET')
      assert.equal(server.spanId, line.span_id)
      assert.equal(server.attributes['http.response.status_code'], status)
      assert.equal(server.attributes['http.route'], undefined)
    }
  })
})
