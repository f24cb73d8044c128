/**
 * The issue 11 tables, per connection count, from the same rounds as the first table:
 *
 * - Own cost: issue 11's one-core targets, each a ratio of medians with the lowest and highest ratio taken
 *   round by round — `gatehouse` ≥ 0.90 × node-floor's req/s and p99 ≤ 1.5 × node-floor's p99,
 *   `gatehouse-jwt-rs256` ≥ 1.0 × and `-es256` ≥ 1.5 × HAProxy's, `gatehouse-oidc` ≥ 0.85 × and
 *   `gatehouse-passport-rs256` ≥ 0.80 × node-floor's req/s. A row appears when its system was measured;
 *   without its reference it says `not measured`.
 * - Workers: `gatehouse` (one worker) beside `gatehouse-workers2` (a primary and two workers on the same
 *   server CPU): req/s, latency, CPU per process, CPU time per request of the whole tree, resident memory
 *   per process, and the ratios to one worker. On one core two workers cannot serve more than one; the
 *   CPU per request ratio is what carries over to a machine with a core per worker.
 */
import {
  alignTable,
  int,
  mdTable,
  median,
  medianRatio,
  type Row,
  ratio,
  roundRange,
  type Summary,
  withRange,
} from './report.ts'
import { WORKERS_SYSTEM } from './workers.ts'

// --- own cost against the issue's targets ---

type Metric = 'req/s' | 'p99'
interface Target {
  system: string
  metric: Metric
  reference: string
  /** `≥` for throughput ratios, `≤` for latency ratios. */
  op: '≥' | '≤'
  goal: number
}

/** Issue 11, "Own cost, one core". */
export const OWN_COST_TARGETS: readonly Target[] = [
  { system: 'gatehouse', metric: 'req/s', reference: 'node-floor', op: '≥', goal: 0.9 },
  { system: 'gatehouse', metric: 'p99', reference: 'node-floor', op: '≤', goal: 1.5 },
  { system: 'gatehouse-jwt-rs256', metric: 'req/s', reference: 'haproxy-rs256', op: '≥', goal: 1.0 },
  { system: 'gatehouse-jwt-es256', metric: 'req/s', reference: 'haproxy-es256', op: '≥', goal: 1.5 },
  { system: 'gatehouse-oidc', metric: 'req/s', reference: 'node-floor', op: '≥', goal: 0.85 },
  { system: 'gatehouse-passport-rs256', metric: 'req/s', reference: 'node-floor', op: '≥', goal: 0.8 },
]

export interface OwnCostRow {
  conns: number
  target: Target
  value: number | null
  rounds: [number, number] | null
  /** The row's systems with notes (errors, busy machine, noisy rounds) in the first table. */
  flagged: string[]
}

/** One row per target whose system was measured, per connection count. */
export function ownCostRows(summaries: Summary[], rows: Row[], connections: number[]): OwnCostRow[] {
  const out: OwnCostRow[] = []
  for (const conns of connections) {
    const find = (system: string) => summaries.find((s) => s.conns === conns && s.system === system) ?? null
    for (const target of OWN_COST_TARGETS) {
      const [mine, ref] = [find(target.system), find(target.reference)]
      if (!mine) continue
      const p99 = target.metric === 'p99'
      out.push({
        conns,
        target,
        value: p99 ? (ref ? mine.p99Median / ref.p99Median : null) : medianRatio(mine, ref),
        rounds: roundRange(rows, conns, mine, ref, p99 ? (r) => r.p99_ms : (r) => r.rps),
        flagged: [mine, ref].filter((s) => s && s.notes.length > 0).map((s) => s!.system),
      })
    }
  }
  return out
}

const met = (r: OwnCostRow) =>
  r.value === null ? null : r.target.op === '≥' ? r.value >= r.target.goal : r.value <= r.target.goal

/** How many targets were met, missed, or could not be judged (the reference was not measured). */
export function ownCostTally(rows: OwnCostRow[]): { met: number; missed: number; unmeasured: number } {
  const tally = { met: 0, missed: 0, unmeasured: 0 }
  for (const r of rows) {
    const m = met(r)
    if (m === null) tally.unmeasured++
    else if (m) tally.met++
    else tally.missed++
  }
  return tally
}

const OWN_HEADER = ['conns', 'system', 'measure', 'value', 'target', 'verdict', 'notes']
const OWN_RIGHT = [true, false, false, true, false, false, false]

function ownCells(r: OwnCostRow): string[] {
  const t = r.target
  const m = met(r)
  return [
    String(r.conns),
    t.system,
    `${t.metric} ÷ ${t.reference}'s`,
    r.value === null ? `not measured (${t.reference})` : withRange(r.value, r.rounds),
    `${t.op} ${t.goal.toFixed(2)}`,
    m === null ? 'not measured' : m ? 'met' : 'not met',
    r.flagged.length ? `see notes of ${r.flagged.join(', ')}` : '',
  ]
}

// --- workers: one node, one worker vs two ---

interface WorkersMeasured {
  system: string
  workers: number
  summary: Summary
  cpuPct: number
  /** Median over the rounds of each process's CPU % of a core (primary first); empty for one process. */
  procCpuPct: number[]
  cpuPerReq: number
  serverCpuPerReq: number
  rssMb: number
  procRssMb: number[]
}

export interface WorkersRow {
  conns: number
  m: WorkersMeasured
  /** Against `gatehouse` (one worker): req/s, CPU per request and p99, each with its round range. */
  vs: {
    rps: number | null
    rounds: [number, number] | null
    cpu: number | null
    cpuRounds: [number, number] | null
    p99: number | null
    p99Rounds: [number, number] | null
  } | null
}

