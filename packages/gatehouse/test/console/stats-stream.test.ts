/**
 * GET /stats/stream (issue 12), the live charts' source, against real gateways and a real upstream: the
 * admin token is required; it is text/event-stream with the last 15 minutes as one `history` event on
 * connect and then one `second` event a second; the numbers are exact counts of what went through the
 * proxy, by route and status class, with p50/p99 from the latency histograms; with two workers they are
 * the node's (the primary sums what each worker reports); and SIGTERM ends open streams with an `end`
 * event at once, so an idle stream never holds a shutdown up.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { NodeSecond } from '../../src/observability/live-stats.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { load, StatsStream, sum, TOKEN } from './support.ts'

const config = (upstream: Upstream) => ({
  _format_version: '3.0',
  admin: { token: TOKEN },
  services: [
    {
      name: 'shop',
      url: upstream.url,
      routes: [
        { name: 'orders', paths: ['/orders'], strip_path: false },
        { name: 'missing', paths: ['/missing'], strip_path: false },
        { name: 'broken', paths: ['/broken'], strip_path: false },
      ],
    },
  ],
})

/** 200 for /orders, 404 for /missing, 500 for /broken, after `delayMs`. */
function upstreamHandler(delayMs = 0) {
  return (req: { url?: string | undefined }, res: import('node:http').ServerResponse) => {
    const status = req.url?.startsWith('/missing') ? 404 : req.url?.startsWith('/broken') ? 500 : 200
    setTimeout(() => res.writeHead(status, { 'content-type': 'text/plain' }).end('x'), delayMs)
  }
}

const routeTotal = (
  seconds: readonly NodeSecond[],
  route: string,
  pick: (r: NodeSecond['routes'][number]) => number,
) => sum(seconds, (s) => s.routes.filter((r) => r.route === route).reduce((n, r) => n + pick(r), 0))

describe('GET /stats/stream', () => {
  let upstream: Upstream
  let gh: GatehouseProcess

  before(async () => {
    upstream = await startUpstream(upstreamHandler(20))
    gh = await startGatehouse({ config: config(upstream) })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  it('needs the admin token, like every admin resource', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }]) {
      const res = await gh.admin('/stats/stream', { headers })
      assert.equal(res.status, 401)
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="gatehouse-admin"')
      assert.equal(((await res.json()) as { code: string }).code, 'GH_ERR_ADMIN_UNAUTHORIZED')
    }
    const post = await gh.admin('/stats/stream', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    assert.equal(post.status, 405)
    assert.equal(post.headers.get('allow'), 'GET, HEAD')
    await post.body?.cancel()
  })

  it('is an event stream: the window on connect, then one event a second', async () => {
    const stream = await StatsStream.open(gh.adminUrl, TOKEN)
    try {
      assert.equal(stream.response.status, 200)
      assert.equal(stream.response.headers.get('content-type'), 'text/event-stream; charset=utf-8')
      assert.equal(stream.response.headers.get('cache-control'), 'no-store')
      await stream.until((events) => events.filter((e) => e.name === 'second').length >= 2)
      const [history] = stream.events
      assert.equal(history!.name, 'history')
      const window = JSON.parse(history!.data) as {
        interval_seconds: number
        window_seconds: number
        seconds: NodeSecond[]
      }
      assert.equal(window.interval_seconds, 1)
      assert.equal(window.window_seconds, 900)
      const seconds = stream.seconds()
      const all = [...window.seconds, ...seconds]
      for (let i = 1; i < all.length; i++) assert.equal(all[i]!.t, all[i - 1]!.t + 1, 'consecutive seconds')
      const second = stream.events.find((e) => e.name === 'second')!
      assert.equal(second.id, String(seconds[0]!.t), 'the id is the second')
      assert.deepEqual(Object.keys(seconds[0]!), ['t', 'requests', 'status', 'p50_ms', 'p99_ms', 'routes'])
      assert.deepEqual(Object.keys(seconds[0]!.status), ['1xx', '2xx', '3xx', '4xx', '5xx'])
      assert.ok(Math.abs(seconds.at(-1)!.t - Date.now() / 1000) < 5, 'about now')
    } finally {
      stream.close()
    }
  })

  it('counts every proxied request once, by route and status class, with p50 and p99', async () => {
    const stream = await StatsStream.open(gh.adminUrl, TOKEN)
    try {
      await stream.until((events) => events.some((e) => e.name === 'history'))
      const statuses = [
        ...(await load(gh.proxyUrl, '/orders', 30)),
        ...(await load(gh.proxyUrl, '/missing', 7)),
        ...(await load(gh.proxyUrl, '/broken', 3)),
        ...(await load(gh.proxyUrl, '/nowhere', 2)),
      ]
      assert.equal(statuses.length, 42)
      await stream.until(() => sum(stream.seconds(), (s) => s.requests) >= 42)
      await stream.until(() => stream.seconds().length >= 2)
      const seconds = stream.seconds()
      assert.equal(
        sum(seconds, (s) => s.requests),
        42,
      )
      assert.equal(
        sum(seconds, (s) => s.status['2xx']),
        30,
      )
      assert.equal(
        sum(seconds, (s) => s.status['4xx']),
        9,
        '7 from the upstream, 2 matched no route',
      )
      assert.equal(
        sum(seconds, (s) => s.status['5xx']),
        3,
      )
      assert.equal(
        routeTotal(seconds, 'orders', (r) => r.status['2xx']),
        30,
      )
      assert.equal(
        routeTotal(seconds, 'missing', (r) => r.status['4xx']),
        7,
      )
      assert.equal(
        routeTotal(seconds, 'broken', (r) => r.status['5xx']),
        3,
      )
      assert.equal(
        routeTotal(seconds, '', (r) => r.requests),
        2,
        'the unmatched, under route ""',
      )
      const busy = seconds.filter((s) => s.requests > 0)
      for (const s of busy) {
        assert.ok(s.p50_ms !== null && s.p99_ms !== null && s.p50_ms <= s.p99_ms, JSON.stringify(s))
        assert.equal(
          s.routes.reduce((n, r) => n + r.requests, 0),
          s.requests,
        )
      }
      const orders = busy.flatMap((s) => s.routes.filter((r) => r.route === 'orders'))
      assert.ok(
        orders.every((r) => r.p50_ms! >= 10),
        'the upstream takes 20 ms: every p50 is in the bucket above 10 ms or higher',
      )
      assert.equal(orders[0]!.service, 'shop')
    } finally {
      stream.close()
    }
  })

  it('sends the seconds already past to a new stream, load included', async () => {
    await load(gh.proxyUrl, '/orders', 5)
    // A second is closed 200 ms after it ends; the next connect has it in its history.
    const deadline = Date.now() + 10_000
    for (;;) {
      const stream = await StatsStream.open(gh.adminUrl, TOKEN)
      await stream.until((events) => events.length > 0)
      stream.close()
      const window = (JSON.parse(stream.events[0]!.data) as { seconds: NodeSecond[] }).seconds
      // Everything this file sent so far: 42 in the test before and these 5 (an earlier stream's
      // seconds are in the window too; the window holds 15 minutes).
      if (routeTotal(window, 'orders', (r) => r.requests) === 35) break
      assert.ok(
        Date.now() < deadline,
        `history: ${routeTotal(window, 'orders', (r) => r.requests)} for orders`,
      )
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
  })
})

