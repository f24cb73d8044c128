/**
 * Node information, status and Prometheus metrics from the admin API, against a real gateway and a real
 * upstream. Counts are exact: each describe starts its own gateway, and the test makes every request.
 *
 * Requests that match no route are counted under `service=""`, `route=""` (as Kong's prometheus plugin
 * does), so a flood of 404s shows on the same dashboards as routed traffic.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import pkg from '../../package.json' with { type: 'json' }
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { sample } from '../harness/prometheus.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

/** Retries `check` until it passes: metrics are recorded when the server sees the response finish. */
async function eventually(check: () => Promise<void>, timeout = 3000): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    try {
      await check()
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
      await sleep(25)
    }
  }
}

const config = (upstream: Upstream) => ({
  _format_version: '3.0',
  services: [{ name: 'svc', url: upstream.url, routes: [{ name: 'api', paths: ['/api'] }] }],
  plugins: [{ name: 'request-id', route: 'api' }],
})

describe('node information and status', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  const status = async () => {
    const res = await gh.admin('/status')
    assert.equal(res.status, 200)
    return (await res.json()) as {
      configuration_hash: string
      configuration_loaded_at: string
      server: { connections_active: number; total_requests: number }
      database: { reachable: boolean }
    }
  }

  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({ config: config(upstream) })
  })
  after(async () => {
    await gh.stop()
    await upstream.close()
  })

  it('counts open proxy connections and proxied requests at /status', async () => {
    // First, before any proxy traffic, so that the counts are exact.
    assert.deepEqual((await status()).server.connections_active, 0)
    const { hostname, port } = new URL(gh.proxyUrl)
    const socket = connect(Number(port), hostname)
    await once(socket, 'connect')
    await eventually(async () => assert.equal((await status()).server.connections_active, 1))
    socket.destroy()
    await eventually(async () => assert.equal((await status()).server.connections_active, 0))

    assert.equal((await status()).server.total_requests, 0)
    for (const path of ['/api/a', '/api/b', '/unrouted']) await (await gh.proxy(path)).body?.cancel()
    assert.equal((await status()).server.total_requests, 3)
  })

  it('reports the configuration hash of the started line at /status', async () => {
    const started = await gh.waitForLog((l) => l.msg === 'gatehouse started')
    const body = await status()
    assert.match(body.configuration_hash, /^[0-9a-f]{64}$/)
    assert.equal(body.configuration_hash, started.config_hash)
    assert.deepEqual(body.database, { reachable: true })
    assert.equal('redis' in body, false, 'no Redis configured, none reported')
  })

  it('says when the running configuration was loaded, and a reload moves it', async () => {
    const started = await gh.waitForLog((l) => l.msg === 'gatehouse started')
    const first = Date.parse((await status()).configuration_loaded_at)
    assert.ok(first <= Date.parse(started.time as string), 'loaded before the started line')
    assert.ok(first > Date.now() - 120_000)
    const before = Date.now()
    const reload = await gh.admin('/config', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(config(upstream)),
    })
    assert.equal(reload.status, 201, await reload.text())
    const loaded = Date.parse((await status()).configuration_loaded_at)
    assert.ok(loaded >= before - 5 && loaded <= Date.now(), `${loaded} within the reload`)
  })

  it('describes the node at GET /: version, node_id and plugins', async () => {
    const res = await gh.admin('/')
    assert.equal(res.status, 200)
    const body = (await res.json()) as {
      version: string
      node_id: string
      plugins: { available_on_server: string[]; enabled_in_cluster: string[] }
      configuration: { database: string; admin_listen: string; proxy_listen: string }
    }
    assert.equal(body.version, pkg.version)
    assert.match(body.node_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.ok(body.plugins.available_on_server.includes('request-id'))
    assert.deepEqual(body.plugins.enabled_in_cluster, ['request-id'])
    assert.equal(body.configuration.database, 'off')
    assert.equal(`http://${body.configuration.admin_listen}`, gh.adminUrl)
    assert.equal(`http://${body.configuration.proxy_listen}`, gh.proxyUrl)
    const again = (await (await gh.admin('/')).json()) as { node_id: string }
    assert.equal(again.node_id, body.node_id, 'the node id is stable for the life of the process')
  })

  it('answers 200 at /status/ready while serving', async () => {
    const res = await gh.admin('/status/ready')
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { message: 'ready', checks: { configuration: 'ok' } })
  })
})

