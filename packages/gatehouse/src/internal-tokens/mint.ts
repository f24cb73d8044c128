/**
 * An internal token: what a service behind the gateway receives instead of the caller's credential.
 *
 *   header  { alg: ES256 | EdDSA, kid, typ: "gatehouse-internal+jwt" }
 *   claims  iss, sub, aud [target, ...also], iat, nbf, exp, jti, sub_type (user | client), client_id?,
 *           scope?, consumer? {id, username?, custom_id?}, auth {method, iss?}, txn?, acr?, amr?,
 *           auth_time?, then profile claims
 *
 * The dedicated `typ` (RFC 8725 §3.11) keeps an internal token from passing as an OAuth access token
 * (`at+jwt`) or an ID token at any verifier that pins its type, and the other way round; `aud` is always
 * an array so services check membership, not equality. Profile claims never take a reserved name
 * (schema.ts refuses such mappings; here they are skipped again, for values from outside).
 *
 * `acr`, `amr` and `auth_time` (issue 14) say how the person authenticated, so a service can decide for
 * itself (an order needs a second factor): taken from the verified access token (openid-connect) or the
 * ID token the browser session was made from (session), and only from those — a Kong-style jwt or an API
 * key is the consumer's own assertion, not a provider's.
 */
import { randomUUID } from 'node:crypto'
import { SignJWT } from 'jose'
import type { ConsumerEntity } from '../config/model.ts'
import type { Principal } from '../pipeline/principal.ts'
import type { RingKey } from './key-ring.ts'

export const INTERNAL_TOKEN_TYPE = 'gatehouse-internal+jwt'

/**
 * Claims an internal token always carries with the gateway's meaning; mapped or enriched values may not
 * take these names (they would let a user-info service or a token claim rewrite who the caller is).
 */
export const RESERVED_CLAIMS = [
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'typ',
  'sub_type',
  'client_id',
  'scope',
  'consumer',
  'auth',
  'txn',
  'cnf',
  'act',
  'azp',
  'acr',
  'amr',
  'auth_time',
] as const

export interface MintRequest {
  readonly issuer: string
  readonly audience: readonly string[]
  readonly ttl: number
  readonly principal: Principal
  readonly consumer: ConsumerEntity | null
  /** Profile claims in order of precedence, lowest first (token claims, mapped attributes, user-info). */
  readonly profile: readonly Readonly<Record<string, unknown>>[]
  readonly reserved: ReadonlySet<string>
  /** The request id for `txn`, or null to leave it out. */
  readonly requestId: string | null
}

export interface MintedToken {
  readonly token: string
  /** Epoch seconds. */
  readonly exp: number
  readonly kid: string
}

export function internalClaims(r: MintRequest, now: number): Record<string, unknown> {
  const p = r.principal
  const claims: Record<string, unknown> = {}
  for (const source of r.profile)
    for (const [name, value] of Object.entries(source)) if (!r.reserved.has(name)) claims[name] = value
  // Services read `roles` as a list of strings (the SDK refuses a token with anything else): a mapping or
  // user-info answer giving another shape must not lock the caller out of every service.
  if ('roles' in claims && !isStringList(claims.roles)) delete claims.roles
  claims.iss = r.issuer
  claims.sub = p.subject
  claims.aud = [...r.audience]
  claims.iat = now
  claims.nbf = now
  claims.exp = now + r.ttl
  claims.jti = randomUUID()
  claims.sub_type = p.kind
  if (p.clientId !== null) claims.client_id = p.clientId
  if (p.scopes.length > 0) claims.scope = p.scopes.join(' ')
  if (r.consumer !== null) {
    const c = r.consumer
    claims.consumer = {
      id: c.id,
      ...(c.username !== null ? { username: c.username } : {}),
      ...(c.custom_id !== null ? { custom_id: c.custom_id } : {}),
    }
  }
  claims.auth = p.issuer !== null ? { method: p.method, iss: p.issuer } : { method: p.method }
  if (r.requestId !== null) claims.txn = r.requestId
  Object.assign(claims, authenticationOf(p))
  return claims
}

export async function mintInternalToken(r: MintRequest, key: RingKey): Promise<MintedToken> {
  const now = Math.floor(Date.now() / 1000)
  const claims = internalClaims(r, now)
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: INTERNAL_TOKEN_TYPE })
    .sign(key.privateKey)
  return { token, exp: claims.exp as number, kid: key.kid }
}

/**
 * The principal's acr, amr and auth_time, where its verified claims have them in their standard shapes
 * and it authenticated with a provider's token (openid-connect, session); {} otherwise. Part of what
 * makes a minted token reusable: a step-up gives the same person a new one.
 */
export function authenticationOf(p: Principal): Readonly<Record<string, unknown>> {
  if (p.method !== 'openid-connect' && p.method !== 'session') return NO_AUTHENTICATION
  const { acr, amr, auth_time: authTime } = p.claims
  const out: Record<string, unknown> = {}
  if (typeof acr === 'string' && acr !== '') out.acr = acr
  if (isStringList(amr) && amr.length > 0) out.amr = [...amr]
  if (Number.isSafeInteger(authTime) && (authTime as number) >= 0) out.auth_time = authTime
  return out
}

const NO_AUTHENTICATION: Readonly<Record<string, unknown>> = Object.freeze({})

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string')
}
