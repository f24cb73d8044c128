/**
 * Turns the benchmark's raw rows (one per system, connection count and round) into the summary the
 * driver prints and saves: median req/s over the rounds with min–max, the system's median CPU time per
 * request (every process of it), median p50/p99, the ratio of req/s to `direct` (the upstream alone) and,
 * for Gatehouse rows, to `nginx` (the plain-proxy floor) and to `node-floor` (req/s and p99).
 * Rows with errors, measured on a busy machine or whose rounds disagree by more than 20% are flagged in a
 * `notes` column, never averaged in silently. A second table sets Gatehouse's JWT verification beside
 * HAProxy's and Express Gateway's, per algorithm, against the targets of issue 3; a third shows the
 * identity provider's figures (issue 4): token issuance, and a route taking its tokens beside plain
 * Gatehouse. The identity propagation table (issue 5), the scale-out tables (issue 7) and the own-cost and
 * workers tables (issue 11) are in report-propagation.ts, report-scale-out.ts and report-workers.ts, built
 * on the helpers exported here (median, roundRange, medianRatio, withRange, verdict, the table renderers).
 * Output: aligned text tables, Markdown tables, and the raw rows as TSV.
 * Over STYLE's 400 lines because the Row / Summary shapes, the helpers every table shares and the first
 * three tables read together; each later table has a file of its own.
 */
import { ALGS, type Alg } from './tokens.ts'

export interface Row {
  round: number
  system: string
  conns: number
  /** Token pool the requests carried (`none`: no Authorization header). */
  tokens: string
  rps: number
  p50_ms: number
  p90_ms: number
  p99_ms: number
  requests: number
  non2xx: number
  connect_err: number
  read_err: number
  write_err: number
  timeouts: number
  /** CPU used during the measured run, in % of one core. */
  sut_cpu_pct: number
  upstream_cpu_pct: number
  wrk_cpu_pct: number
  /** Everything else on the machine (not the servers, wrk or this driver): the noise indicator. */
  other_cpu_pct: number
  /** 1, or more when the run was repeated because the machine was busy. */
  attempts: number
  /** The system's CPU time (all its processes, as sut_cpu_pct) per successful request, in µs. */
  cpu_us_per_req: number
  /** The same with the upstream's CPU added: all the server side's CPU per successful request, in µs. */
  server_cpu_us_per_req: number
  /** gatehouse-ratelimit-redis: the Redis server's part of sut_cpu_pct; null for the others. */
  redis_cpu_pct: number | null
  /** Several nodes: each node's req/s and CPU (% of a core), joined with `+`; '' for one node. */
  node_rps: string
  node_cpu_pct: string
  /**
   * Every process of the system (each node's tree, Redis: nginx's master and worker, a Gatehouse primary
   * and its workers): each one's CPU in % of a core over the run, joined with `+`; '' for one process.
   */
  proc_cpu_pct: string
  /** Resident memory of the system's processes just after the run, in MB (VmRSS summed). */
  rss_mb: number
  /** The same per process, joined with `+`; '' for one process. */
  proc_rss_mb: string
}

export const TSV_COLUMNS: (keyof Row)[] = [
  'round',
  'system',
  'conns',
  'tokens',
  'rps',
  'p50_ms',
  'p90_ms',
  'p99_ms',
  'requests',
  'non2xx',
  'connect_err',
  'read_err',
  'write_err',
  'timeouts',
  'sut_cpu_pct',
  'upstream_cpu_pct',
  'wrk_cpu_pct',
  'other_cpu_pct',
  'attempts',
  'cpu_us_per_req',
  'server_cpu_us_per_req',
  'redis_cpu_pct',
  'node_rps',
  'node_cpu_pct',
  'proc_cpu_pct',
  'rss_mb',
  'proc_rss_mb',
]

export function toTsv(rows: Row[]): string {
  const lines = rows.map((r) => TSV_COLUMNS.map((c) => String(r[c] ?? '')).join('\t'))
  return `${[TSV_COLUMNS.join('\t'), ...lines].join('\n')}\n`
}

export function errorCount(r: Row): number {
  return r.non2xx + r.connect_err + r.read_err + r.write_err + r.timeouts
}

export interface Summary {
  system: string
  conns: number
  runs: number
  rpsMedian: number
  rpsMin: number
  rpsMax: number
  p50Median: number
  p99Median: number
  /** Median over the rounds of the system's CPU time per successful request, in µs. */
  cpuUsMedian: number
  vsDirect: number | null
  vsNginx: number | null
  /** Gatehouse rows: req/s relative to the bare node:http + undici proxy (what Gatehouse's own work costs). */
  vsFloor: number | null
  /** Gatehouse rows: p99 relative to node-floor's p99 (issue 11: ≤ 1.5 for `gatehouse`). */
  p99VsFloor: number | null
  notes: string[]
}