describe('Prometheus metrics at GET /metrics', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  const metrics = async () => {
    const res = await gh.admin('/metrics')
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
    return res.text()
  }
  const config = (routePath: string) => ({
    _format_version: '3.0',
    services: [
      {
        name: 'shop',
        url: upstream.url,
        routes: [
          { name: 'catalog', paths: [routePath] },
          { name: 'basket', paths: ['/basket'] },
        ],
      },
    ],
  })
  const request = async (path: string, expected: number) => {
    const res = await gh.proxy(path)
    assert.equal(res.status, expected, path)
    await res.body?.cancel()
  }

  before(async () => {
    upstream = await startUpstream((req, res) => {
      // The upstream's own 503, to be counted by its code.
      const status = req.url?.endsWith('/fail') ? 503 : 200
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': '2' })
      res.end('ok')
    })
    gh = await startGatehouse({ config: config('/catalog') })
  })
  after(async () => {
    await gh.stop()
    await upstream.close()
  })

  it('counts proxied requests by service, route and code, exactly', async () => {
    for (let i = 0; i < 3; i++) await request('/catalog/items', 200)
    await request('/catalog/fail', 503)
    await request('/basket', 200)
    await eventually(async () => {
      const text = await metrics()
      const count = (route: string, code: string) =>
        sample(text, 'gatehouse_http_requests_total', { service: 'shop', route, code })
      assert.equal(count('catalog', '200'), 3)
      assert.equal(count('catalog', '503'), 1)
      assert.equal(count('basket', '200'), 1)
      assert.equal(count('basket', '503'), undefined)
    })
    const text = await metrics()
    assert.match(text, /^gatehouse_http_requests_total\{service="shop",route="catalog",code="200"\} 3$/m)
  })

  it('records request and upstream durations as histograms', async () => {
    const text = await metrics()
    const catalog = { service: 'shop', route: 'catalog' }
    assert.match(text, /^# TYPE gatehouse_request_duration_seconds histogram$/m)
    assert.match(text, /^# TYPE gatehouse_upstream_duration_seconds histogram$/m)
    assert.equal(sample(text, 'gatehouse_request_duration_seconds_count', { ...catalog, code: '200' }), 3)
    assert.equal(
      sample(text, 'gatehouse_request_duration_seconds_bucket', { ...catalog, code: '200', le: '+Inf' }),
      3,
    )
    assert.equal(
      sample(text, 'gatehouse_request_duration_seconds_bucket', { ...catalog, code: '200', le: '60' }),
      3,
    )
    const sum = sample(text, 'gatehouse_request_duration_seconds_sum', { ...catalog, code: '200' })
    assert.ok(sum !== undefined && sum > 0 && sum < 30, `sum ${sum}`)
    // One upstream exchange per proxied request, whatever its code.
    assert.equal(sample(text, 'gatehouse_upstream_duration_seconds_count', catalog), 4)
    assert.equal(sample(text, 'gatehouse_upstream_duration_seconds_bucket', { ...catalog, le: '+Inf' }), 4)
    assert.equal(
      sample(text, 'gatehouse_upstream_duration_seconds_count', { service: 'shop', route: 'basket' }),
      1,
    )
  })

  it('does not count admin API requests as proxied traffic', async () => {
    await metrics()
    await gh.admin('/status')
    const text = await metrics()
    const total = text
      .split('\n')
      .filter((l) => l.startsWith('gatehouse_http_requests_total{'))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0)
    assert.equal(total, 5)
  })

  it('counts requests that match no route under service="" and route=""', async () => {
    await request('/nowhere', 404)
    await request('/nowhere/else', 404)
    await eventually(async () => {
      const text = await metrics()
      assert.equal(sample(text, 'gatehouse_http_requests_total', { service: '', route: '', code: '404' }), 2)
      assert.equal(
        sample(text, 'gatehouse_request_duration_seconds_count', { service: '', route: '', code: '404' }),
        2,
      )
    }, 1000)
  })

  it('reports the configuration in use as gatehouse_config_info{hash} 1', async () => {
    const started = await gh.waitForLog((l) => l.msg === 'gatehouse started')
    const text = await metrics()
    assert.equal(sample(text, 'gatehouse_config_info', { hash: String(started.config_hash) }), 1)
    assert.equal(text.split('\n').filter((l) => l.startsWith('gatehouse_config_info{')).length, 1)
  })

  it('counts reloads by result and follows the new hash after POST /config', async () => {
    const started = await gh.waitForLog((l) => l.msg === 'gatehouse started')
    let text = await metrics()
    assert.equal(sample(text, 'gatehouse_config_reloads_total', { result: 'success' }), 0)
    assert.equal(sample(text, 'gatehouse_config_reloads_total', { result: 'failure' }), 0)

    const post = (body: object) =>
      gh.admin('/config', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const loaded = await post(config('/products'))
    assert.equal(loaded.status, 201)
    const { config_hash: hash } = (await loaded.json()) as { config_hash: string }
    text = await metrics()
    assert.equal(sample(text, 'gatehouse_config_reloads_total', { result: 'success' }), 1)
    assert.equal(sample(text, 'gatehouse_config_reloads_total', { result: 'failure' }), 0)
    assert.equal(sample(text, 'gatehouse_config_info', { hash }), 1)
    assert.equal(sample(text, 'gatehouse_config_info', { hash: String(started.config_hash) }), undefined)

    const refused = await post({ _format_version: '3.0', services: [{ name: 'x' }] })
    assert.equal(refused.status, 400)
    await refused.body?.cancel()
    text = await metrics()
    assert.equal(sample(text, 'gatehouse_config_reloads_total', { result: 'success' }), 1)
    assert.equal(sample(text, 'gatehouse_config_reloads_total', { result: 'failure' }), 1)
    assert.equal(sample(text, 'gatehouse_config_info', { hash }), 1)

    // Counts go on under the same labels after the reload.
    await request('/products/x', 200)
    await eventually(async () => {
      const after = await metrics()
      assert.equal(
        sample(after, 'gatehouse_http_requests_total', { service: 'shop', route: 'catalog', code: '200' }),
        4,
      )
    })
  })

  it('exports the process metrics and the open proxy connections', async () => {
    const text = await metrics()
    assert.match(text, /^# TYPE gatehouse_proxy_connections gauge$/m)
    assert.ok((sample(text, 'gatehouse_proxy_connections') ?? -1) >= 0)
    assert.ok((sample(text, 'process_resident_memory_bytes') ?? 0) > 0)
  })
})
