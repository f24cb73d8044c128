/**
 * rate-limiting across several gateway processes sharing one Redis: the limit holds exactly under
 * concurrent load spread over the nodes, and a Redis outage is survived as each plugin's fault_tolerant
 * says, with recovery when Redis comes back and no gateway restarted. Real processes, a real Redis and
 * a real upstream.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../harness/redis.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Waits for the next minute unless `room` ms of this one remain, so a burst never straddles two. */
async function minuteWithRoom(room: number): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000)
  if (left < room) await sleep(left + 5)
}

function config(upstreamUrl: string, redisUrl: string): object {
  const route = (name: string, config: object) => ({
    name,
    paths: [`/${name}`],
    plugins: [
      {
        name: 'rate-limiting',
        config: { policy: 'redis', limit_by: 'header', header_name: 'x-run', ...config },
      },
    ],
  })
  return {
    _format_version: '3.0',
    redis: { url: redisUrl, command_timeout: 300, connect_timeout: 500 },
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [
          route('shared', { minute: 25 }),
          route('tolerant', { minute: 100_000 }),
          route('strict', { minute: 100_000, fault_tolerant: false }),
          route('small', { minute: 3 }),
        ],
      },
    ],
  }
}

describe('rate-limiting on three gateways sharing one Redis', { skip: redisSkipReason() }, () => {
  let upstream: Upstream
  let redis: RedisServer
  let nodes: GatehouseProcess[] = []
  before(async () => {
    upstream = await startUpstream()
    redis = await startRedis()
    nodes = await Promise.all(
      [1, 2, 3].map(() => startGatehouse({ config: config(upstream.url, redis.url) })),
    )
  })
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    await upstream?.close()
    await redis?.stop()
  })

  /** `count` requests at once, spread round-robin over `over`, all counted under one identifier. */
  async function burst(
    over: GatehouseProcess[],
    path: string,
    count: number,
    run: string = randomUUID(),
  ): Promise<number[]> {
    const responses = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        over[i % over.length]!.proxy(path, { headers: { 'x-run': run } }),
      ),
    )
    await Promise.all(responses.map((r) => r.arrayBuffer()))
    return responses.map((r) => r.status)
  }

  const tally = (statuses: number[]) => ({
    ok: statuses.filter((s) => s === 200).length,
    limited: statuses.filter((s) => s === 429).length,
  })

  it('admits exactly 25 of 60 concurrent requests over three nodes, with a limit of 25 a minute', async () => {
    await minuteWithRoom(5000)
    assert.deepEqual(tally(await burst(nodes, '/shared', 60)), { ok: 25, limited: 35 })
  })

  it('admits exactly 25 of 40 concurrent requests over two nodes', async () => {
    await minuteWithRoom(5000)
    assert.deepEqual(tally(await burst(nodes.slice(0, 2), '/shared', 40)), { ok: 25, limited: 15 })
  })

  it('lets requests through (fault_tolerant) or answers 500 (not) while Redis is down, and limits again once it is back', async () => {
    const run = randomUUID()
    const seen: { path: string; status: number; ms: number; headers: boolean; code?: string }[] = []
    let loading = true
    // One client per node and route, each sending requests back to back through the outage.
    const loops = nodes.flatMap((node) =>
      ['/tolerant', '/strict'].map(async (path) => {
        while (loading) {
          const started = Date.now()
          const res = await node.proxy(path, { headers: { 'x-run': run } })
          const body = await res.text()
          seen.push({
            path,
            status: res.status,
            ms: Date.now() - started,
            headers: res.headers.has('x-ratelimit-limit-minute'),
            ...(res.status === 500 && { code: (JSON.parse(body) as { code: string }).code }),
          })
        }
      }),
    )
    await sleep(300)
    await redis.kill()
    await sleep(1500)
    loading = false
    await Promise.all(loops)

    const tolerant = seen.filter((s) => s.path === '/tolerant')
    const strict = seen.filter((s) => s.path === '/strict')
    assert.deepEqual([...new Set(tolerant.map((s) => s.status))], [200], 'fault_tolerant: always through')
    assert.ok(
      tolerant.some((s) => !s.headers),
      'uncounted requests carry no rate-limit headers',
    )
    assert.ok(strict.some((s) => s.status === 200) && strict.some((s) => s.status === 500))
    for (const s of strict.filter((x) => x.status !== 200))
      assert.deepEqual([s.status, s.code], [500, 'GH_ERR_RATE_LIMIT_UNAVAILABLE'])
    const slowest = Math.max(...seen.map((s) => s.ms))
    assert.ok(slowest < 1500, `no request waits on a dead Redis (slowest ${slowest} ms)`)
    for (const node of nodes) {
      await node.waitForLog((l) => l.level === 'warn' && /letting requests through/.test(l.msg), 1000)
      await node.waitForLog((l) => l.level === 'error' && /refusing requests/.test(l.msg), 1000)
    }

    // Redis comes back on the same port; the gateways reconnect by themselves.
    await redis.start()
    for (const node of nodes) {
      const deadline = Date.now() + 8000
      for (;;) {
        const res = await node.proxy('/strict', { headers: { 'x-run': run } })
        await res.arrayBuffer()
        if (res.status === 200) break
        assert.ok(Date.now() < deadline, 'the node did not recover within 8 s')
        await sleep(100)
      }
      await node.waitForLog((l) => l.msg === 'redis connection restored', 1000)
    }
    // Counted again, across the nodes: the restarted Redis starts from zero.
    await minuteWithRoom(3000)
    const again = randomUUID()
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push(...(await burst([nodes[i % 3]!], '/small', 1, again)))
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429])
  })
})
