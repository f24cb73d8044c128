/**
 * The identity propagation system of the benchmark (issue 5): `gatehouse-passport-rs256` is exactly
 * gatehouse-jwt-rs256 (jwt plugin, one consumer, the RS256 pool of 1000 distinct users in rotation) plus
 * the internal-token plugin on the service. Per request Gatehouse verifies the caller's RS256 token, takes
 * the caller's profile from the user-info service (the bench upstream's `/users/{sub}`, lib/user-info.ts;
 * asked once per subject, then cached ENRICH_TTL_S), and sends the upstream an internal ES256 token for
 * INTERNAL_AUDIENCE in place of the caller's Authorization header.
 *
 * Caching, as configured here: user-info answers live ENRICH_TTL_S (3600 s), longer than any run, so after
 * the first warm-up every measured request finds its subject's profile cached. Minted tokens keep the
 * gateway's defaults, spelt out in `internal_tokens` (ttl 60 s, reuse_until_remaining 0.5): a token is
 * reused for the same caller for 30 s, so the measured runs include a fresh ES256 signature per user every
 * 30 s (about 33 a second for 1000 users), and a cache lookup on all the other requests.
 *
 * The pre-run check (beyond the JWT cases) proves the upstream got an internal token: the request goes to
 * `/echo-authorization`, where the upstream answers with the Authorization header it received, and that
 * token is verified with jose against the gateway's JWKS (issuer, audience, `typ`, ES256), its `sub` and
 * enriched claims compared with the caller's token and profile.
 */
import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, jwtVerify } from 'jose'
import { httpGet } from './procs.ts'
import { ECHO_PATH, ENRICHED_CLAIMS, profileOf, USERS_PATH } from './user-info.ts'

export const PASSPORT_SYSTEM = 'gatehouse-passport-rs256'
/** The internal token's audience: the service behind the route. */
export const INTERNAL_AUDIENCE = 'bench-upstream'
/** Seconds a user-info answer is reused: longer than a run, so measured requests hit the cache. */
export const ENRICH_TTL_S = 3600
/** The gateway's defaults, written out in the configuration (`internal_tokens`) so the report states them. */
export const INTERNAL_ISSUER = 'https://gatehouse.internal'
export const INTERNAL_TTL_S = 60
export const INTERNAL_REUSE_UNTIL_REMAINING = 0.5
const INTERNAL_TYP = 'gatehouse-internal+jwt'
const JWKS_PATH = '/.well-known/gatehouse/jwks.json'

/** The configuration's `internal_tokens` section: the defaults, spelt out. */
export function internalTokensSection(): Record<string, unknown> {
  return {
    issuer: INTERNAL_ISSUER,
    algorithm: 'ES256',
    ttl: INTERNAL_TTL_S,
    reuse_until_remaining: INTERNAL_REUSE_UNTIL_REMAINING,
  }
}

/** The internal-token plugin entry of the service. */
export function internalTokenPlugin(upstreamPort: number): Record<string, unknown> {
  return {
    name: 'internal-token',
    config: {
      audience: INTERNAL_AUDIENCE,
      enrich: {
        url: `http://127.0.0.1:${upstreamPort}${USERS_PATH}{sub}`,
        claims: [...ENRICHED_CLAIMS],
        ttl: ENRICH_TTL_S,
      },
    },
  }
}

/**
 * Sends `good` (a valid bench token) to the echo path twice and verifies what the upstream received: an
 * internal token signed by a key of the gateway's JWKS, for INTERNAL_AUDIENCE, whose `sub` is the caller's
 * and whose enriched claims are the caller's profile. Says whether the second request reused the token.
 */
export async function checkInternalToken(
  port: number,
  good: string,
): Promise<{ ok: boolean; detail: string }> {
  const bad = (why: string) => ({ ok: false, detail: `internal token: ${why}` })
  const received = async (): Promise<string | null> => {
    const echo = await httpGet(port, ECHO_PATH, good)
    if (echo.status !== 200) return null
    const authorization = (JSON.parse(echo.body) as { authorization: string | null }).authorization
    return authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : null
  }
  const internal = await received()
  if (internal === null) return bad(`${ECHO_PATH} did not reach the upstream with a bearer token`)
  if (internal === good) return bad('the upstream received the caller’s own token')
  const jwks = await httpGet(port, JWKS_PATH)
  if (jwks.status !== 200) return bad(`${JWKS_PATH} answered ${jwks.status || 'nothing'}`)
  const keys = createLocalJWKSet(JSON.parse(jwks.body) as JSONWebKeySet)
  let claims: Record<string, unknown>
  let kid: string | undefined
  try {
    const verified = await jwtVerify(internal, keys, {
      issuer: INTERNAL_ISSUER,
      audience: INTERNAL_AUDIENCE,
      typ: INTERNAL_TYP,
      algorithms: ['ES256'],
    })
    claims = verified.payload
    kid = verified.protectedHeader.kid
  } catch (err) {
    return bad(`does not verify with the gateway's JWKS: ${(err as Error).message}`)
  }
  const sub = decodeJwt(good).sub ?? ''
  if (claims['sub'] !== sub) return bad(`sub is ${String(claims['sub'])}, the caller is ${sub}`)
  const profile = profileOf(sub) ?? {}
  for (const name of ENRICHED_CLAIMS) {
    if (claims[name] !== profile[name])
      return bad(
        `${name} is ${JSON.stringify(claims[name])}, the profile says ${JSON.stringify(profile[name])}`,
      )
  }
  const enriched = ENRICHED_CLAIMS.map((name) => `${name} ${String(claims[name])}`).join(', ')
  const again = await received()
  return {
    ok: true,
    detail:
      `upstream received an internal token (ES256, kid ${kid}, iss, aud ${INTERNAL_AUDIENCE}, typ verified ` +
      `with ${JWKS_PATH}; sub ${sub}; ${enriched}); ` +
      `the next request ${again === internal ? 'reused it' : 'got another one'}`,
  }
}
