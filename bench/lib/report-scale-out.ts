/**
 * The scale-out tables (issue 7), per connection count, from the same rounds as the first table:
 *
 * - Rate limiting: plain `gatehouse` (no plugin), `gatehouse-ratelimit-local` and
 *   `gatehouse-ratelimit-redis`, with req/s, latency and CPU per request, and the ratios redis ÷ local and
 *   ÷ plain gatehouse (req/s, and CPU per request).
 * - Nodes: one `gatehouse` node beside `gatehouse-2nodes`. On this machine every server shares one core,
 *   so two nodes cannot serve more than one: the total req/s says whether a second node costs throughput,
 *   and the CPU per request whether it adds work per request (context switches, two event loops, two
 *   connection pools to the upstream).
 *
 * CPU per request is the system's CPU time over the measured run (every process of it: both nodes, or
 * Gatehouse and its Redis server) divided by its successful requests, in µs; "server" adds the upstream's.
 * Medians over the rounds; ratios divide those medians, with the lowest and highest ratio taken round by
 * round in brackets, as in the other tables.
 */
import {
  alignTable,
  int,
  mdTable,
  median,
  medianRatio,
  type Row,
  roundRange,
  type Summary,
  withRange,
} from './report.ts'

const LOCAL = 'gatehouse-ratelimit-local'
const REDIS = 'gatehouse-ratelimit-redis'
const TWO_NODES = 'gatehouse-2nodes'

/** The figures of one system at one connection count, or why it has none. */
interface Measured {
  system: string
  summary: Summary | null
  /** Why it was not measured, when it was selected but left out (e.g. redis-server missing). */
  skipped: string | null
  cpuPerReq: number | null
  serverCpuPerReq: number | null
  redisCpuPerReq: number | null
  /** Median req/s of each node over the rounds (several nodes only). */
  nodeRps: number[]
  cpuPct: number | null
}

export interface ScaleOutRow {
  table: 'rate-limiting' | 'nodes'
  conns: number
  what: string
  m: Measured
  /** Ratios to the reference row: req/s and CPU per request, each the medians' and the round range. */
  vsGatehouse: Ratios
  /** gatehouse-ratelimit-redis only: the same against gatehouse-ratelimit-local. */
  vsLocal: Ratios | null
}

interface Ratios {
  rps: number | null
  rounds: [number, number] | null
  cpu: number | null
  cpuRounds: [number, number] | null
}

function measured(
  summaries: Summary[],
  rows: Row[],
  skipped: ReadonlyMap<string, string>,
  conns: number,
  system: string,
): Measured {
  const summary = summaries.find((s) => s.conns === conns && s.system === system) ?? null
  const mine = rows.filter((r) => r.conns === conns && r.system === system)
  const med = (f: (r: Row) => number | null) => {
    const values = mine.map(f).filter((v): v is number => v !== null)
    return values.length ? median(values) : null
  }
  const perNode = mine.map((r) => (r.node_rps ? r.node_rps.split('+').map(Number) : []))
  const nodes = Math.max(0, ...perNode.map((p) => p.length))
  return {
    system,
    summary,
    skipped: skipped.get(system) ?? null,
    cpuPerReq: med((r) => r.cpu_us_per_req),
    serverCpuPerReq: med((r) => r.server_cpu_us_per_req),
    redisCpuPerReq: med((r) =>
      r.redis_cpu_pct === null || r.sut_cpu_pct === 0
        ? null
        : (r.cpu_us_per_req * r.redis_cpu_pct) / r.sut_cpu_pct,
    ),
    nodeRps: Array.from({ length: nodes }, (_, i) => median(perNode.map((p) => p[i] ?? 0))),
    cpuPct: med((r) => r.sut_cpu_pct),
  }
}

const cpuRatio = (a: Measured, b: Measured) =>
  a.cpuPerReq !== null && b.cpuPerReq ? a.cpuPerReq / b.cpuPerReq : null

function against(rows: Row[], conns: number, a: Measured, b: Measured): Ratios {
  return {
    rps: medianRatio(a.summary, b.summary),
    rounds: roundRange(rows, conns, a.summary, b.summary),
    cpu: cpuRatio(a, b),
    cpuRounds: roundRange(rows, conns, a.summary, b.summary, (r) => r.cpu_us_per_req),
  }
}

/**
 * Per connection count: the rate-limiting rows when either rate-limiting system was selected (measured or
 * left out), the nodes rows when gatehouse-2nodes was measured; plain gatehouse is the reference of both.
 */
export function scaleOutRows(
  summaries: Summary[],
  rows: Row[],
  connections: number[],
  skipped: ReadonlyMap<string, string>,
): ScaleOutRow[] {
  const out: ScaleOutRow[] = []
  for (const conns of connections) {
    const get = (system: string) => measured(summaries, rows, skipped, conns, system)
    const plain = get('gatehouse')
    const [local, redis, two] = [get(LOCAL), get(REDIS), get(TWO_NODES)]
    const none: Ratios = { rps: null, rounds: null, cpu: null, cpuRounds: null }
    if (local.summary || redis.summary || local.skipped || redis.skipped) {
      out.push({
        table: 'rate-limiting',
        conns,
        what: 'none (reference)',
        m: plain,
        vsGatehouse: none,
        vsLocal: null,
      })
      out.push({
        table: 'rate-limiting',
        conns,
        what: 'policy local: counters in the process',
        m: local,
        vsGatehouse: against(rows, conns, local, plain),
        vsLocal: null,
      })
      out.push({
        table: 'rate-limiting',
        conns,
        what: 'policy redis: one Lua script in Redis per request',
        m: redis,
        vsGatehouse: against(rows, conns, redis, plain),
        vsLocal: against(rows, conns, redis, local),
      })
    }
    if (two.summary || two.skipped) {
      out.push({ table: 'nodes', conns, what: '1', m: plain, vsGatehouse: none, vsLocal: null })
      out.push({
        table: 'nodes',
        conns,
        what: '2',
        m: two,
        vsGatehouse: against(rows, conns, two, plain),
        vsLocal: null,
      })
    }
  }
  return out
}

