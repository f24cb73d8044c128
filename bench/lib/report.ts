/**
 * Turns the benchmark's raw rows (one per system, connection count and round) into the summary the
 * driver prints and saves: median req/s over the rounds with min–max, median p50/p99, the ratio of
 * req/s to `direct` (the upstream alone) and, for Gatehouse rows, to `nginx` (the plain-proxy floor).
 * Rows with errors, measured on a busy machine or whose rounds disagree by more than 20% are flagged in a
 * `notes` column, never averaged in silently. Output: an aligned text table, a Markdown table, and the raw rows as TSV.
 */

export interface Row {
  round: number
  system: string
  conns: number
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
}

export const TSV_COLUMNS: (keyof Row)[] = [
  'round',
  'system',
  'conns',
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
]

export function toTsv(rows: Row[]): string {
  const lines = rows.map((r) => TSV_COLUMNS.map((c) => String(r[c])).join('\t'))
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
  vsDirect: number | null
  vsNginx: number | null
  /** Gatehouse rows: req/s relative to the bare node:http + undici proxy (what Gatehouse's own work costs). */
  vsFloor: number | null
  notes: string[]
}

/** Flag a row when its rounds' req/s span more than this fraction of the median. */
const SPREAD_NOTE = 0.2

function median(values: number[]): number {
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
  const medianRps = (system: string, conns: number): number | null => {
    const rps = rows.filter((r) => r.system === system && r.conns === conns).map((r) => r.rps)
    return rps.length ? median(rps) : null
  }
  for (const conns of connections) {
    const direct = medianRps('direct', conns)
    const nginx = medianRps('nginx', conns)
    const floor = medianRps('node-floor', conns)
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
        p99Median: median(mine.map((r) => r.p99_ms)),
        vsDirect: direct ? rpsMedian / direct : null,
        vsNginx:
          nginx && (system.startsWith('gatehouse') || system === 'node-floor') ? rpsMedian / nginx : null,
        vsFloor: floor && system.startsWith('gatehouse') ? rpsMedian / floor : null,
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
  'p50 ms',
  'p99 ms',
  '× direct',
  '× nginx',
  '× node-floor',
  'notes',
]
const RIGHT = [false, true, true, true, true, true, true, true, true, false]

function cells(s: Summary): string[] {
  const int = (n: number) => Math.round(n).toLocaleString('en-US')
  const ratio = (n: number | null) => (n === null ? '–' : n.toFixed(2))
  return [
    s.system,
    String(s.conns),
    int(s.rpsMedian),
    s.runs > 1 ? `${int(s.rpsMin)}–${int(s.rpsMax)}` : '–',
    s.p50Median.toFixed(2),
    s.p99Median.toFixed(2),
    ratio(s.vsDirect),
    ratio(s.vsNginx),
    ratio(s.vsFloor),
    s.notes.join('; '),
  ]
}

/** Aligned plain-text table for the terminal. */
export function textTable(summaries: Summary[]): string {
  const rows = [HEADER, ...summaries.map(cells)]
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) =>
    r
      .map((c, i) => (RIGHT[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n')
}

/** The same table in Markdown. */
export function markdownTable(summaries: Summary[]): string {
  const line = (r: string[]) => `| ${r.join(' | ')} |`
  const rule = `|${RIGHT.map((right) => (right ? ' ---: ' : ' --- ')).join('|')}|`
  return [line(HEADER), rule, ...summaries.map((s) => line(cells(s)))].join('\n')
}
