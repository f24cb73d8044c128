/**
 * The identity propagation table (issue 5): Gatehouse's full pipeline — RS256 bearer verification, the
 * caller's profile from the user-info service (cached), an internal token minted (cached) for the upstream —
 * beside Gatehouse's own plain jwt verification and the peers' RS256 verification, per connection count.
 * Targets: ≥ 0.90 of gatehouse-jwt-rs256 (the propagation costs almost nothing once cached) and ≥ 1.0×
 * haproxy-rs256; Express Gateway is shown without a target. Figures come from the first table's summaries;
 * ratios as in the JWT table (median over median, and the round-by-round range).
 */
import { PASSPORT_SYSTEM } from './passport.ts'
import {
  alignTable,
  int,
  mdTable,
  medianRatio,
  type Row,
  roundRange,
  type Summary,
  verdict,
  withRange,
} from './report.ts'

/** Issue 5's targets: minimum ratios of gatehouse-passport-rs256's req/s to these systems'. */
export const PROPAGATION_TARGETS = { 'gatehouse-jwt-rs256': 0.9, 'haproxy-rs256': 1.0 } as const

/** The systems beside the full pipeline: what each one does, and the minimum ratio issue 5 asks for. */
const REFERENCES: { system: string; does: string; target: number | null }[] = [
  {
    system: 'gatehouse-jwt-rs256',
    does: 'Gatehouse jwt plugin alone (same config minus internal-token)',
    target: PROPAGATION_TARGETS['gatehouse-jwt-rs256'],
  },
  {
    system: 'haproxy-rs256',
    does: 'HAProxy jwt_verify (verification only)',
    target: PROPAGATION_TARGETS['haproxy-rs256'],
  },
  { system: 'express-gateway-rs256', does: 'Express Gateway jwt policy (verification only)', target: null },
]

export interface PropagationRow {
  conns: number
  system: string
  does: string
  summary: Summary | null
  /** gatehouse-passport-rs256's req/s over this row's (null on its own row or when either is missing). */
  ratio: number | null
  ratioRounds: [number, number] | null
  /** null: no target for this row. */
  target: number | null
}

/** Per connection count at which gatehouse-passport-rs256 was measured: it, then each reference. */
export function propagationRows(summaries: Summary[], rows: Row[], connections: number[]): PropagationRow[] {
  const out: PropagationRow[] = []
  for (const conns of connections) {
    const find = (system: string) => summaries.find((s) => s.conns === conns && s.system === system) ?? null
    const passport = find(PASSPORT_SYSTEM)
    if (!passport) continue
    out.push({
      conns,
      system: PASSPORT_SYSTEM,
      does: 'RS256 verification + enrichment (cached) + internal ES256 token (cached)',
      summary: passport,
      ratio: null,
      ratioRounds: null,
      target: null,
    })
    for (const ref of REFERENCES) {
      const summary = find(ref.system)
      out.push({
        conns,
        system: ref.system,
        does: ref.does,
        summary,
        ratio: medianRatio(passport, summary),
        ratioRounds: roundRange(rows, conns, passport, summary),
        target: ref.target,
      })
    }
  }
  return out
}

/** How many of issue 5's targets were met, missed, or could not be judged (a reference not measured). */
export function propagationTargetsMet(rows: PropagationRow[]): {
  met: number
  missed: number
  unmeasured: number
} {
  const tally = { met: 0, missed: 0, unmeasured: 0 }
  for (const r of rows) {
    if (r.target === null) continue
    if (r.ratio === null) tally.unmeasured++
    else if (r.ratio >= r.target) tally.met++
    else tally.missed++
  }
  return tally
}

const HEADER = [
  'conns',
  'system',
  'what it does per request',
  'req/s (median)',
  'min–max',
  'p50 ms',
  'p99 ms',
  'passport ÷ this',
  'target',
  'notes',
]
const RIGHT = [true, false, false, true, true, true, true, true, false, false]

function cells(r: PropagationRow): string[] {
  const s = r.summary
  const own = r.system === PASSPORT_SYSTEM
  const target = own ? '' : verdict(r.ratio, r.target)
  if (!s) return [String(r.conns), r.system, r.does, 'not measured', '', '', '', '–', target, '']
  return [
    String(r.conns),
    r.system,
    r.does,
    int(s.rpsMedian),
    s.runs > 1 ? `${int(s.rpsMin)}–${int(s.rpsMax)}` : '–',
    s.p50Median.toFixed(2),
    s.p99Median.toFixed(2),
    own ? '–' : withRange(r.ratio, r.ratioRounds),
    target,
    s.notes.length ? 'see the first table' : '',
  ]
}

export function propagationTextTable(rows: PropagationRow[]): string {
  return alignTable(HEADER, RIGHT, rows.map(cells))
}

export function propagationMarkdownTable(rows: PropagationRow[]): string {
  return mdTable(HEADER, RIGHT, rows.map(cells))
}
