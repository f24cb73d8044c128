/**
 * The run's totals in node's own words (`# tests N`, `# pass N`, …), added up from the summary each
 * file's TAP report ends with, plus the files that failed and those the watchdog killed, by name.
 */

export const COUNTS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'] as const
export type Counts = Record<(typeof COUNTS)[number], number>

export type Verdict = 'passed' | 'failed' | 'killed'

export interface FileResult {
  readonly file: string
  readonly verdict: Verdict
  /** Node's counts for the file; null when it never got to report them (killed, or crashed). */
  readonly counts: Counts | null
  readonly ms: number
}

export function emptyCounts(): Counts {
  return { tests: 0, suites: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 }
}

/** The counts of a TAP report (its last `# name N` lines), or null when it has none. */
export function countsOf(tap: string): Counts | null {
  const counts = emptyCounts()
  let seen = false
  for (const name of COUNTS) {
    const all = [...tap.matchAll(new RegExp(`^# ${name} (\\d+)$`, 'gm'))]
    const last = all[all.length - 1]
    if (last === undefined) continue
    counts[name] = Number(last[1])
    seen = true
  }
  return seen ? counts : null
}

/** The closing lines of the run. */
export function summarize(results: readonly FileResult[], fileTimeoutMs: number, ms: number): string {
  const total = emptyCounts()
  for (const r of results) {
    if (r.counts !== null) for (const name of COUNTS) total[name] += r.counts[name]
    // A file that failed without reporting a failing test (killed, crashed at import) counts as one.
    if (r.verdict !== 'passed' && (r.counts === null || r.counts.fail === 0)) total.fail++
  }
  const failed = results.filter((r) => r.verdict === 'failed').map((r) => r.file)
  const killed = results.filter((r) => r.verdict === 'killed').map((r) => r.file)
  const lines = [`# files ${results.length}`, ...COUNTS.map((name) => `# ${name} ${total[name]}`)]
  lines.push(`# duration_ms ${Math.round(ms)}`)
  for (const file of failed) lines.push(`# failed: ${file}`)
  for (const file of killed)
    lines.push(`# killed: ${file} (still running after its ${fileTimeoutMs} ms file timeout)`)
  return `${lines.join('\n')}\n`
}