const us = (n: number | null) => (n === null ? '–' : n.toFixed(1))
const range = (s: Summary) => (s.runs > 1 ? `${int(s.rpsMin)}–${int(s.rpsMax)}` : '–')
const notMeasured = (m: Measured) => (m.skipped ? `not measured: ${m.skipped}` : 'not measured')

const RL_HEADER = [
  'conns',
  'system',
  'rate limiting',
  'req/s (median)',
  'min–max',
  'p50 ms',
  'p99 ms',
  'µs CPU/req',
  'of which Redis',
  'µs server CPU/req',
  'req/s ÷ gatehouse',
  'req/s ÷ local',
  'CPU/req ÷ gatehouse',
  'CPU/req ÷ local',
  'notes',
]
const RL_RIGHT = [true, false, false, true, true, true, true, true, true, true, true, true, true, true, false]

function rateLimitCells(r: ScaleOutRow): string[] {
  const s = r.m.summary
  const head = [String(r.conns), r.m.system, r.what]
  if (!s) return [...head, notMeasured(r.m), ...Array(RL_HEADER.length - 4).fill('')]
  const own = r.m.system === 'gatehouse'
  return [
    ...head,
    int(s.rpsMedian),
    range(s),
    s.p50Median.toFixed(2),
    s.p99Median.toFixed(2),
    us(r.m.cpuPerReq),
    us(r.m.redisCpuPerReq),
    us(r.m.serverCpuPerReq),
    own ? '–' : withRange(r.vsGatehouse.rps, r.vsGatehouse.rounds),
    r.vsLocal ? withRange(r.vsLocal.rps, r.vsLocal.rounds) : '–',
    own ? '–' : withRange(r.vsGatehouse.cpu, r.vsGatehouse.cpuRounds),
    r.vsLocal ? withRange(r.vsLocal.cpu, r.vsLocal.cpuRounds) : '–',
    s.notes.length ? 'see the first table' : '',
  ]
}

const NODES_HEADER = [
  'conns',
  'system',
  'nodes',
  'req/s total (median)',
  'min–max',
  'req/s per node',
  'p50 ms',
  'p99 ms',
  'CPU % of a core',
  'µs CPU/req',
  'µs server CPU/req',
  'req/s ÷ 1 node',
  'CPU/req ÷ 1 node',
  'notes',
]
const NODES_RIGHT = [true, false, true, true, true, true, true, true, true, true, true, true, true, false]

function nodesCells(r: ScaleOutRow): string[] {
  const s = r.m.summary
  const head = [String(r.conns), r.m.system, r.what]
  if (!s) return [...head, notMeasured(r.m), ...Array(NODES_HEADER.length - 4).fill('')]
  const own = r.m.system === 'gatehouse'
  return [
    ...head,
    int(s.rpsMedian),
    range(s),
    r.m.nodeRps.length ? r.m.nodeRps.map(int).join(' + ') : int(s.rpsMedian),
    s.p50Median.toFixed(2),
    s.p99Median.toFixed(2),
    r.m.cpuPct === null ? '–' : String(Math.round(r.m.cpuPct)),
    us(r.m.cpuPerReq),
    us(r.m.serverCpuPerReq),
    own ? '–' : withRange(r.vsGatehouse.rps, r.vsGatehouse.rounds),
    own ? '–' : withRange(r.vsGatehouse.cpu, r.vsGatehouse.cpuRounds),
    s.notes.length ? 'see the first table' : '',
  ]
}

/** The two tables, each with its title, aligned for the terminal ('' when neither applies). */
export function scaleOutText(rows: ScaleOutRow[]): string {
  const rl = rows.filter((r) => r.table === 'rate-limiting')
  const nodes = rows.filter((r) => r.table === 'nodes')
  return [
    rl.length ? `Rate limiting\n\n${alignTable(RL_HEADER, RL_RIGHT, rl.map(rateLimitCells))}` : '',
    nodes.length ? `Nodes\n\n${alignTable(NODES_HEADER, NODES_RIGHT, nodes.map(nodesCells))}` : '',
  ]
    .filter(Boolean)
    .join('\n\n')
}

/** The same in Markdown, each table under a level-3 heading. */
export function scaleOutMarkdown(rows: ScaleOutRow[]): string {
  const rl = rows.filter((r) => r.table === 'rate-limiting')
  const nodes = rows.filter((r) => r.table === 'nodes')
  return [
    rl.length ? `### Rate limiting\n\n${mdTable(RL_HEADER, RL_RIGHT, rl.map(rateLimitCells))}` : '',
    nodes.length ? `### Nodes\n\n${mdTable(NODES_HEADER, NODES_RIGHT, nodes.map(nodesCells))}` : '',
  ]
    .filter(Boolean)
    .join('\n\n')
}
