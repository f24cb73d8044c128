/**
 * Route matching with Kong's precedence (traditional_compatible router, kong/router/transform.lua):
 * a route must match every field it sets; among matches the winner is the one that sets more fields,
 * then has only plain (non-wildcard) hosts, then more headers, then a regex path over a prefix path,
 * then higher regex_priority, then the longer prefix; remaining ties go to the earlier route in the
 * file. Each path of a route is its own entry, as in Kong. The table is compiled once per config.
 */
import type { RouteEntity } from '../config/model.ts'

export interface RequestFacts {
  readonly method: string
  /** Host header, lower-cased, without port. */
  readonly host: string
  /** Port of the Host header, or the port the client connected to. */
  readonly port: number
  /** Normalised path, without query. */
  readonly path: string
  /** Request headers (Node's lower-cased object); read only when a route matches on headers. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
}

export interface RouteMatch<T> {
  readonly target: T
  readonly route: RouteEntity
  /** Characters at the start of the path that the route's path matched (what strip_path removes). */
  readonly matchedLength: number
  /** Named and numbered captures of a regex path, or null. */
  readonly captures: Readonly<Record<string, string>> | null
}

interface HostMatcher {
  readonly kind: 'exact' | 'suffix' | 'prefix'
  readonly value: string
  readonly port: number | null
}

interface HeaderMatcher {
  readonly name: string
  readonly values: ReadonlySet<string>
  readonly patterns: readonly RegExp[]
}

interface Entry<T> {
  readonly target: T
  readonly route: RouteEntity
  readonly order: number
  readonly methods: ReadonlySet<string> | null
  readonly hosts: readonly HostMatcher[] | null
  readonly headers: readonly HeaderMatcher[] | null
  readonly prefix: string | null
  readonly regex: RegExp | null
  /** Kong's sort key, most significant first. */
  readonly rank: readonly number[]
}

export class Router<T> {
  readonly #entries: Entry<T>[]

  constructor(routes: readonly { route: RouteEntity; target: T }[]) {
    const entries: Entry<T>[] = []
    routes.forEach(({ route, target }, order) => {
      const base = compileCommon(route)
      const paths = route.paths && route.paths.length > 0 ? route.paths : [null]
      for (const path of paths) entries.push(compileEntry(route, target, order, base, path))
    })
    entries.sort(compareEntries)
    this.#entries = entries
  }

  match(req: RequestFacts): RouteMatch<T> | null {
    for (const e of this.#entries) {
      if (e.methods !== null && !e.methods.has(req.method)) continue
      if (e.hosts !== null && !matchHost(e.hosts, req.host, req.port)) continue
      let matchedLength = 0
      let captures: Record<string, string> | null = null
      if (e.prefix !== null) {
        if (!req.path.startsWith(e.prefix)) continue
        matchedLength = e.prefix.length
      } else if (e.regex !== null) {
        const m = e.regex.exec(req.path)
        if (m === null) continue
        matchedLength = m[0].length
        captures = capturesOf(m)
      }
      if (e.headers !== null && !matchHeaders(e.headers, req.headers)) continue
      return { target: e.target, route: e.route, matchedLength, captures }
    }
    return null
  }
}

function compileCommon(route: RouteEntity) {
  const methods = route.methods?.length ? new Set(route.methods) : null
  const hosts = route.hosts?.length ? route.hosts.map(compileHost) : null
  const headers =
    route.headers && Object.keys(route.headers).length > 0 ? compileHeaders(route.headers) : null
  const fieldCount = (methods ? 1 : 0) + (hosts ? 1 : 0) + (headers ? 1 : 0) + (route.paths?.length ? 1 : 0)
  const plainHostsOnly = hosts?.every((h) => h.kind === 'exact') ?? false
  return { methods, hosts, headers, fieldCount, plainHostsOnly }
}

function compileEntry<T>(
  route: RouteEntity,
  target: T,
  order: number,
  base: ReturnType<typeof compileCommon>,
  path: string | null,
): Entry<T> {
  const isRegex = path?.startsWith('~') ?? false
  // Anchored at the start, as Kong's router does.
  const regex = isRegex ? new RegExp(`^(?:${path!.slice(1)})`) : null
  const prefix = path !== null && !isRegex ? path : null
  const rank = [
    base.fieldCount,
    base.plainHostsOnly ? 1 : 0,
    base.headers?.length ?? 0,
    isRegex ? 1 : 0,
    isRegex ? route.regex_priority : 0,
    prefix?.length ?? 0,
  ]
  return {
    target,
    route,
    order,
    methods: base.methods,
    hosts: base.hosts,
    headers: base.headers,
    prefix,
    regex,
    rank,
  }
}

function compareEntries<T>(a: Entry<T>, b: Entry<T>): number {
  for (let i = 0; i < a.rank.length; i++) {
    const d = b.rank[i]! - a.rank[i]!
    if (d !== 0) return d
  }
  return a.order - b.order
}

function compileHost(spec: string): HostMatcher {
  const portMatch = /:(\d{1,5})$/.exec(spec)
  const port = portMatch ? Number(portMatch[1]) : null
  const host = portMatch ? spec.slice(0, portMatch.index) : spec
  if (host.startsWith('*.')) return { kind: 'suffix', value: host.slice(1), port }
  if (host.endsWith('.*')) return { kind: 'prefix', value: host.slice(0, -1), port }
  return { kind: 'exact', value: host, port }
}

function matchHost(hosts: readonly HostMatcher[], host: string, port: number): boolean {
  for (const h of hosts) {
    if (h.port !== null && h.port !== port) continue
    if (
      h.kind === 'exact'
        ? host === h.value
        : h.kind === 'suffix'
          ? host.endsWith(h.value)
          : host.startsWith(h.value)
    )
      return true
  }
  return false
}

function compileHeaders(headers: Readonly<Record<string, readonly string[]>>): HeaderMatcher[] {
  return Object.entries(headers).map(([name, values]) => ({
    name,
    values: new Set(values.filter((v) => !v.startsWith('~*')).map((v) => v.toLowerCase())),
    patterns: values.filter((v) => v.startsWith('~*')).map((v) => new RegExp(v.slice(2), 'i')),
  }))
}

/** Every configured header must have at least one request value (any occurrence) that matches. */
function matchHeaders(
  matchers: readonly HeaderMatcher[],
  headers: Readonly<Record<string, string | string[] | undefined>>,
): boolean {
  for (const m of matchers) {
    const raw = headers[m.name]
    if (raw === undefined) return false
    const values = Array.isArray(raw) ? raw : m.name === 'set-cookie' ? [raw] : raw.split(',')
    let ok = false
    for (const v of values) {
      const value = v.trim().toLowerCase()
      if (m.values.has(value) || m.patterns.some((p) => p.test(value))) {
        ok = true
        break
      }
    }
    // A single header line may itself contain a comma; try it whole too.
    if (!ok && typeof raw === 'string' && raw.includes(',')) {
      const whole = raw.trim().toLowerCase()
      ok = m.values.has(whole) || m.patterns.some((p) => p.test(whole))
    }
    if (!ok) return false
  }
  return true
}

function capturesOf(m: RegExpExecArray): Record<string, string> | null {
  if (m.length <= 1 && !m.groups) return null
  const out: Record<string, string> = {}
  for (let i = 1; i < m.length; i++) if (m[i] !== undefined) out[i] = m[i]!
  if (m.groups) for (const [k, v] of Object.entries(m.groups)) if (v !== undefined) out[k] = v
  return out
}
