/**
 * The soak's figures (bench/soak.ts, issue 11): from resident-memory samples of the Gatehouse process tree,
 * the growth from the end of the warm-up to the end of the run and a least-squares slope, for the tree and
 * for each process; the verdict (PASS when the tree grew by less than GROWTH_LIMIT_PCT); text and Markdown
 * tables; the samples as TSV.
 *
 * The reference is the first sample taken at or after the warm-up's end, the end is the last sample, and
 * the slope is fitted to every sample between them, so one noisy sample at either end shows as a
 * disagreement between growth and slope rather than passing unseen.
 */
import { alignTable, int, mdTable } from './report.ts'

/** The criterion: growth after warm-up below this share of the warm-up end value. */
export const GROWTH_LIMIT_PCT = 5

/** Resident memory of one process at one sample, in kB. */
export interface ProcMemory {
  pid: number
  comm: string
  rssKb: number
}

export interface SoakSample {
  /** Seconds since the load started (0: just before it). */
  t: number
  /** Every process of the Gatehouse tree, the primary (or only process) first. */
  procs: ProcMemory[]
  /** Heap in use of the process answering the admin API's /status, MB; null when it did not answer. */
  heapMb: number | null
  /** Requests a second since the previous sample, from /status's total_requests; null without it. */
  rps: number | null
  /** Distinct callers whose profile the user-info service has served so far (null: it did not answer). */
  callers: number | null
  /** CPU over the interval since the previous sample, in % of one core. */
  cpu: { gatehouse: number; upstream: number; wrk: number; others: number } | null
}

export interface Growth {
  fromT: number
  toT: number
  fromKb: number
  toKb: number
  /** (to − from) ÷ from, in %. */
  pct: number
  /** Least-squares slope over the samples from `fromT` to `toT`, in kB a minute and in % of `fromKb`. */
  slopeKbPerMin: number
  slopePctPerMin: number
  samples: number
}

const rssOf = (s: SoakSample) => s.procs.reduce((n, p) => n + p.rssKb, 0)

/** Growth of the points (t, kB) from the first one at or after `warmupS` to the last; null with < 2. */
export function growthOf(points: readonly [t: number, kb: number][], warmupS: number): Growth | null {
  const after = points.filter(([t]) => t >= warmupS)
  if (after.length < 2) return null
  const [fromT, fromKb] = after[0]!
  const [toT, toKb] = after.at(-1)!
  const meanT = after.reduce((n, [t]) => n + t, 0) / after.length
  const meanKb = after.reduce((n, [, kb]) => n + kb, 0) / after.length
  let num = 0
  let den = 0
  for (const [t, kb] of after) {
    num += (t - meanT) * (kb - meanKb)
    den += (t - meanT) ** 2
  }
  const slopeKbPerMin = den > 0 ? (num / den) * 60 : 0
  return {
    fromT,
    toT,
    fromKb,
    toKb,
    pct: fromKb > 0 ? ((toKb - fromKb) * 100) / fromKb : 0,
    slopeKbPerMin,
    slopePctPerMin: fromKb > 0 ? (slopeKbPerMin * 100) / fromKb : 0,
    samples: after.length,
  }
}

export interface ProcessGrowth {
  pid: number
  comm: string
  role: string
  growth: Growth | null
  peakKb: number
  /** Started or exited during the measured part (a worker replaced), else ''. */
  note: string
}

export interface SoakAnalysis {
  warmupS: number
  /** When every caller had been enriched once (the caches full), or null if that never happened. */
  allCallersAt: number | null
  total: Growth | null
  perProcess: ProcessGrowth[]
  verdict: 'PASS' | 'FAIL' | 'NOT JUDGED'
}

export function analyse(samples: readonly SoakSample[], warmupS: number, callers: number): SoakAnalysis {
  const total = growthOf(
    samples.map((s) => [s.t, rssOf(s)]),
    warmupS,
  )
  const root = samples[0]?.procs[0]?.pid
  const several = samples.some((s) => s.procs.length > 1)
  const pids = [...new Set(samples.flatMap((s) => s.procs.map((p) => p.pid)))]
  const measuredFrom = total?.fromT ?? warmupS
  const perProcess = pids.map((pid): ProcessGrowth => {
    const seen = samples.flatMap((s) => {
      const p = s.procs.find((x) => x.pid === pid)
      return p ? [{ t: s.t, p }] : []
    })
    const first = seen[0]!
    const last = seen.at(-1)!
    const notes: string[] = []
    if (first.t > measuredFrom) notes.push(`appeared by t = ${Math.round(first.t)} s`)
    if (last.t < samples.at(-1)!.t) notes.push(`gone after t = ${Math.round(last.t)} s`)
    return {
      pid,
      comm: first.p.comm,
      role: pid === root ? (several ? 'primary' : 'gatehouse') : 'worker',
      growth: growthOf(
        seen.map(({ t, p }) => [t, p.rssKb]),
        warmupS,
      ),
      peakKb: Math.max(...seen.map(({ p }) => p.rssKb)),
      note: notes.join(', '),
    }
  })
  const verdict = total === null ? 'NOT JUDGED' : total.pct < GROWTH_LIMIT_PCT ? 'PASS' : 'FAIL'
  const allCallersAt = samples.find((s) => s.callers !== null && s.callers >= callers)?.t ?? null
  return { warmupS, allCallersAt, total, perProcess, verdict }
}

const mb = (kb: number) => (kb / 1024).toFixed(1)
const signed = (n: number, digits = 1) => `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`

/**
 * When the warm-up ended before every caller had been seen once, the growth measured includes the caches
 * filling up, not only what a steady load does: say so ('' otherwise).
 */