/** Systems that are not a request through a proxy to the upstream: no ratio to `direct` makes sense. */
const NOT_PROXIED = new Set(['identity-token'])

/** Flag a row when its rounds' req/s span more than this fraction of the median. */
const SPREAD_NOTE = 0.2

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** One summary per (system, conns), in the order given by `systems` and `connections`. */
export function summarize(
  rows: Row[],
  systems: string[],
  connections: number[],
  disturbedPct: number,
): Summary[] {
  const out: Summary[] = []
  const medianOf = (system: string, conns: number, metric: (r: Row) => number): number | null => {
    const values = rows.filter((r) => r.system === system && r.conns === conns).map(metric)
    return values.length ? median(values) : null
  }
  const medianRps = (system: string, conns: number) => medianOf(system, conns, (r) => r.rps)
  for (const conns of connections) {
    const direct = medianRps('direct', conns)
    const nginx = medianRps('nginx', conns)
    const floor = medianRps('node-floor', conns)
    const floorP99 = medianOf('node-floor', conns, (r) => r.p99_ms)
    for (const system of systems) {
      const mine = rows.filter((r) => r.system === system && r.conns === conns)
      if (mine.length === 0) continue
      const rps = mine.map((r) => r.rps)
      const notes: string[] = []
      for (const r of mine) {
        if (errorCount(r) > 0) {
          const parts = [
            ['non-2xx', r.non2xx],
            ['connect', r.connect_err],
            ['read', r.read_err],
            ['write', r.write_err],
            ['timeout', r.timeouts],
          ]
            .filter(([, n]) => Number(n) > 0)
            .map(([what, n]) => `${n} ${what}`)
          notes.push(`ERRORS in round ${r.round}: ${parts.join(', ')}`)
        }
        if (r.other_cpu_pct >= disturbedPct)
          notes.push(`busy machine in round ${r.round} (others ${r.other_cpu_pct}%)`)
      }
      const rpsMedian = median(rps)
      const p99Median = median(mine.map((r) => r.p99_ms))
      const spread = (Math.max(...rps) - Math.min(...rps)) / rpsMedian
      if (mine.length > 1 && spread > SPREAD_NOTE)
        notes.push(`rounds differ by ${Math.round(spread * 100)}% of the median (noisy)`)
      out.push({
        system,
        conns,
        runs: mine.length,
        rpsMedian,
        rpsMin: Math.min(...rps),
        rpsMax: Math.max(...rps),
        p50Median: median(mine.map((r) => r.p50_ms)),
        p99Median,
        cpuUsMedian: median(mine.map((r) => r.cpu_us_per_req)),
        vsDirect: direct && !NOT_PROXIED.has(system) ? rpsMedian / direct : null,
        vsNginx:
          nginx && (system.startsWith('gatehouse') || system === 'node-floor') ? rpsMedian / nginx : null,
        vsFloor: floor && system.startsWith('gatehouse') ? rpsMedian / floor : null,
        p99VsFloor: floorP99 && system.startsWith('gatehouse') ? p99Median / floorP99 : null,
        notes,
      })
    }
  }
  return out
}

const HEADER = [
  'system',
  'conns',
  'req/s (median)',
  'min–max',
  'µs CPU/req',
  'p50 ms',
  'p99 ms',
  '× direct',
  '× nginx',
  '× node-floor',
  'p99 × node-floor',
  'notes',
]
const RIGHT = [false, true, true, true, true, true, true, true, true, true, true, false]

export const int = (n: number) => Math.round(n).toLocaleString('en-US')
export const ratio = (n: number | null) => (n === null ? '–' : n.toFixed(2))

function cells(s: Summary): string[] {
  return [
    s.system,
    String(s.conns),
    int(s.rpsMedian),
    s.runs > 1 ? `${int(s.rpsMin)}–${int(s.rpsMax)}` : '–',
    s.cpuUsMedian.toFixed(1),
    s.p50Median.toFixed(2),
    s.p99Median.toFixed(2),
    ratio(s.vsDirect),
    ratio(s.vsNginx),
    ratio(s.vsFloor),
    ratio(s.p99VsFloor),
    s.notes.join('; '),
  ]
}

/** Aligned plain-text table for the terminal. */
export function alignTable(header: string[], right: boolean[], body: string[][]): string {
  const rows = [header, ...body]
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) =>
    r
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

export function mdTable(header: string[], right: boolean[], body: string[][]): string {
  const line = (r: string[]) => `| ${r.join(' | ')} |`
  const rule = `|${right.map((r) => (r ? ' ---: ' : ' --- ')).join('|')}|`
  return [line(header), rule, ...body.map(line)].join('\n')
}