/** Medians of each position of `+`-joined per-process figures (rounds may differ in length). */
function perProcess(values: string[]): number[] {
  const split = values.map((v) => (v ? v.split('+').map(Number) : []))
  const n = Math.max(0, ...split.map((p) => p.length))
  return Array.from({ length: n }, (_, i) => median(split.map((p) => p[i] ?? 0)))
}

function workersMeasured(summary: Summary, rows: Row[], workers: number): WorkersMeasured {
  const mine = rows.filter((r) => r.conns === summary.conns && r.system === summary.system)
  const med = (f: (r: Row) => number) => median(mine.map(f))
  return {
    system: summary.system,
    workers,
    summary,
    cpuPct: med((r) => r.sut_cpu_pct),
    procCpuPct: perProcess(mine.map((r) => r.proc_cpu_pct)),
    cpuPerReq: med((r) => r.cpu_us_per_req),
    serverCpuPerReq: med((r) => r.server_cpu_us_per_req),
    rssMb: med((r) => r.rss_mb),
    procRssMb: perProcess(mine.map((r) => r.proc_rss_mb)),
  }
}

/** Per connection count, when gatehouse-workers2 was measured: `gatehouse` (if measured) and it. */
export function workersRows(summaries: Summary[], rows: Row[], connections: number[]): WorkersRow[] {
  const out: WorkersRow[] = []
  for (const conns of connections) {
    const find = (system: string) => summaries.find((s) => s.conns === conns && s.system === system) ?? null
    const [one, two] = [find('gatehouse'), find(WORKERS_SYSTEM)]
    if (!two) continue
    if (one) out.push({ conns, m: workersMeasured(one, rows, 1), vs: null })
    const m = workersMeasured(two, rows, 2)
    const base = one ? workersMeasured(one, rows, 1) : null
    out.push({
      conns,
      m,
      vs: {
        rps: medianRatio(two, one),
        rounds: roundRange(rows, conns, two, one),
        cpu: base && base.cpuPerReq > 0 ? m.cpuPerReq / base.cpuPerReq : null,
        cpuRounds: roundRange(rows, conns, two, one, (r) => r.cpu_us_per_req),
        p99: one ? two.p99Median / one.p99Median : null,
        p99Rounds: roundRange(rows, conns, two, one, (r) => r.p99_ms),
      },
    })
  }
  return out
}

const WORKERS_HEADER = [
  'conns',
  'system',
  'workers',
  'req/s (median)',
  'min–max',
  'p50 ms',
  'p99 ms',
  'CPU % of a core (per process)',
  'µs CPU/req',
  'µs server CPU/req',
  'RSS MB (per process)',
  'req/s ÷ 1 worker',
  'CPU/req ÷ 1 worker',
  'p99 ÷ 1 worker',
  'notes',
]
const WORKERS_RIGHT = [
  true,
  false,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  true,
  false,
]

/** "98 (2 + 48 + 48)", or the total alone for one process. */
const withParts = (total: number, parts: number[]) =>
  parts.length > 1 ? `${int(total)} (${parts.map(int).join(' + ')})` : int(total)

function workersCells(r: WorkersRow): string[] {
  const { m } = r
  const s = m.summary
  return [
    String(r.conns),
    m.system,
    String(m.workers),
    int(s.rpsMedian),
    s.runs > 1 ? `${int(s.rpsMin)}–${int(s.rpsMax)}` : '–',
    s.p50Median.toFixed(2),
    s.p99Median.toFixed(2),
    withParts(m.cpuPct, m.procCpuPct),
    m.cpuPerReq.toFixed(1),
    m.serverCpuPerReq.toFixed(1),
    withParts(m.rssMb, m.procRssMb),
    r.vs ? withRange(r.vs.rps, r.vs.rounds) : '–',
    r.vs ? withRange(r.vs.cpu, r.vs.cpuRounds) : '–',
    r.vs ? withRange(r.vs.p99, r.vs.p99Rounds) : '–',
    s.notes.length ? 'see the first table' : '',
  ]
}

// --- rendering ---

/** Both tables with their titles, aligned for the terminal ('' when neither applies). */
export function issue11Text(own: OwnCostRow[], workers: WorkersRow[]): string {
  return [
    own.length ? `Own cost, one core\n\n${alignTable(OWN_HEADER, OWN_RIGHT, own.map(ownCells))}` : '',
    workers.length
      ? `Workers\n\n${alignTable(WORKERS_HEADER, WORKERS_RIGHT, workers.map(workersCells))}`
      : '',
  ]
    .filter(Boolean)
    .join('\n\n')
}

/** The same in Markdown, each table under a level-3 heading. */
export function issue11Markdown(own: OwnCostRow[], workers: WorkersRow[]): string {
  return [
    own.length ? `### Own cost, one core\n\n${mdTable(OWN_HEADER, OWN_RIGHT, own.map(ownCells))}` : '',
    workers.length
      ? `### Workers\n\n${mdTable(WORKERS_HEADER, WORKERS_RIGHT, workers.map(workersCells))}`
      : '',
  ]
    .filter(Boolean)
    .join('\n\n')
}

/** "Targets (issue 11): 3 met, 2 not met, 1 not judged …" ('' without rows). */
export function ownCostVerdict(own: OwnCostRow[]): string {
  if (own.length === 0) return ''
  const t = ownCostTally(own)
  const goals = OWN_COST_TARGETS.filter((g) => own.some((r) => r.target === g))
    .map((g) => `${g.system} ${g.metric} ${g.op} ${ratio(g.goal)}× ${g.reference}'s`)
    .join(', ')
  return (
    `Targets (issue 11): ${t.met} met, ${t.missed} not met` +
    (t.unmeasured ? `, ${t.unmeasured} not judged (the reference was not measured)` : '') +
    ` — ${goals}.`
  )
}
