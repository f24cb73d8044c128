/**
 * The process's stdout read slowly (issue 11, item 5): whatever reads the log (a container runtime, a
 * shipper) may pause while the proxy keeps serving. No access line may be lost or arrive in pieces, and
 * `gatehouse_log_lines_dropped_total` says nothing was dropped.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { sample } from '../harness/prometheus.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

const REQUESTS = 2000

/** The value of the unlabelled sample `name` in Prometheus text. */
describe('a slow reader of the log output', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [{ name: 'svc', url: upstream.url, routes: [{ name: 'api', paths: ['/api'] }] }],
      },
    })
  })
  after(async () => {
    await gh.stop()
    await upstream.close()
  })

  it('gets every access line of 2,000 requests served while it paused, once and whole', async () => {
    const stdout = gh.child.stdout!
    stdout.pause()
    // About 1 kB a line, 2 MB in all: many times what the socket to this process and its buffer hold.
    const pad = 'p'.repeat(800)
    let next = 0
    const client = async () => {
      while (next < REQUESTS) {
        const i = next++
        const res = await gh.proxy(`/api/${pad}/${i}`, { headers: { 'x-request-id': `slow-${i}` } })
        assert.equal(res.status, 200)
        await res.arrayBuffer()
      }
    }
    await Promise.all(Array.from({ length: 16 }, client))
    const metrics = await (await gh.admin('/metrics')).text()
    assert.equal(sample(metrics, 'gatehouse_log_lines_dropped_total'), 0)

    stdout.resume()
    const served = () => gh.accessLines().filter((l) => String(l.request_id).startsWith('slow-'))
    for (let waited = 0; waited < 30_000 && served().length < REQUESTS; waited += 50) await sleep(50)

    const seen = new Map<string, number>()
    for (const line of served()) {
      const i = Number(String(line.request_id).slice('slow-'.length))
      assert.equal(line.path, `/api/${pad}/${i}`)
      assert.equal(line.status, 200)
      seen.set(String(line.request_id), (seen.get(String(line.request_id)) ?? 0) + 1)
    }
    assert.equal(seen.size, REQUESTS, `${REQUESTS - seen.size} access lines missing`)
    assert.ok(
      [...seen.values()].every((n) => n === 1),
      'no line twice',
    )
    // Whole: every line of the output so far is JSON (the harness skips lines that are not).
    const text = gh.stdout.slice(0, gh.stdout.lastIndexOf('\n'))
    for (const line of text.split('\n')) assert.doesNotThrow(() => JSON.parse(line), line.slice(0, 200))
  })
})
