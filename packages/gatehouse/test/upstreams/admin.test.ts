/**
 * The admin API's upstream endpoints against a real gateway, in Kong's shapes: `/upstreams`, one
 * upstream by name or id, its targets, one target by address or id, and `/upstreams/{u}/health` with
 * each target's HEALTHY, UNHEALTHY, DNS_ERROR or HEALTHCHECKS_OFF; writes answer 405 (DB-less).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { startTargets, type Target, until } from './support.ts'

interface Page {
  data: Record<string, unknown>[]
  next: string | null
  node_id?: string
}

describe('the admin API of upstreams and targets', () => {
  let live: Target
  let gh: GatehouseProcess
  const json = async (path: string) => {
    const res = await gh.admin(path)
    return { status: res.status, body: (await res.json()) as Page & Record<string, unknown> }
  }

  before(async () => {
    ;[live] = await startTargets('live')
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        upstreams: [
          {
            name: 'pool',
            healthchecks: { passive: { unhealthy: { http_failures: 1 } } },
            targets: [
              { target: live.address, tags: ['primary'] },
              { target: 'no-such-host.invalid:80' },
              { target: '127.0.0.1:9', weight: 0 },
            ],
          },
          { name: 'quiet', tags: ['shop'], targets: [{ target: live.address }] },
        ],
        services: [{ name: 'svc', host: 'pool', routes: [{ name: 'all', paths: ['/'] }] }],
      },
    })
  })

  after(async () => {
    await gh?.stop()
    await live?.stop()
  })

  it('lists upstreams with every Kong field, finds one by name or id, and filters by tags', async () => {
    const { status, body } = await json('/upstreams')
    assert.equal(status, 200)
    assert.equal(body.next, null)
    assert.deepEqual(
      body.data.map((u) => u.name),
      ['pool', 'quiet'],
    )
    const pool = body.data[0]!
    for (const key of [
      'id',
      'algorithm',
      'hash_on',
      'hash_fallback',
      'slots',
      'healthchecks',
      'host_header',
      'tags',
      'created_at',
    ])
      assert.ok(key in pool, `upstream has ${key}`)
    assert.equal(pool.algorithm, 'round-robin')
    assert.equal(pool.host_header, null)
    assert.deepEqual((await json('/upstreams/pool')).body, pool)
    assert.deepEqual((await json(`/upstreams/${pool.id as string}`)).body, pool)
    assert.deepEqual(
      (await json('/upstreams?tags=shop')).body.data.map((u) => u.name),
      ['quiet'],
    )
    const missing = await json('/upstreams/nope')
    assert.equal(missing.status, 404)
    assert.equal(missing.body.code, 'GH_ERR_ADMIN_NOT_FOUND')
  })

  it('lists the targets of an upstream and finds one by address or id', async () => {
    const { body } = await json('/upstreams/pool/targets')
    assert.deepEqual(
      body.data.map((t) => [t.target, t.weight]),
      [
        [live.address, 100],
        ['no-such-host.invalid:80', 100],
        ['127.0.0.1:9', 0],
      ],
    )
    const first = body.data[0]!
    assert.deepEqual(Object.keys(first).sort(), [
      'created_at',
      'id',
      'tags',
      'target',
      'updated_at',
      'upstream',
      'weight',
    ])
    assert.deepEqual(first.tags, ['primary'])
    assert.deepEqual((await json(`/upstreams/pool/targets/${live.address}`)).body, first)
    assert.deepEqual((await json(`/upstreams/pool/targets/${first.id as string}`)).body, first)
    assert.equal((await json('/upstreams/quiet/targets/127.0.0.1:9')).status, 404)
  })

  it("shows each target's health, with its addresses, and the upstream's own with balancer_health", async () => {
    // The name that does not resolve has had its first answer once the balancer is ready.
    await until(async () => (await gh.proxy('/')).status === 200, 5000, 'the service answers')
    const { body } = await json('/upstreams/pool/health')
    assert.equal(typeof body.node_id, 'string')
    assert.deepEqual(
      body.data.map((t) => [t.target, t.health]),
      [
        [live.address, 'HEALTHY'],
        ['no-such-host.invalid:80', 'DNS_ERROR'],
        ['127.0.0.1:9', 'HEALTHY'],
      ],
    )
    assert.deepEqual(body.data[0]!.data, {
      addresses: [
        {
          ip: '127.0.0.1',
          port: live.port,
          health: 'HEALTHY',
          weight: 100,
          failures: { tcp_failures: 0, timeouts: 0, http_failures: 0, last: null },
        },
      ],
      dns: 'IP',
      weight: { total: 100, available: 100, unavailable: 0 },
    })
    assert.deepEqual((body.data[1]!.data as { addresses: unknown[] }).addresses, [])
    const quiet = await json('/upstreams/quiet/health')
    assert.deepEqual(
      quiet.body.data.map((t) => t.health),
      ['HEALTHCHECKS_OFF'],
    )
    const balancer = await json('/upstreams/pool/health?balancer_health=1')
    assert.deepEqual(balancer.body, {
      data: {
        id: (await json('/upstreams/pool')).body.id,
        health: 'HEALTHY',
        details: { weight: { total: 100, available: 100, unavailable: 0 } },
      },
      next: null,
    })
  })

  it('sets a target unhealthy and healthy again by hand, on this node', async () => {
    const post = (path: string) => gh.admin(path, { method: 'POST' })
    assert.equal((await post(`/upstreams/pool/targets/${live.address}/unhealthy`)).status, 204)
    const health = await json('/upstreams/pool/health')
    assert.equal(health.body.data[0]!.health, 'UNHEALTHY')
    const refused = await gh.proxy('/')
    assert.equal(refused.status, 503)
    assert.equal(((await refused.json()) as { code: string }).code, 'GH_ERR_UPSTREAM_NO_HEALTHY_TARGET')
    assert.equal((await post(`/upstreams/pool/targets/${live.address}/healthy`)).status, 204)
    assert.equal((await gh.proxy('/')).status, 200)
    assert.equal((await post('/upstreams/pool/targets/10.1.1.1:80/healthy')).status, 404)
    assert.equal((await gh.admin(`/upstreams/pool/targets/${live.address}/healthy`)).status, 405)
  })

  it('refuses writes with 405, as a DB-less Kong node does', async () => {
    const create = await gh.admin('/upstreams', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    assert.equal(create.status, 405)
    const body = (await create.json()) as { code: string; message: string }
    assert.equal(body.code, 'GH_ERR_ADMIN_METHOD_NOT_ALLOWED')
    assert.equal(body.message, "cannot create 'upstreams' entities when not using a database")
    const remove = await gh.admin(`/upstreams/pool/targets/${live.address}`, { method: 'DELETE' })
    assert.equal(remove.status, 405)
    assert.equal(
      ((await remove.json()) as { message: string }).message,
      "cannot remove 'targets' entities when not using a database",
    )
  })
})
