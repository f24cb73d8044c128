/**
 * Which request origins the cors plugin allows, decided as Kong's cors handler does: `*`; exact origins
 * compared after dropping a default port; regular expressions tested against the origin's host when the
 * expression has no `:`, else against the whole origin. Unlike Kong, expressions are anchored at both
 * ends as a whole (`^(?:...)$`), so an alternation cannot match a mere prefix of an attacker's origin.
 */
import { PLAIN_ORIGIN } from './schema.ts'

export interface OriginPolicy {
  /** Every origin is allowed: `origins` unset, empty, or containing `*`. */
  readonly any: boolean
  /** The only configured origin when there is exactly one plain entry, else null. */
  readonly single: string | null
  /** The Access-Control-Allow-Origin value for a request Origin, or null when it is not allowed. */
  allowed(origin: string): string | null
}

interface OriginPattern {
  readonly regex: RegExp
  /** Tested against the host alone (the entry has no `:`), as Kong's `by_host`. */
  readonly byHost: boolean
}

/** Origins are attacker-chosen, so the memo of decisions is bounded; it is emptied when full. */
const MEMO_LIMIT = 1000

export function compileOrigins(entries: readonly string[] | null | undefined): OriginPolicy {
  const list = entries ?? []
  const any = list.length === 0 || list.includes('*')
  const exact = new Set<string>()
  const patterns: OriginPattern[] = []
  for (const entry of list) {
    if (entry === '*') continue
    if (PLAIN_ORIGIN.test(entry)) exact.add(normalizeOrigin(entry).domain)
    else patterns.push({ regex: new RegExp(`^(?:${entry})$`), byHost: !entry.includes(':') })
  }
  const single = list.length === 1 && PLAIN_ORIGIN.test(list[0]!) ? list[0]! : null
  const memo = new Map<string, string | null>()

  function decide(origin: string): string | null {
    const { domain, host } = normalizeOrigin(origin)
    if (exact.has(domain)) return domain
    for (const p of patterns) if (p.regex.test(p.byHost ? host : domain)) return domain
    return null
  }

  return {
    any,
    single,
    allowed(origin) {
      let decision = memo.get(origin)
      if (decision === undefined) {
        decision = decide(origin)
        if (memo.size >= MEMO_LIMIT) memo.clear()
        memo.set(origin, decision)
      }
      return decision
    },
  }
}

/**
 * `scheme://host[:port]` with scheme and host lower-cased (RFC 6454 §4) and a default port dropped, plus
 * the host alone. A value without `://` (such as `null`) is both.
 */
export function normalizeOrigin(origin: string): { domain: string; host: string } {
  const schemeEnd = origin.indexOf('://')
  if (schemeEnd === -1) return { domain: origin, host: origin }
  const scheme = origin.slice(0, schemeEnd).toLowerCase()
  let authority = origin.slice(schemeEnd + 3)
  const slash = authority.indexOf('/')
  if (slash !== -1) authority = authority.slice(0, slash)
  authority = authority.toLowerCase()
  const colon = authority.lastIndexOf(':')
  let host = authority
  let port = ''
  if (colon > authority.lastIndexOf(']')) {
    host = authority.slice(0, colon)
    port = authority.slice(colon + 1)
  }
  if ((scheme === 'http' && port === '80') || (scheme === 'https' && port === '443')) port = ''
  return { domain: port === '' ? `${scheme}://${host}` : `${scheme}://${host}:${port}`, host }
}