describe('GET /stats/stream on a node of two workers', () => {
  let upstream: Upstream
  let gh: GatehouseProcess

  before(async () => {
    upstream = await startUpstream(upstreamHandler())
    gh = await startGatehouse({ config: config(upstream), env: { GATEHOUSE_WORKERS: '2' }, timeout: 60_000 })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  it("sums the workers' traffic: every request once, whichever worker served it", async () => {
    const status = (await (
      await gh.admin('/status', { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as {
      workers: unknown[]
    }
    assert.equal(status.workers.length, 2)
    const stream = await StatsStream.open(gh.adminUrl, TOKEN)
    try {
      await stream.until((events) => events.some((e) => e.name === 'history'))
      // Twelve connections at once: the kernel spreads them over both workers (SO_REUSEPORT).
      const statuses = await load(gh.proxyUrl, '/orders', 60, 12)
      assert.ok(statuses.every((s) => s === 200))
      await stream.until(() => sum(stream.seconds(), (s) => s.requests) >= 60)
      await stream.until(() => stream.seconds().length >= 3)
      assert.equal(
        sum(stream.seconds(), (s) => s.requests),
        60,
      )
      assert.equal(
        routeTotal(stream.seconds(), 'orders', (r) => r.status['2xx']),
        60,
      )
      const workers = (await (
        await gh.admin('/status', { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as {
        workers: { total_requests: number }[]
      }
      assert.ok(
        workers.workers.every((w) => w.total_requests > 0),
        `both workers served: ${workers.workers.map((w) => w.total_requests)}`,
      )
      assert.equal(
        workers.workers.reduce((n, w) => n + w.total_requests, 0),
        60,
        'the same total /status counts',
      )
    } finally {
      stream.close()
    }
  })
})

describe('a stream open at shutdown', () => {
  it('ends with an `end` event at SIGTERM, and the gateway stops without waiting for it', async () => {
    const gh = await startGatehouse({ config: { _format_version: '3.0', admin: { token: TOKEN } } })
    const stream = await StatsStream.open(gh.adminUrl, TOKEN)
    try {
      await stream.until((events) => events.some((e) => e.name === 'second'))
      gh.signal('SIGTERM')
      await stream.closed
      const last = stream.events.at(-1)!
      assert.equal(last.name, 'end')
      assert.deepEqual(JSON.parse(last.data), { reason: 'the gateway is shutting down' })
      const { code } = await gh.exited
      assert.equal(code, 0)
    } finally {
      stream.close()
      await gh.stop()
    }
  })
})