/** The summary table, aligned for the terminal. */
export function textTable(summaries: Summary[]): string {
  return alignTable(HEADER, RIGHT, summaries.map(cells))
}

/** The same table in Markdown. */
export function markdownTable(summaries: Summary[]): string {
  return mdTable(HEADER, RIGHT, summaries.map(cells))
}

// --- JWT verification: Gatehouse beside HAProxy and Express Gateway ---

/**
 * Issue 3's targets, as minimum ratios of Gatehouse's req/s: RS256 ≥ HAProxy, ES256 ≥ 1.5× HAProxy (no
 * target against HAProxy for HS256), and ≥ 10× Express Gateway for every algorithm.
 */
export const TARGETS: Record<Alg, { haproxy: number | null; expressGateway: number }> = {
  HS256: { haproxy: null, expressGateway: 10 },
  RS256: { haproxy: 1.0, expressGateway: 10 },
  ES256: { haproxy: 1.5, expressGateway: 10 },
}

export interface JwtComparison {
  alg: Alg
  conns: number
  gatehouse: number | null
  haproxy: number | null
  expressGateway: number | null
  /** Gatehouse ÷ HAProxy and Gatehouse ÷ Express Gateway (median req/s), when both were measured. */
  vsHaproxy: number | null
  vsExpressGateway: number | null
  /** Lowest and highest of the same ratios taken round by round (both systems measured in that round). */
  vsHaproxyRounds: [number, number] | null
  vsExpressGatewayRounds: [number, number] | null
  /** The row's systems with notes (errors, busy machine, noisy rounds) in the main table. */
  flagged: string[]
}

/**
 * Lowest and highest ratio of `a`'s req/s (or another `metric` of the rows) to `b`'s taken round by round
 * (rounds where both were measured at `conns`); null with fewer than two such rounds or when either system
 * is missing.
 */
export function roundRange(
  rows: Row[],
  conns: number,
  a: Summary | null,
  b: Summary | null,
  metric: (r: Row) => number = (r) => r.rps,
): [number, number] | null {
  if (!a || !b) return null
  const of = (system: string, round: number) => {
    const row = rows.find((r) => r.conns === conns && r.system === system && r.round === round)
    return row && metric(row)
  }
  const ratios: number[] = []
  for (const r of rows) {
    if (r.conns !== conns || r.system !== a.system) continue
    const other = of(b.system, r.round)
    if (other) ratios.push(metric(r) / other)
  }
  return ratios.length > 1 ? [Math.min(...ratios), Math.max(...ratios)] : null
}

/** Ratio of two summaries' median req/s, or null when either was not measured. */
export const medianRatio = (a: Summary | null, b: Summary | null): number | null =>
  a && b ? a.rpsMedian / b.rpsMedian : null

/** One row per algorithm and connection count for which any of the three JWT systems was measured. */
export function jwtComparison(summaries: Summary[], rows: Row[], connections: number[]): JwtComparison[] {
  const out: JwtComparison[] = []
  for (const conns of connections) {
    for (const alg of ALGS) {
      const find = (prefix: string) =>
        summaries.find((s) => s.conns === conns && s.system === `${prefix}-${alg.toLowerCase()}`) ?? null
      const [gh, hap, eg] = [find('gatehouse-jwt'), find('haproxy'), find('express-gateway')]
      if (!gh && !hap && !eg) continue
      out.push({
        alg,
        conns,
        gatehouse: gh?.rpsMedian ?? null,
        haproxy: hap?.rpsMedian ?? null,
        expressGateway: eg?.rpsMedian ?? null,
        vsHaproxy: medianRatio(gh, hap),
        vsExpressGateway: medianRatio(gh, eg),
        vsHaproxyRounds: roundRange(rows, conns, gh, hap),
        vsExpressGatewayRounds: roundRange(rows, conns, gh, eg),
        flagged: [gh, hap, eg].filter((s) => s && s.notes.length > 0).map((s) => s!.system),
      })
    }
  }
  return out
}

/** "≥ 1.5×: met" / "≥ 1.5×: not met" / "≥ 10×: not measured" / "none". */
export function verdict(value: number | null, target: number | null): string {
  if (target === null) return 'none'
  const goal = `≥ ${target.toFixed(1)}×`
  if (value === null) return `${goal}: not measured`
  return `${goal}: ${value >= target ? 'met' : 'not met'}`
}

/** How many of the targets in `rows` were met, missed, or could not be judged (a system not measured). */
export function targetsMet(rows: JwtComparison[]): { met: number; missed: number; unmeasured: number } {
  const tally = { met: 0, missed: 0, unmeasured: 0 }
  for (const r of rows) {
    for (const [value, target] of [
      [r.vsHaproxy, TARGETS[r.alg].haproxy],
      [r.vsExpressGateway, TARGETS[r.alg].expressGateway],
    ] as const) {
      if (target === null) continue
      if (value === null) tally.unmeasured++
      else if (value >= target) tally.met++
      else tally.missed++
    }
  }
  return tally
}

