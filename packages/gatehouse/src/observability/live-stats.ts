/**
 * The node's traffic second by second, for the admin console's live charts (`GET /stats/stream`,
 * admin/stats-stream.ts): requests, p50/p99 latency and responses by status class, in total and per
 * route, for each of the last 15 minutes' seconds. Computed from the same per-route counters and latency
 * histograms as /metrics (metrics.ts), never from its text: once a second each process takes what its
 * series gained since the last look (SecondSampler: a comparison of counts per series, bucket arithmetic
 * only for the series that moved), and the node (LiveStats, in the single process or the primary) adds
 * the workers' gains to its own, estimates the quantiles from the summed buckets and keeps the window.
 *
 * Quantiles are estimated as Prometheus' histogram_quantile does: linear within the bucket the rank falls
 * in (0 as the first bucket's lower bound; the largest finite bound for the +Inf bucket), so they are as
 * precise as LATENCY_BUCKETS allow, and a p99 of several workers is the p99 of their summed buckets.
 */
import { type GatewayMetrics, type HistogramSeries, LATENCY_BUCKETS } from './metrics.ts'

/** Seconds of history kept and sent to a stream on connect. */
export const WINDOW_SECONDS = 900
/** Response classes counted: 1xx … 5xx. */
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const
const BUCKETS = LATENCY_BUCKETS.length + 1

/** What one route gained in one process since the last look (sent from a worker to its primary). */
export interface RouteDelta {
  readonly service: string
  readonly route: string
  /** Responses by class, CLASSES order. */
  readonly classes: number[]
  /** Latency observations by bucket (not cumulative), LATENCY_BUCKETS order then +Inf. */
  readonly buckets: number[]
}

export type StatusCounts = Record<(typeof CLASSES)[number], number>

/** One route's second, as the stream sends it. */
export interface RouteSecond {
  readonly route: string
  readonly service: string
  readonly requests: number
  readonly status: StatusCounts
  readonly p50_ms: number | null
  readonly p99_ms: number | null
}

/** One second of the node, as the stream sends it: `t` is the second (Unix time) the numbers are for. */
export interface NodeSecond {
  readonly t: number
  readonly requests: number
  readonly status: StatusCounts
  readonly p50_ms: number | null
  readonly p99_ms: number | null
  /** The routes that answered requests in this second, busiest first. */
  readonly routes: readonly RouteSecond[]
}

/** Per process: what each route's series gained since the previous `take()`. */
export class SecondSampler {
  readonly #metrics: GatewayMetrics
  /** Each series' bucket counts at the previous look, its total count in the last slot. */
  readonly #previous = new WeakMap<HistogramSeries, Float64Array>()

  constructor(metrics: GatewayMetrics) {
    this.#metrics = metrics
  }

  take(): RouteDelta[] {
    const out: RouteDelta[] = []
    for (const route of this.#metrics.routeSeries()) {
      let delta: RouteDelta | null = null
      route.eachCode((code, series) => {
        let seen = this.#previous.get(series)
        if (seen === undefined) {
          seen = new Float64Array(BUCKETS + 1)
          this.#previous.set(series, seen)
        }
        const gained = series.count - seen[BUCKETS]!
        if (gained === 0) return
        delta ??= { service: route.service, route: route.route, classes: [0, 0, 0, 0, 0], buckets: zeros() }
        const cls = Math.min(Math.max(Math.floor(code / 100), 1), 5) - 1
        delta.classes[cls]! += gained
        for (let i = 0; i < BUCKETS; i++) {
          delta.buckets[i]! += series.counts[i]! - seen[i]!
          seen[i] = series.counts[i]!
        }
        seen[BUCKETS] = series.count
      })
      if (delta !== null) out.push(delta)
    }
    return out
  }
}

export interface StatsSubscriber {
  /** A new second, as JSON (serialized once for every subscriber). */
  second(json: string, t: number): void
  /** The node is stopping: no more seconds will come. */
  end(reason: string): void
}

/**
 * The node's window of seconds. Ticks 200 ms after each second boundary, so that the workers' gains of
 * the second that just ended (sent at the boundary, cluster/worker.ts) are in before it is closed.
 */
export class LiveStats {
  readonly #sampleOwn: () => RouteDelta[]
  readonly #now: () => number
  /** The gains of the second being collected, by `service\0route`. */
  readonly #pending = new Map<string, RouteDelta>()
  /** The window, oldest first, each second as JSON. */
  readonly #window: { t: number; json: string }[] = []
  readonly #subscribers = new Set<StatsSubscriber>()
  #stopTimer: (() => void) | null = null
  #stopped = false

  constructor(sampleOwn: () => RouteDelta[], now: () => number = Date.now) {
    this.#sampleOwn = sampleOwn
    this.#now = now
  }

