/**
 * Paired rounds (PAIRED_RUNS): issue 11's throughput targets measured with the two systems of each target
 * loaded at the same time, rather than one after the other.
 *
 * Why: on a shared VM the speed of the server CPU drifts by up to 2× within a minute (other tenants, CPU
 * steal), so two systems measured seconds apart can differ by more than what separates them; the
 * sequential table then shows rounds from 0.5 to 0.9 × node-floor for the same code. Loaded at the same
 * time, on the same server CPU, both systems live through the same drift, which cancels out of their
 * ratio.
 *
 * What is compared: each system's CPU time per request (its whole process tree, from /proc), over the
 * same seconds. Its inverse is the req/s one core gives that system alone with its upstream elsewhere,
 * which is what a target "≥ 0.90 × node-floor's req/s" asks of Gatehouse's own work. The ratio of
 * requests served in the round is reported beside it; it is not the verdict, because how the kernel
 * shares the CPU between the two (and the upstream both use) decides it as much as their costs do.
 */
import { alignTable, mdTable, median } from './report.ts'
import { OWN_COST_TARGETS } from './report-workers.ts'

/** One system's share of a paired round. */
export interface PairedSide {
  system: string
  /** Successful requests in the round. */
  ok: number
  /** CPU time of its process tree in the round, in clock ticks. */
  ticks: number
}

export interface PairedRound {
  round: number
  conns: number
  system: PairedSide
  reference: PairedSide
}

/** The req/s targets of issue 11 (the p99 target is left to the sequential rounds): system and reference. */
export function pairsToMeasure(
  measured: readonly string[],
): { system: string; reference: string; goal: number }[] {
  return OWN_COST_TARGETS.filter(
    (t) => t.metric === 'req/s' && measured.includes(t.system) && measured.includes(t.reference),
  ).map((t) => ({ system: t.system, reference: t.reference, goal: t.goal }))
}

export interface PairedRow {
  conns: number
  system: string
  reference: string
  goal: number
  rounds: number
  /** Median over the rounds of reference CPU/req ÷ system CPU/req, and its lowest and highest. */
  cpuRatio: number
  cpuRange: [number, number]
  /** Median of the requests the system served ÷ the reference's, same rounds. */
  servedRatio: number
  /** Median µs CPU per request of each, µs (they run at the same time, so both are higher than alone). */
  systemUs: number
  referenceUs: number
}

const usPerReq = (side: PairedSide, ticksPerSecond: number) =>
  side.ok > 0 ? (side.ticks / ticksPerSecond / side.ok) * 1e6 : Number.NaN

export function pairedRows(rounds: readonly PairedRound[], ticksPerSecond: number): PairedRow[] {
  const groups = new Map<string, PairedRound[]>()
  for (const r of rounds) {
    const key = `${r.conns}\0${r.system.system}\0${r.reference.system}`
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  const out: PairedRow[] = []
  for (const list of groups.values()) {
    const first = list[0]!
    const goal = OWN_COST_TARGETS.find(
      (t) =>
        t.system === first.system.system && t.reference === first.reference.system && t.metric === 'req/s',
    )!.goal
    // A round where either side served nothing (errors) has no ratio; it is left out, and counted.
    const usable = list.filter((r) => r.system.ok > 0 && r.reference.ok > 0 && r.system.ticks > 0)
    const cpu = usable.map((r) => usPerReq(r.reference, ticksPerSecond) / usPerReq(r.system, ticksPerSecond))
    out.push({
      conns: first.conns,
      system: first.system.system,
      reference: first.reference.system,
      goal,
      rounds: usable.length,
      cpuRatio: median(cpu),
      cpuRange: [Math.min(...cpu), Math.max(...cpu)],
      servedRatio: median(usable.map((r) => r.system.ok / r.reference.ok)),
      systemUs: median(usable.map((r) => usPerReq(r.system, ticksPerSecond))),
      referenceUs: median(usable.map((r) => usPerReq(r.reference, ticksPerSecond))),
    })
  }
  return out
}

const HEADER = [
  'conns',
  'system',
  'reference',
  'rounds',
  'µs CPU/req (system / reference)',
  'req/s per core ÷ reference (CPU/req ratio)',
  'min–max',
  'served ÷ reference',
  'target',
  'verdict',
]
const RIGHT = [true, false, false, true, true, true, true, true, false, false]

function cells(r: PairedRow): string[] {
  const ok = Number.isFinite(r.cpuRatio)
  return [
    String(r.conns),
    r.system,
    r.reference,
    String(r.rounds),
    `${Math.round(r.systemUs)} / ${Math.round(r.referenceUs)}`,
    ok ? r.cpuRatio.toFixed(2) : 'no usable round',
    ok ? `${r.cpuRange[0].toFixed(2)}–${r.cpuRange[1].toFixed(2)}` : '',
    ok ? r.servedRatio.toFixed(2) : '',
    `≥ ${r.goal.toFixed(2)}`,
    ok ? (r.cpuRatio >= r.goal ? 'met' : 'not met') : 'not judged',
  ]
}

export function pairedText(rows: readonly PairedRow[]): string {
  return alignTable(HEADER, RIGHT, rows.map(cells))
}

export function pairedMarkdown(rows: readonly PairedRow[]): string {
  return mdTable(HEADER, RIGHT, rows.map(cells))
}

export const PAIRED_NOTE = `Paired rounds: the system and its reference loaded at the same time (one wrk each, as in the
rounds above, both on the wrk CPU; both servers and the upstream on the server CPU), after a warm-up loaded
the same way. The verdict column judges issue 11's req/s targets by the ratio of CPU time per request measured
in the same seconds (reference ÷ system): the req/s a core gives each on its own. Both systems run slower
than alone (they share a core and the caches), so the µs columns are not comparable with the first table's;
their ratio is. "served ÷ reference" is the ratio of requests each completed in the round.`
