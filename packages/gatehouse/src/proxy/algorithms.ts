/**
 * Choosing one endpoint among the eligible (healthy, weight above 0) ones. Both algorithms skip the
 * endpoints a request already tried when another is eligible, so a retry goes elsewhere, and fall back
 * to them when nothing else is left (Kong retries the same target when it is the only one).
 */
import type { Endpoint } from './endpoint.ts'

export type Pick = (eligible: readonly Endpoint[], avoid: readonly Endpoint[] | null) => Endpoint | null

/**
 * Smooth weighted round-robin (nginx's): every pick adds each endpoint's weight to its running weight,
 * takes the largest and subtracts the total from it. Weights 5:1:1 give a a b a c a a, spreading the
 * heavy endpoint's turns instead of sending it five in a row.
 */
export function roundRobin(
  eligible: readonly Endpoint[],
  avoid: readonly Endpoint[] | null,
): Endpoint | null {
  let best: Endpoint | null = null
  let total = 0
  for (const e of eligible) {
    if (avoid?.includes(e)) continue
    e.current += e.weight
    total += e.weight
    if (best === null || e.current > best.current) best = e
  }
  if (best === null) return avoid === null ? null : roundRobin(eligible, null)
  best.current -= total
  return best
}

/**
 * Least connections (Kong's): the fewest requests in flight per unit of weight, `(active + 1) / weight`.
 * Ties go round the list from a moving start, so equally idle endpoints take turns.
 */
export function leastConnections(): Pick {
  let start = 0
  const pick: Pick = (eligible, avoid) => {
    const n = eligible.length
    if (n === 0) return null
    start = (start + 1) % n
    let best: Endpoint | null = null
    let bestScore = Number.POSITIVE_INFINITY
    for (let i = 0; i < n; i++) {
      const e = eligible[(start + i) % n]!
      if (avoid?.includes(e)) continue
      const score = (e.active + 1) / e.weight
      if (score < bestScore) {
        best = e
        bestScore = score
      }
    }
    if (best === null && avoid !== null) return pick(eligible, null)
    return best
  }
  return pick
}