  start(): void {
    if (this.#stopTimer !== null || this.#stopped) return
    this.#stopTimer = onEverySecond(200, () => this.tick(), this.#now)
  }

  /** Ends every subscription and stops ticking (shutdown). */
  stop(reason = 'the gateway is shutting down'): void {
    this.#stopped = true
    this.#stopTimer?.()
    this.#stopTimer = null
    for (const s of this.#subscribers) s.end(reason)
    this.#subscribers.clear()
  }

  /** A worker's gains (or this process's): counted in the second being collected. */
  add(deltas: readonly RouteDelta[]): void {
    for (const d of deltas) {
      const key = `${d.service}\0${d.route}`
      const into = this.#pending.get(key)
      if (into === undefined) {
        this.#pending.set(key, { ...d, classes: [...d.classes], buckets: [...d.buckets] })
        continue
      }
      for (let i = 0; i < into.classes.length; i++) into.classes[i]! += d.classes[i] ?? 0
      for (let i = 0; i < into.buckets.length; i++) into.buckets[i]! += d.buckets[i] ?? 0
    }
  }

  /**
   * Closes the second that just ended: own gains added, quantiles estimated, sent to every subscriber.
   * Null when that second is closed already (a timer that fired twice in one second, a clock stepped
   * back): the gains wait for the next second, so seconds never run ahead of the clock.
   */
  tick(): NodeSecond | null {
    this.add(this.#sampleOwn())
    const last = this.#window.at(-1)?.t
    const t = Math.floor(this.#now() / 1000) - 1
    if (last !== undefined && t <= last) return null
    // A stalled loop leaves the seconds it missed empty; their gains count in the latest.
    if (last !== undefined)
      for (let s = Math.max(last + 1, t - WINDOW_SECONDS); s < t; s++) this.#push(empty(s))
    const second = summarize(t, this.#pending.values())
    this.#pending.clear()
    const json = this.#push(second)
    for (const s of this.#subscribers) s.second(json, t)
    return second
  }

  /** Subscribes to every next second; returns the window so far (JSON array, oldest first). */
  subscribe(subscriber: StatsSubscriber): { history: string; unsubscribe(): void } {
    if (this.#stopped) {
      subscriber.end('the gateway is shutting down')
      return { history: '[]', unsubscribe: () => {} }
    }
    this.#subscribers.add(subscriber)
    return {
      history: `[${this.#window.map((s) => s.json).join(',')}]`,
      unsubscribe: () => this.#subscribers.delete(subscriber),
    }
  }

  #push(second: NodeSecond): string {
    const json = JSON.stringify(second)
    this.#window.push({ t: second.t, json })
    if (this.#window.length > WINDOW_SECONDS) this.#window.splice(0, this.#window.length - WINDOW_SECONDS)
    return json
  }
}

/**
 * Calls `fn` `offsetMs` after every whole second of `now()`, without keeping the process alive; returns
 * the stop. The wall clock and the timers' clock drift apart: a timer that fires a little before its
 * mark is not followed at once by another, but waits for the next second's.
 */
export function onEverySecond(offsetMs: number, fn: () => void, now: () => number = Date.now): () => void {
  let timer: NodeJS.Timeout | undefined
  let stopped = false
  const schedule = () => {
    timer = setTimeout(
      () => {
        fn()
        if (!stopped) schedule()
      },
      nextWait(now() - offsetMs),
    )
    timer.unref()
  }
  schedule()
  return () => {
    stopped = true
    clearTimeout(timer)
  }
}

/** Milliseconds to the next whole second after `at`; a second more when that is under 100 ms away. */
export function nextWait(at: number): number {
  const wait = 1000 - (((at % 1000) + 1000) % 1000)
  return wait < 100 ? wait + 1000 : wait
}

function zeros(): number[] {
  return new Array<number>(BUCKETS).fill(0)
}

function empty(t: number): NodeSecond {
  return { t, requests: 0, status: statusCounts([0, 0, 0, 0, 0]), p50_ms: null, p99_ms: null, routes: [] }
}

function statusCounts(classes: readonly number[]): StatusCounts {
  return {
    '1xx': classes[0]!,
    '2xx': classes[1]!,
    '3xx': classes[2]!,
    '4xx': classes[3]!,
    '5xx': classes[4]!,
  }
}

function summarize(t: number, deltas: Iterable<RouteDelta>): NodeSecond {
  const classes = [0, 0, 0, 0, 0]
  const buckets = zeros()
  const routes: RouteSecond[] = []
  for (const d of deltas) {
    let requests = 0
    for (let i = 0; i < classes.length; i++) {
      classes[i]! += d.classes[i]!
      requests += d.classes[i]!
    }
    for (let i = 0; i < BUCKETS; i++) buckets[i]! += d.buckets[i]!
    routes.push({
      route: d.route,
      service: d.service,
      requests,
      status: statusCounts(d.classes),
      p50_ms: quantileMs(0.5, d.buckets),
      p99_ms: quantileMs(0.99, d.buckets),
    })
  }
  routes.sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route))
  return {
    t,
    requests: classes.reduce((a, b) => a + b, 0),
    status: statusCounts(classes),
    p50_ms: quantileMs(0.5, buckets),
    p99_ms: quantileMs(0.99, buckets),
    routes,
  }
}

/**
 * The q-quantile of a histogram's observations, in milliseconds to 0.01, from its per-bucket counts
 * (LATENCY_BUCKETS order, then +Inf); null when it has none.
 */
export function quantileMs(q: number, buckets: readonly number[]): number | null {
  const total = buckets.reduce((a, b) => a + b, 0)
  if (total === 0) return null
  const rank = q * total
  let below = 0
  for (let i = 0; i < buckets.length; i++) {
    const count = buckets[i]!
    if (count > 0 && below + count >= rank) {
      const top = LATENCY_BUCKETS.length - 1
      if (i > top) return round(LATENCY_BUCKETS[top]! * 1000)
      const lower = i === 0 ? 0 : LATENCY_BUCKETS[i - 1]!
      const upper = LATENCY_BUCKETS[i]!
      return round((lower + ((upper - lower) * (rank - below)) / count) * 1000)
    }
    below += count
  }
  return round(LATENCY_BUCKETS.at(-1)! * 1000)
}

const round = (ms: number) => Math.round(ms * 100) / 100
