/**
 * Kong's checks of the registered time claims (jwt_parser.lua verify_registered_claims and
 * check_maximum_expiration), with Kong's messages, plus Gatehouse's optional leeway. Time is whole
 * seconds, as Kong's ngx.time(). Run on every request, cached token or not, since they depend on the time.
 */

export interface ClaimRules {
  /** `claims_to_verify`, without repeats, in the configured order (which is the order of the body's keys). */
  readonly verify: readonly ('exp' | 'nbf')[]
  /** Seconds; 0 for no limit. */
  readonly maximumExpiration: number
  /** Seconds of clock skew tolerated on exp and nbf. */
  readonly leeway: number
}

/** The 401 body Kong sends for failed claims: claim name → message, no `message` key. */
export type ClaimErrors = Record<string, string>

/** The failures at `now` (seconds since the epoch), or null when every check holds. */
export function checkClaims(
  claims: Readonly<Record<string, unknown>>,
  rules: ClaimRules,
  now: number,
): ClaimErrors | null {
  let errors: ClaimErrors | null = null
  for (const name of rules.verify) {
    const value = Object.hasOwn(claims, name) ? claims[name] : undefined
    let problem: string | null
    if (typeof value !== 'number') problem = 'must be a number'
    else if (name === 'exp') problem = value + rules.leeway <= now ? 'token expired' : null
    else problem = value - rules.leeway > now ? 'token not valid yet' : null
    if (problem !== null) {
      errors ??= {}
      errors[name] = problem
    }
  }
  if (errors !== null || rules.maximumExpiration <= 0) return errors
  // Kong treats a missing exp as exceeding the limit; the schema makes `exp` a verified claim here anyway.
  const exp = claims.exp
  if (typeof exp !== 'number' || exp - now > rules.maximumExpiration)
    return { exp: 'exceeds maximum allowed expiration' }
  return null
}