export function warmupWarning(a: SoakAnalysis, callers: number): string {
  if (a.allCallersAt === null)
    return `WARNING: the user-info service never saw all ${callers} callers, so the caches were still filling at the end; lengthen SOAK_DURATION`
  if (a.total && a.allCallersAt > a.total.fromT)
    return `WARNING: every caller had been seen only by t = ${Math.round(a.allCallersAt)} s, after the warm-up's end (t = ${Math.round(a.total.fromT)} s): the growth includes the caches filling up; lengthen SOAK_DURATION`
  return ''
}

/** The one-line verdict, e.g. "PASS: resident memory … +1.2% (< 5%) …". */
export function verdictLine(a: SoakAnalysis, what: string): string {
  const g = a.total
  if (g === null)
    return `NOT JUDGED: fewer than two samples after the warm-up (${a.warmupS} s); lengthen SOAK_DURATION or shorten SOAK_INTERVAL`
  return (
    `${a.verdict}: resident memory of ${what} ${mb(g.fromKb)} MB at the end of the warm-up (t = ${Math.round(g.fromT)} s) → ` +
    `${mb(g.toKb)} MB at the end (t = ${Math.round(g.toT)} s): ${signed(g.pct, 2)}% ` +
    `(${a.verdict === 'PASS' ? '<' : '≥'} ${GROWTH_LIMIT_PCT}%); least-squares slope over ${g.samples} samples ` +
    `${signed(g.slopeKbPerMin / 1024, 2)} MB/min (${signed(g.slopePctPerMin, 2)}% of the warm-up end value a minute)`
  )
}

const PROC_HEADER = [
  'process',
  'role',
  'MB at warm-up end',
  'MB at end',
  'growth',
  'slope MB/min',
  'peak MB',
  'notes',
]
const PROC_RIGHT = [false, false, true, true, true, true, true, false]

function procCells(p: ProcessGrowth): string[] {
  const g = p.growth
  return [
    `${p.pid} ${p.comm}`,
    p.role,
    g ? mb(g.fromKb) : '–',
    g ? mb(g.toKb) : '–',
    g ? `${signed(g.pct, 2)}%` : '–',
    g ? signed(g.slopeKbPerMin / 1024, 2) : '–',
    mb(p.peakKb),
    p.note,
  ]
}

const SAMPLE_HEADER = [
  't s',
  'phase',
  'RSS MB',
  'per process',
  'heap MB',
  'req/s',
  'callers seen',
  'Gatehouse CPU %',
  'upstream CPU %',
  'wrk CPU %',
  'others CPU %',
]
const SAMPLE_RIGHT = [true, false, true, true, true, true, true, true, true, true, true]

const phaseOf = (s: SoakSample, i: number, all: readonly SoakSample[], warmupS: number) =>
  i === 0 ? 'before load' : i === all.length - 1 ? 'load ended' : s.t < warmupS ? 'warm-up' : 'measured'

function sampleCells(s: SoakSample, i: number, all: readonly SoakSample[], warmupS: number): string[] {
  return [
    String(Math.round(s.t)),
    phaseOf(s, i, all, warmupS),
    mb(rssOf(s)),
    s.procs.length > 1 ? s.procs.map((p) => mb(p.rssKb)).join(' + ') : '',
    s.heapMb === null ? '–' : s.heapMb.toFixed(1),
    s.rps === null ? '–' : int(s.rps),
    s.callers === null ? '–' : int(s.callers),
    s.cpu ? String(s.cpu.gatehouse) : '–',
    s.cpu ? String(s.cpu.upstream) : '–',
    s.cpu ? String(s.cpu.wrk) : '–',
    s.cpu ? String(s.cpu.others) : '–',
  ]
}

/** The per-process table and the samples table, aligned for the terminal. */
export function soakText(samples: readonly SoakSample[], a: SoakAnalysis): string {
  return [
    `Resident memory per process\n\n${alignTable(PROC_HEADER, PROC_RIGHT, a.perProcess.map(procCells))}`,
    `Samples\n\n${alignTable(
      SAMPLE_HEADER,
      SAMPLE_RIGHT,
      samples.map((s, i) => sampleCells(s, i, samples, a.warmupS)),
    )}`,
  ].join('\n\n')
}

export function processMarkdown(a: SoakAnalysis): string {
  return mdTable(PROC_HEADER, PROC_RIGHT, a.perProcess.map(procCells))
}

export function samplesMarkdown(samples: readonly SoakSample[], warmupS: number): string {
  return mdTable(
    SAMPLE_HEADER,
    SAMPLE_RIGHT,
    samples.map((s, i) => sampleCells(s, i, samples, warmupS)),
  )
}

/** One row per sample: totals, then each process's pid and RSS (`pid:kB`, joined with `+`). */
export function soakTsv(samples: readonly SoakSample[], warmupS: number): string {
  const header = [
    't_s',
    'phase',
    'rss_kb',
    'proc_rss_kb',
    'heap_mb',
    'rps',
    'callers',
    'gatehouse_cpu_pct',
    'upstream_cpu_pct',
    'wrk_cpu_pct',
    'other_cpu_pct',
  ]
  const lines = samples.map((s, i) =>
    [
      s.t.toFixed(1),
      phaseOf(s, i, samples, warmupS),
      rssOf(s),
      s.procs.map((p) => `${p.pid}:${p.rssKb}`).join('+'),
      s.heapMb?.toFixed(1) ?? '',
      s.rps === null ? '' : Math.round(s.rps),
      s.callers ?? '',
      s.cpu?.gatehouse ?? '',
      s.cpu?.upstream ?? '',
      s.cpu?.wrk ?? '',
      s.cpu?.others ?? '',
    ].join('\t'),
  )
  return `${[header.join('\t'), ...lines].join('\n')}\n`
}
