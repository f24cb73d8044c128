/**
 * Active health checks against real backends: a target that stops is found unhealthy by the probes
 * within about two intervals and gets no traffic, no client request fails meanwhile (refused
 * connections are retried on another target), it comes back once it answers again, and with every
 * target down the gateway answers 503 with a stable code.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { poolConfig, startTargets, type Target, until } from './support.ts'

interface HealthPage {
  data: { target: string; health: string; data: { addresses: { health: string }[] } }[]
}

describe('active health checks', () => {
  let targets: Target[]
  let a: Target
  let b: Target
  let c: Target
  let gh: GatehouseProcess

  const healthOf = async (t: Target): Promise<string> => {
    const page = (await (await gh.admin('/upstreams/pool/health')).json()) as HealthPage
    return page.data.find((d) => d.target === t.address)!.health
  }

  before(async () => {
    targets = await startTargets('a', 'b', 'c')
    ;[a, b, c] = targets as [Target, Target, Target]
    gh = await startGatehouse({
      config: poolConfig({
        healthchecks: {
          active: {
            http_path: '/health',
            timeout: 0.5,
            healthy: { interval: 1, successes: 1 },
            unhealthy: { interval: 1, tcp_failures: 1, timeouts: 1, http_failures: 1 },
          },
        },
        targets: targets.map((t) => ({ target: t.address })),
      }),
    })
  })

  after(async () => {
    await gh?.stop()
    for (const t of targets ?? []) await t.stop()
  })

  it('takes a stopped target out within two intervals, and no client request fails', async () => {
    let failures = 0
    let running = true
    const traffic = (async () => {
      while (running) {
        const res = await gh.proxy('/x')
        await res.arrayBuffer()
        if (res.status !== 200) failures++
        await sleep(10)
      }
    })()
    await sleep(300)
    await b.stop()
    const detectedIn = await until(async () => (await healthOf(b)) === 'UNHEALTHY', 3000, 'b unhealthy')
    assert.ok(detectedIn < 2500, `detected in ${Math.round(detectedIn)} ms`)
    const [hitsA, hitsC] = [a.hits, c.hits]
    await sleep(500)
    running = false
    await traffic
    assert.equal(failures, 0)
    assert.ok(a.hits > hitsA && c.hits > hitsC, 'the healthy targets share the traffic')
    assert.equal(await healthOf(a), 'HEALTHY')
    assert.equal(await healthOf(c), 'HEALTHY')
  })

  it('brings the target back once its probes succeed again', async () => {
    await b.start()
    await until(async () => (await healthOf(b)) === 'HEALTHY', 3000, 'b healthy again')
    const before = b.hits
    for (let i = 0; i < 9; i++) assert.equal((await gh.proxy('/x')).status, 200)
    assert.equal(b.hits - before, 3)
  })

  it('marks a target answering the probe with an unhealthy status as unhealthy', async () => {
    c.mode = 'error'
    await until(async () => (await healthOf(c)) === 'UNHEALTHY', 3000, 'c unhealthy')
    c.mode = 'ok'
    await until(async () => (await healthOf(c)) === 'HEALTHY', 3000, 'c healthy again')
  })

  it('answers 503 GH_ERR_UPSTREAM_NO_HEALTHY_TARGET when every target is down', async () => {
    for (const t of targets) await t.stop()
    await until(
      async () => {
        const res = await gh.admin('/upstreams/pool/health?balancer_health=1')
        return ((await res.json()) as { data: { health: string } }).data.health === 'UNHEALTHY'
      },
      3000,
      'the upstream unhealthy',
    )
    const res = await gh.proxy('/x')
    assert.equal(res.status, 503)
    const body = (await res.json()) as { code: string; message: string }
    assert.equal(body.code, 'GH_ERR_UPSTREAM_NO_HEALTHY_TARGET')
    assert.equal(body.message, 'failure to get a peer from the ring-balancer')
    const line = await gh.waitForLog((l) => l.error_code === 'GH_ERR_UPSTREAM_NO_HEALTHY_TARGET')
    assert.equal(line.error_detail, "upstream 'pool': healthy weight 0 of 300")
  })
})
