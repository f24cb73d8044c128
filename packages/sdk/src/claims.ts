/**
 * The internal-token claims contract, checked after jose has verified the signature, issuer, audience,
 * type and times: what jose leaves unchecked (types of `sub`, `jti` and the gateway's own claims), and
 * what the contract adds (`aud` is always an array, `sub_type` is `user` or `client`, the gateway's own
 * claims have their documented shapes). A claim outside the contract refuses the token, naming the
 * claim: a service must not guess at what a malformed identity means. Optional claims are absent, never
 * `null`. Other top-level claims are profile claims and pass as they are.
 */
import type { JWTPayload } from 'jose'
import { VerificationError } from './errors.ts'

/** The JWS `typ` of every internal token (RFC 8725 §3.11: its own type, never `at+jwt` nor `JWT`). */
export const INTERNAL_TOKEN_TYPE = 'gatehouse-internal+jwt'

/** Claims every internal token carries, checked for presence by jose. */
export const REQUIRED_CLAIMS: readonly string[] = Object.freeze(['exp', 'iat', 'sub', 'jti'])

export type SubjectKind = 'user' | 'client'

/** How the caller authenticated at the gateway; other strings may come from newer gateways. */
export type AuthMethod =
  | 'jwt'
  | 'key-auth'
  | 'basic-auth'
  | 'hmac-auth'
  | 'openid-connect'
  | 'session'
  | (string & {})

/** The claims of a verified internal token, as the gateway writes them. */
export interface InternalTokenClaims {
  readonly iss: string
  readonly sub: string
  readonly aud: readonly string[]
  readonly iat: number
  readonly exp: number
  readonly nbf?: number
  readonly jti: string
  readonly sub_type: SubjectKind
  readonly client_id?: string
  /** Space-separated scopes (RFC 9068 §2.2.3). */
  readonly scope?: string
  readonly roles?: readonly string[]
  readonly consumer?: { readonly id: string; readonly username?: string; readonly custom_id?: string }
  readonly auth: { readonly method: AuthMethod; readonly iss?: string }
  /** The request id (X-Request-ID) of the request the gateway minted this token for. */
  readonly txn?: string
  /** How the person authenticated at their provider (OIDC `acr`), e.g. `urn:gatehouse:acr:2fa`. */
  readonly acr?: string
  /** The authentication methods they used (RFC 8176), e.g. `["pwd", "otp", "mfa"]`. */
  readonly amr?: readonly string[]
  /** When they last authenticated (epoch seconds). */
  readonly auth_time?: number
  /** Profile claims the gateway mapped (`email`, `country`, …), top level. */
  readonly [claim: string]: unknown
}

const invalid = (claim: string): VerificationError => new VerificationError('GH_SDK_CLAIM_INVALID', { claim })

const isText = (value: unknown): value is string => typeof value === 'string' && value !== ''

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

function optionalString(claims: Record<string, unknown>, name: string, error = name): void {
  if (Object.hasOwn(claims, name) && typeof claims[name] !== 'string') throw invalid(error)
}

/** Returns the claims typed by the contract, or throws GH_SDK_CLAIM_INVALID naming the first bad claim. */
export function checkContract(claims: JWTPayload): InternalTokenClaims {
  const c = claims as Record<string, unknown>
  const { aud, sub, jti, sub_type: kind } = c
  if (!Array.isArray(aud) || aud.length === 0 || !aud.every(isText)) throw invalid('aud')
  if (!isText(sub)) throw invalid('sub')
  if (!isText(jti)) throw invalid('jti')
  if (kind !== 'user' && kind !== 'client') throw invalid('sub_type')
  optionalString(c, 'client_id')
  optionalString(c, 'scope')
  if (Object.hasOwn(c, 'roles') && !(Array.isArray(c.roles) && c.roles.every(isText))) throw invalid('roles')
  if (Object.hasOwn(c, 'consumer')) {
    const consumer = c.consumer
    if (!isObject(consumer) || !isText(consumer.id)) throw invalid('consumer')
    optionalString(consumer, 'username', 'consumer')
    optionalString(consumer, 'custom_id', 'consumer')
  }
  const auth = c.auth
  if (!isObject(auth) || !isText(auth.method)) throw invalid('auth')
  optionalString(auth, 'iss', 'auth')
  optionalString(c, 'txn')
  optionalString(c, 'acr')
  if (Object.hasOwn(c, 'amr') && !(Array.isArray(c.amr) && c.amr.every(isText))) throw invalid('amr')
  if (Object.hasOwn(c, 'auth_time') && !(Number.isSafeInteger(c.auth_time) && (c.auth_time as number) >= 0))
    throw invalid('auth_time')
  return claims as unknown as InternalTokenClaims
}

/** Freezes a JSON value all the way down (the claims jose parsed are ours alone). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const member of Object.values(value)) deepFreeze(member)
  }
  return value
}
