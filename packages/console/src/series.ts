/**
 * The last 15 minutes of the node's traffic as the stream sent them, and the columns the charts draw:
 * one point per second, ending at the newest second; a second the console never received (before the
 * gateway started, while disconnected) is a gap (null), not a zero.
 */
import type { NodeSecond, RouteSecond } from './stream.ts'

export const WINDOW_SECONDS = 900

/** A route as the picker names it: its route label (`service` for the unmatched "" and builtins too). */
export interface RouteName {
  readonly key: string
  readonly route: string
  readonly service: string
}

export const routeKey = (r: Pick<RouteSecond, 'route' | 'service'>) => `${r.service}\u0000${r.route}`

export function routeLabel(r: Pick<RouteSecond, 'route' | 'service'>): string {
  if (r.route === '') return '(no route matched)'
  return r.route
}

export interface Columns {
  /** Seconds (Unix time), the x axis. */
  readonly t: number[]
  readonly requests: (number | null)[]
  readonly p50: (number | null)[]
  readonly p99: (number | null)[]
  readonly s2xx: (number | null)[]
  readonly s3xx: (number | null)[]
  readonly s4xx: (number | null)[]
  readonly s5xx: (number | null)[]
}

export class TrafficWindow {
  readonly #seconds = new Map<number, NodeSecond>()
  #latest = 0

  /** Replaces the window with a stream's history (sent on every connect). */
  reset(seconds: readonly NodeSecond[]): void {
    this.#seconds.clear()
    this.#latest = 0
    for (const s of seconds) this.add(s)
  }

  add(second: NodeSecond): void {
    this.#seconds.set(second.t, second)
    if (second.t > this.#latest) this.#latest = second.t
    for (const t of this.#seconds.keys()) if (t <= this.#latest - WINDOW_SECONDS) this.#seconds.delete(t)
  }

  get latest(): NodeSecond | null {
    return this.#seconds.get(this.#latest) ?? null
  }

  /** Every route that answered in the window, busiest first. */
  routes(): RouteName[] {
    const totals = new Map<string, { name: RouteName; requests: number }>()
    for (const s of this.#seconds.values())
      for (const r of s.routes) {
        const key = routeKey(r)
        const entry = totals.get(key) ?? { name: { key, route: r.route, service: r.service }, requests: 0 }
        entry.requests += r.requests
        totals.set(key, entry)
      }
    return [...totals.values()]
      .sort((a, b) => b.requests - a.requests || a.name.route.localeCompare(b.name.route))
      .map((e) => e.name)
  }

  /** The chart columns of the node (`route` null) or of one route, over the whole window. */
  columns(route: string | null): Columns {
    const c: Columns = { t: [], requests: [], p50: [], p99: [], s2xx: [], s3xx: [], s4xx: [], s5xx: [] }
    const end = this.#latest === 0 ? Math.floor(Date.now() / 1000) - 1 : this.#latest
    for (let t = end - WINDOW_SECONDS + 1; t <= end; t++) {
      c.t.push(t)
      const s = this.#seconds.get(t)
      const r: Omit<RouteSecond, 'route' | 'service'> | null | undefined =
        s === undefined
          ? undefined
          : route === null
            ? s
            : (s.routes.find((x) => routeKey(x) === route) ?? null)
      if (r === undefined) {
        for (const k of ['requests', 'p50', 'p99', 's2xx', 's3xx', 's4xx', 's5xx'] as const) c[k].push(null)
        continue
      }
      // A second the route had no requests in: zero requests, no latency.
      c.requests.push(r?.requests ?? 0)
      c.p50.push(r?.p50_ms ?? null)
      c.p99.push(r?.p99_ms ?? null)
      c.s2xx.push(r?.status['2xx'] ?? 0)
      c.s3xx.push(r?.status['3xx'] ?? 0)
      c.s4xx.push(r?.status['4xx'] ?? 0)
      c.s5xx.push(r?.status['5xx'] ?? 0)
    }
    return c
  }

  /** Per route over the last `seconds`: requests and responses by class, and its latest quantiles. */
  summary(seconds = 60): RouteSummary[] {
    const out = new Map<string, RouteSummary>()
    const from = this.#latest - seconds + 1
    const ordered = [...this.#seconds.values()].sort((a, b) => a.t - b.t)
    for (const s of ordered) {
      if (s.t < from) continue
      for (const r of s.routes) {
        const key = routeKey(r)
        const e = out.get(key) ?? {
          key,
          route: r.route,
          service: r.service,
          requests: 0,
          s2xx: 0,
          s3xx: 0,
          s4xx: 0,
          s5xx: 0,
          p50: null,
          p99: null,
        }
        e.requests += r.requests
        e.s2xx += r.status['2xx']
        e.s3xx += r.status['3xx']
        e.s4xx += r.status['4xx']
        e.s5xx += r.status['5xx']
        e.p50 = r.p50_ms
        e.p99 = r.p99_ms
        out.set(key, e)
      }
    }
    return [...out.values()].sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route))
  }
}

export interface RouteSummary {
  key: string
  route: string
  service: string
  requests: number
  s2xx: number
  s3xx: number
  s4xx: number
  s5xx: number
  /** The quantiles of the route's latest second with requests, ms. */
  p50: number | null
  p99: number | null
}
