/**
 * prometheus through the real gateway: Kong's families with Kong's labels and buckets on /metrics,
 * refused requests counted too, each option adding its families, per_consumer, upstream health, and the
 * sum over workers.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

/** The samples of a family in Prometheus text: each as its label set and value. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = []
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (m === null || m[1] !== name) continue
    const labels: Record<string, string> = {}
    for (const l of (m[2] ?? '').matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!
    out.push({ labels, value: Number(m[3]) })
  }
  return out
}

function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  return samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
}

const KEY = 'prometheus-test-key-3f9a1c'

function config(upstreamUrl: string, prometheus: object | null, extra: object = {}) {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'orders',
        url: upstreamUrl,
        routes: [{ name: 'orders-route', paths: ['/orders'], plugins: [{ name: 'key-auth' }] }],
      },
      { name: 'pooled', host: 'pool', routes: [{ name: 'pooled-route', paths: ['/pooled'] }] },
    ],
    upstreams: [{ name: 'pool', targets: [{ target: new URL(upstreamUrl).host }] }],
    consumers: [{ username: 'alice', keyauth_credentials: [{ key: KEY }] }],
    plugins: prometheus === null ? [] : [{ name: 'prometheus', config: prometheus }],
    ...extra,
  }
}

describe('the prometheus plugin', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  let text: string

  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({
      statusListen: true,
      config: config(upstream.url, {
        per_consumer: true,
        status_code_metrics: true,
        latency_metrics: true,
        bandwidth_metrics: true,
        upstream_health_metrics: true,
        ai_metrics: false,
        wasm_metrics: false,
      }),
    })
    for (let i = 0; i < 2; i++)
      assert.equal((await gh.proxy('/orders', { headers: { apikey: KEY } })).status, 200)
    assert.equal((await gh.proxy('/orders')).status, 401)
    assert.equal((await gh.proxy('/pooled')).status, 200)
    text = await (await gh.status('/metrics')).text()
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  it("counts requests as Kong's kong_http_requests_total, with service, route, code, source, workspace and consumer", () => {
    const base = { service: 'orders', route: 'orders-route', workspace: 'default' }
    assert.equal(
      value(text, 'kong_http_requests_total', { ...base, code: '200', source: 'service', consumer: 'alice' }),
      2,
    )
    // Refused by key-auth before the prometheus plugin's turn, and still counted: the source is the gateway.
    assert.equal(
      value(text, 'kong_http_requests_total', { ...base, code: '401', source: 'kong', consumer: '' }),
      1,
    )
    // Kong labels a service without a name by its host; this one has a name.
    assert.equal(
      value(text, 'kong_http_requests_total', { service: 'pooled', route: 'pooled-route', code: '200' }),
      1,
    )
    // The gateway's own families are there too, unchanged.
    assert.equal(
      value(text, 'gatehouse_http_requests_total', { service: 'orders', route: 'orders-route', code: '401' }),
      1,
    )
  })

  it("observes Kong's three latency histograms in milliseconds with Kong's buckets", () => {
    const labels = { service: 'orders', route: 'orders-route', workspace: 'default' }
    assert.equal(value(text, 'kong_request_latency_ms_count', labels), 3)
    assert.equal(value(text, 'kong_kong_latency_ms_count', labels), 3)
    // Only the two requests that reached the upstream have an upstream latency.
    assert.equal(value(text, 'kong_upstream_latency_ms_count', labels), 2)
    const le = (name: string) =>
      samples(text, `${name}_bucket`)
        .filter((s) => s.labels.route === 'orders-route')
        .map((s) => s.labels.le)
    assert.deepEqual(le('kong_kong_latency_ms'), [
      ...[
        '1',
        '2',
        '5',
        '7',
        '10',
        '15',
        '20',
        '30',
        '50',
        '75',
        '100',
        '200',
        '500',
        '750',
        '1000',
        '3000',
        '6000',
      ],
      '+Inf',
    ])
    assert.deepEqual(le('kong_request_latency_ms'), [
      ...['25', '50', '80', '100', '250', '400', '700', '1000', '2000', '5000', '10000', '30000', '60000'],
      '+Inf',
    ])
    const sum = value(text, 'kong_request_latency_ms_sum', labels)!
    assert.ok(sum > 0 && sum < 60_000, `milliseconds, not seconds: ${sum}`)
  })

  it('counts bandwidth both ways, per consumer', () => {
    const labels = { service: 'orders', route: 'orders-route', workspace: 'default', consumer: 'alice' }
    const ingress = value(text, 'kong_bandwidth_bytes', { ...labels, direction: 'ingress' })!
    const egress = value(text, 'kong_bandwidth_bytes', { ...labels, direction: 'egress' })!
    // Two requests of a head each (a request line, Host, the key, fetch's headers): well over 100 bytes.
    assert.ok(ingress > 200, `ingress ${ingress}`)
    // Two responses: the echo upstream's JSON bodies and the heads.
    assert.ok(egress > 400, `egress ${egress}`)
  })

  it("exports kong_upstream_target_health with Kong's states and the subsystem label", () => {
    const target = new URL(upstream.url).host
    const rows = samples(text, 'kong_upstream_target_health').filter((s) => s.labels.upstream === 'pool')
    assert.deepEqual(rows.map((s) => s.labels.state).toSorted(), [
      'dns_error',
      'healthchecks_off',
      'healthy',
      'unhealthy',
    ])
    for (const row of rows) {
      assert.equal(row.labels.target, target)
      assert.equal(row.labels.subsystem, 'http')
      assert.equal(row.value, row.labels.state === 'healthchecks_off' ? 1 : 0)
    }
  })
})

describe('the prometheus plugin, options and scope', () => {
  let upstream: Upstream
  before(async () => {
    upstream = await startUpstream()
  })
  after(async () => {
    await upstream?.close()
  })

  it('exports no kong_ family without the plugin, and only the families its options ask for', async () => {
    const bare = await startGatehouse({ statusListen: true, config: config(upstream.url, null) })
    try {
      await (await bare.proxy('/pooled')).arrayBuffer()
      const text = await (await bare.status('/metrics')).text()
      assert.deepEqual(text.match(/^kong_\w+/gm), null)
      assert.ok(value(text, 'gatehouse_http_requests_total', { route: 'pooled-route', code: '200' }))
    } finally {
      await bare.stop()
    }
    const some = await startGatehouse({
      statusListen: true,
      config: config(upstream.url, { status_code_metrics: true }),
    })
    try {
      await (await some.proxy('/orders', { headers: { apikey: KEY } })).arrayBuffer()
      const text = await (await some.status('/metrics')).text()
      // per_consumer is off: the consumer label is there, empty (Kong's label set does not change).
      assert.equal(
        value(text, 'kong_http_requests_total', { route: 'orders-route', code: '200', consumer: '' }),
        1,
      )
      for (const off of [
        'kong_request_latency_ms_count',
        'kong_bandwidth_bytes',
        'kong_upstream_target_health',
      ])
        assert.equal(samples(text, off).length, 0, off)
    } finally {
      await some.stop()
    }
  })

  it('counts a route-scoped instance only on its route', async () => {
    const scoped = config(upstream.url, null)
    scoped.plugins = [
      { name: 'prometheus', config: { status_code_metrics: true }, route: 'pooled-route' } as never,
    ]
    const gh = await startGatehouse({ statusListen: true, config: scoped })
    try {
      await (await gh.proxy('/pooled')).arrayBuffer()
      await (await gh.proxy('/orders')).arrayBuffer()
      const text = await (await gh.status('/metrics')).text()
      assert.equal(value(text, 'kong_http_requests_total', { route: 'pooled-route', code: '200' }), 1)
      assert.equal(value(text, 'kong_http_requests_total', { route: 'orders-route' }), undefined)
    } finally {
      await gh.stop()
    }
  })

  it("refuses a config key Kong's schema does not have, naming it", async () => {
    const bad = startGatehouse({ config: config(upstream.url, { status_code_metric: true }) })
    await assert.rejects(bad, /status_code_metric/)
  })

  it('sums the counts of every worker on the one /metrics of the node', async () => {
    const gh = await startGatehouse({
      statusListen: true,
      env: { GATEHOUSE_WORKERS: '2' },
      timeout: 60_000,
      config: config(upstream.url, { status_code_metrics: true, upstream_health_metrics: true }),
    })
    try {
      // New connections each time, so both workers get some of them (SO_REUSEPORT spreads by connection).
      for (let i = 0; i < 20; i++) {
        const res = await gh.proxy('/pooled', { headers: { connection: 'close' } })
        await res.arrayBuffer()
      }
      const text = await (await gh.status('/metrics')).text()
      assert.equal(value(text, 'kong_http_requests_total', { route: 'pooled-route', code: '200' }), 20)
      // Health is not summed over workers: 1 where any worker sees that state.
      assert.equal(
        value(text, 'kong_upstream_target_health', { upstream: 'pool', state: 'healthchecks_off' }),
        1,
      )
      assert.equal(
        value(text, 'gatehouse_upstream_target_health', { upstream: 'pool', state: 'healthchecks_off' }),
        1,
      )
    } finally {
      await gh.stop()
    }
  })
})