const JWT_HEADER = [
  'algorithm',
  'conns',
  'Gatehouse req/s',
  'HAProxy req/s',
  'Express Gateway req/s',
  'Gatehouse ÷ HAProxy',
  'target',
  'Gatehouse ÷ Express Gateway',
  'target',
  'notes',
]
const JWT_RIGHT = [false, true, true, true, true, true, false, true, false, false]

/** "0.65 (rounds 0.52–0.82)", or the ratio alone with one round. */
export function withRange(value: number | null, rounds: [number, number] | null): string {
  if (value === null || rounds === null) return ratio(value)
  return `${ratio(value)} (rounds ${rounds[0].toFixed(2)}–${rounds[1].toFixed(2)})`
}

function jwtCells(r: JwtComparison): string[] {
  const rps = (n: number | null) => (n === null ? 'not measured' : int(n))
  return [
    r.alg,
    String(r.conns),
    rps(r.gatehouse),
    rps(r.haproxy),
    rps(r.expressGateway),
    withRange(r.vsHaproxy, r.vsHaproxyRounds),
    verdict(r.vsHaproxy, TARGETS[r.alg].haproxy),
    withRange(r.vsExpressGateway, r.vsExpressGatewayRounds),
    verdict(r.vsExpressGateway, TARGETS[r.alg].expressGateway),
    r.flagged.length ? `see notes of ${r.flagged.join(', ')}` : '',
  ]
}

export function jwtTextTable(rows: JwtComparison[]): string {
  return alignTable(JWT_HEADER, JWT_RIGHT, rows.map(jwtCells))
}

export function jwtMarkdownTable(rows: JwtComparison[]): string {
  return mdTable(JWT_HEADER, JWT_RIGHT, rows.map(jwtCells))
}

// --- Identity provider: token issuance, and a route taking the provider's tokens ---

export interface IdentityRow {
  measure: string
  system: string
  conns: number
  summary: Summary | null
  /** req/s over plain `gatehouse`'s (gatehouse-oidc and gatehouse rows), and its per-round range. */
  vsGatehouse: number | null
  vsGatehouseRounds: [number, number] | null
}

const IDENTITY_MEASURES: [system: string, measure: string][] = [
  ['identity-token', 'token issuance (client_credentials)'],
  ['gatehouse-oidc', 'request with a provider token (openid-connect)'],
  ['gatehouse', 'request without authentication'],
]

/** Per connection count, when identity-token or gatehouse-oidc was measured: the three measures. */
export function identityRows(summaries: Summary[], rows: Row[], connections: number[]): IdentityRow[] {
  const out: IdentityRow[] = []
  for (const conns of connections) {
    const find = (system: string) => summaries.find((s) => s.conns === conns && s.system === system) ?? null
    if (!find('identity-token') && !find('gatehouse-oidc')) continue
    const plain = find('gatehouse')
    for (const [system, measure] of IDENTITY_MEASURES) {
      const summary = find(system)
      const proxied = !NOT_PROXIED.has(system)
      out.push({
        measure,
        system,
        conns,
        summary,
        vsGatehouse: proxied ? medianRatio(summary, plain) : null,
        vsGatehouseRounds: proxied && system !== 'gatehouse' ? roundRange(rows, conns, summary, plain) : null,
      })
    }
  }
  return out
}

const IDP_HEADER = [
  'measure',
  'system',
  'conns',
  'per second (median)',
  'min–max',
  'p50 ms',
  'p99 ms',
  '× gatehouse',
  'notes',
]
const IDP_RIGHT = [false, false, true, true, true, true, true, true, false]

function identityCells(r: IdentityRow): string[] {
  const s = r.summary
  if (!s) return [r.measure, r.system, String(r.conns), 'not measured', '', '', '', '', '']
  return [
    r.measure,
    r.system,
    String(r.conns),
    int(s.rpsMedian),
    s.runs > 1 ? `${int(s.rpsMin)}–${int(s.rpsMax)}` : '–',
    s.p50Median.toFixed(2),
    s.p99Median.toFixed(2),
    withRange(r.vsGatehouse, r.vsGatehouseRounds),
    s.notes.length ? 'see the first table' : '',
  ]
}

export function identityTextTable(rows: IdentityRow[]): string {
  return alignTable(IDP_HEADER, IDP_RIGHT, rows.map(identityCells))
}

export function identityMarkdownTable(rows: IdentityRow[]): string {
  return mdTable(IDP_HEADER, IDP_RIGHT, rows.map(identityCells))
}
