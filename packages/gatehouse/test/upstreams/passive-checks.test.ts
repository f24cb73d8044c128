/**
 * Passive health checks (circuit breaking) on proxied traffic, with no probes: a target answering with
 * a configured unhealthy status is ejected after the threshold, gets one half-open trial after
 * `half_open_after` (which fails while it still fails), comes back once the trial succeeds, and a
 * reload with the same upstream keeps what the balancer learnt.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { poolConfig, startTargets, type Target } from './support.ts'

describe('passive health checks', () => {
  let good: Target
  let bad: Target
  let gh: GatehouseProcess
  let config: object

  const healthOf = async (t: Target): Promise<string> => {
    const page = (await (await gh.admin('/upstreams/pool/health')).json()) as {
      data: { target: string; health: string }[]
    }
    return page.data.find((d) => d.target === t.address)!.health
  }
  const statuses = async (n: number): Promise<number[]> => {
    const out: number[] = []
    for (let i = 0; i < n; i++) {
      const res = await gh.proxy('/x')
      await res.arrayBuffer()
      out.push(res.status)
    }
    return out
  }

  before(async () => {
    ;[good, bad] = await startTargets('good', 'bad')
    config = poolConfig({
      healthchecks: { passive: { unhealthy: { http_failures: 2 }, half_open_after: 1 } },
      targets: [{ target: good.address }, { target: bad.address }],
    })
    gh = await startGatehouse({ config })
  })

  after(async () => {
    await gh?.stop()
    await good?.stop()
    await bad?.stop()
  })

  it('ejects a target after two responses with an unhealthy status; the others take the traffic', async () => {
    bad.mode = 'error'
    const seen = await statuses(4)
    // Kong passes the failing answers on: circuit breaking acts on the requests after them.
    assert.deepEqual(seen.sort(), [200, 200, 500, 500])
    assert.equal(await healthOf(bad), 'UNHEALTHY')
    assert.deepEqual(await statuses(10), Array(10).fill(200))
    assert.equal(bad.hits, 2)
    const line = await gh.waitForLog(
      (l) => l.msg === 'upstream target is unhealthy; taking it out of the rotation',
    )
    assert.equal(line.via, 'passive check')
    assert.equal(line.target, bad.address)
  })

  it('keeps the ejection across a reload that leaves the upstream unchanged', async () => {
    const res = await gh.admin('/config', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(config),
    })
    assert.equal(res.status, 201)
    assert.equal(await healthOf(bad), 'UNHEALTHY')
  })

  it('lets one trial request through after half_open_after, and keeps the target out when it fails', async () => {
    await sleep(1100)
    const seen = await statuses(6)
    assert.equal(bad.hits, 3)
    assert.equal(seen.filter((s) => s === 500).length, 1)
    assert.equal(await healthOf(bad), 'UNHEALTHY')
  })

  it('brings the target back when a trial succeeds', async () => {
    bad.mode = 'ok'
    await sleep(1100)
    assert.deepEqual(await statuses(7), Array(7).fill(200))
    assert.equal(await healthOf(bad), 'HEALTHY')
    assert.ok(bad.hits >= 6, `the target is in the rotation again (${bad.hits} requests)`)
  })
})
