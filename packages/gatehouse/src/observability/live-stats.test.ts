import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  LiveStats,
  type NodeSecond,
  nextWait,
  quantileMs,
  SecondSampler,
  WINDOW_SECONDS,
} from './live-stats.ts'
import { GatewayMetrics, LATENCY_BUCKETS } from './metrics.ts'

/** Per-bucket counts with `n` observations in the bucket whose upper bound is `le` seconds. */
function bucketsWith(...entries: [le: number, n: number][]): number[] {
  const counts = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0)
  for (const [le, n] of entries) {
    const i = Number.isFinite(le) ? LATENCY_BUCKETS.indexOf(le) : LATENCY_BUCKETS.length
    assert.notEqual(i, -1, `${le} is a bucket bound`)
    counts[i]! += n
  }
  return counts
}

describe('quantiles from histogram buckets', () => {
  it('interpolates linearly within the bucket the rank falls in, as histogram_quantile does', () => {
    // 100 observations in (0.01, 0.025]: the median is halfway, 17.5 ms; p99 near the top.
    assert.equal(quantileMs(0.5, bucketsWith([0.025, 100])), 17.5)
    assert.equal(quantileMs(0.99, bucketsWith([0.025, 100])), 24.85)
    // The first bucket's lower bound is 0.
    assert.equal(quantileMs(0.5, bucketsWith([0.001, 10])), 0.5)
  })

  it('finds the bucket by cumulative count, so a slow tail moves p99 and not p50', () => {
    const buckets = bucketsWith([0.005, 98], [1, 2])
    assert.ok(quantileMs(0.5, buckets)! <= 5)
    assert.ok(quantileMs(0.99, buckets)! > 500)
  })

  it('answers the largest finite bound for the +Inf bucket, and null without observations', () => {
    assert.equal(quantileMs(0.99, bucketsWith([Number.POSITIVE_INFINITY, 3])), 60_000)
    assert.equal(quantileMs(0.5, bucketsWith()), null)
  })
})

describe('the sampler of one process', () => {
  it("reports what each route's series gained since the last look, by class and bucket, and nothing when idle", () => {
    const metrics = new GatewayMetrics()
    try {
      const orders = metrics.forRoute('orders', 'orders-route')
      const sampler = new SecondSampler(metrics)
      orders.record(200, 0.003, -1)
      orders.record(201, 0.003, -1)
      orders.record(404, 0.02, -1)
      const [first, ...rest] = sampler.take()
      assert.equal(rest.length, 0)
      assert.equal(first!.route, 'orders-route')
      assert.equal(first!.service, 'orders')
      assert.deepEqual(first!.classes, [0, 2, 0, 1, 0])
      assert.equal(first!.buckets[LATENCY_BUCKETS.indexOf(0.005)], 2)
      assert.equal(first!.buckets[LATENCY_BUCKETS.indexOf(0.025)], 1)
      assert.deepEqual(sampler.take(), [], 'nothing new')
      orders.record(503, 0.2, -1)
      assert.deepEqual(sampler.take()[0]!.classes, [0, 0, 0, 0, 1])
    } finally {
      metrics.stop()
    }
  })
})

describe("the node's window", () => {
  it("sums its own and the workers' gains into one second, quantiles from the summed buckets", () => {
    let now = 1_700_000_000_500
    const own = [{ service: 's', route: 'r', classes: [0, 1, 0, 0, 0], buckets: bucketsWith([0.001, 1]) }]
    let next = own
    const live = new LiveStats(
      () => {
        const out = next
        next = []
        return out
      },
      () => now,
    )
    live.add([{ service: 's', route: 'r', classes: [0, 97, 0, 2, 0], buckets: bucketsWith([0.001, 99]) }])
    live.add([{ service: 's', route: 'other', classes: [0, 0, 0, 0, 100], buckets: bucketsWith([1, 100]) }])
    const second = live.tick()!
    assert.equal(second.t, 1_699_999_999)
    assert.equal(second.requests, 200)
    assert.deepEqual(second.status, { '1xx': 0, '2xx': 98, '3xx': 0, '4xx': 2, '5xx': 100 })
    assert.deepEqual(
      second.routes.map((r) => [r.route, r.requests]),
      [
        ['other', 100],
        ['r', 100],
      ],
    )
    assert.ok(second.p99_ms! > 500, 'the slow route dominates the node p99')
    assert.ok(second.routes[1]!.p99_ms! <= 1)
    now += 1000
    const idle = live.tick()!
    assert.equal(idle.requests, 0)
    assert.equal(idle.p50_ms, null)
    assert.equal(idle.t, second.t + 1)
  })

  it('keeps 15 minutes, fills the seconds a stalled loop missed, and sends the window on subscribe', () => {
    let now = 1_700_000_000_200
    const live = new LiveStats(
      () => [],
      () => now,
    )
    live.tick()
    now += 5000
    live.tick()
    const seen: NodeSecond[] = []
    const { history } = live.subscribe({ second: (json) => seen.push(JSON.parse(json)), end: () => {} })
    const window = JSON.parse(history) as NodeSecond[]
    assert.deepEqual(
      window.map((s) => s.t - window[0]!.t),
      [0, 1, 2, 3, 4, 5],
    )
    for (let i = 0; i < WINDOW_SECONDS + 10; i++) {
      now += 1000
      live.tick()
    }
    assert.equal(seen.length, WINDOW_SECONDS + 10)
    const later = JSON.parse(live.subscribe({ second: () => {}, end: () => {} }).history) as NodeSecond[]
    assert.equal(later.length, WINDOW_SECONDS)
    assert.equal(later.at(-1)!.t, seen.at(-1)!.t)
  })

  it('never runs ahead of the clock: a second tick within one second waits, its gains kept for the next', () => {
    let now = 1_700_000_000_200
    let gains = [{ service: 's', route: 'r', classes: [0, 1, 0, 0, 0], buckets: bucketsWith([0.001, 1]) }]
    const live = new LiveStats(
      () => {
        const out = gains
        gains = []
        return out
      },
      () => now,
    )
    assert.equal(live.tick()!.t, 1_699_999_999)
    now += 500
    gains = [{ service: 's', route: 'r', classes: [0, 2, 0, 0, 0], buckets: bucketsWith([0.001, 2]) }]
    assert.equal(live.tick(), null, 'the same second again: nothing closed')
    now += 600
    const next = live.tick()!
    assert.equal(next.t, 1_700_000_000)
    assert.equal(next.requests, 2, 'the gains of the early tick')
  })

  it('waits for the next whole second, a second more when the timer came a little early', () => {
    assert.equal(nextWait(1_700_000_000_200), 800)
    assert.equal(nextWait(1_700_000_000_000), 1000)
    assert.equal(nextWait(1_700_000_000_950), 1050, 'fired 50 ms early: not again at once')
  })

  it('ends every subscription when stopped, and a later subscriber at once', () => {
    const live = new LiveStats(() => [])
    const ended: string[] = []
    live.subscribe({ second: () => {}, end: (reason) => ended.push(reason) })
    live.stop()
    live.subscribe({ second: () => {}, end: (reason) => ended.push(reason) })
    assert.equal(ended.length, 2)
    assert.match(ended[0]!, /shutting down/)
  })
})
