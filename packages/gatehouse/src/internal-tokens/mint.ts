/**
 * An internal token: what a service behind the gateway receives instead of the caller's credential.
 *
 *   header  { alg: ES256 | EdDSA, kid, typ: "gatehouse-internal+jwt" }
 *   claims  iss, sub, aud [target, ...also], iat, nbf, exp, jti, sub_type (user | client), client_id?,
 *           scope?, consumer? {id, username?, custom_id?}, auth {method, iss?}, txn?, then profile claims
 *
 * The dedicated `typ` (RFC 8725 §3.11) keeps an internal token from passing as an OAuth access token
 * (`at+jwt`) or an ID token at any verifier that pins its type, and the other way round; `aud` is always
 * an array so services check membership, not equality. Profile claims never take a reserved name
 * (schema.ts refuses such mappings; here they are skipped again, for values from outside).
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

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string')
}
