/**
 * The user-info service of the identity propagation benchmark (issue 5), answered by the bench upstream
 * itself (upstream.ts) so no extra process shares the server CPU: `GET /users/<sub>` gives a small JSON
 * profile that varies with the subject, and the pre-run check compares the internal token's enriched
 * claims with the same function. `/echo-authorization` answers with the Authorization header the upstream
 * received: only the pre-run check asks for it, to verify the internal token the gateway sent.
 * `/bench-stats` says how many profile requests the upstream answered and for how many distinct subjects:
 * the soak (bench/soak.ts) asks it to prove its callers were all distinct and all enriched.
 */

export const USERS_PATH = '/users/'
export const ECHO_PATH = '/echo-authorization'
export const STATS_PATH = '/bench-stats'

/** What `/bench-stats` answers. */
export interface UserInfoStats {
  /** `GET /users/<sub>` requests answered (200 or 404). */
  profile_requests: number
  /** Distinct subjects among them that had a profile (200). */
  distinct_subjects: number
}
/** Profile members the internal-token plugin copies into the internal token. */
export const ENRICHED_CLAIMS = ['country', 'customer_type'] as const

const COUNTRIES = ['GB', 'FR', 'DE', 'US', 'JP']

/** The profile of a bench subject (`user-N`, as in lib/tokens.ts), or null: unknown subject (404). */
export function profileOf(sub: string): Record<string, unknown> | null {
  const match = /^user-(\d+)$/.exec(sub)
  if (!match) return null
  const n = Number(match[1])
  return {
    sub,
    country: COUNTRIES[n % COUNTRIES.length],
    customer_type: n % 3 === 0 ? 'premium' : 'standard',
    display_name: `Bench User ${n}`,
    email_verified: true,
  }
}
