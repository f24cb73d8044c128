/**
 * Every refusal the SDK makes, with a stable code (`GH_SDK_<CONDITION>`, never reused for another meaning),
 * its HTTP status and a fixed client-facing description. Descriptions never contain the token, a claim
 * value or key material, and hold no `"` or `\`, so they can go into a quoted `error_description`
 * auth-param as they are (RFC 6750 §3). README.md's error table lists the same codes (a test checks).
 */

/** Each code's HTTP status, OAuth `error` and fixed description. */
export const ERROR_CODES = {
  GH_SDK_TOKEN_MISSING: { status: 401, error: 'unauthorized', description: 'A bearer token is required' },
  GH_SDK_TOKEN_MALFORMED: { status: 401, error: 'invalid_token', description: 'The token is malformed' },
  GH_SDK_TOKEN_TOO_LONG: { status: 401, error: 'invalid_token', description: 'The token is too long' },
  GH_SDK_ALG_NOT_ALLOWED: {
    status: 401,
    error: 'invalid_token',
    description: 'The token is signed with an algorithm this service does not accept',
  },
  GH_SDK_TYPE_INVALID: {
    status: 401,
    error: 'invalid_token',
    description: 'The token is not a Gatehouse internal token (typ)',
  },
  GH_SDK_SIGNATURE_INVALID: {
    status: 401,
    error: 'invalid_token',
    description: 'The token signature is invalid',
  },
  GH_SDK_KEY_UNKNOWN: {
    status: 401,
    error: 'invalid_token',
    description: 'The token is not signed with a known gateway key',
  },
  GH_SDK_KEYS_UNAVAILABLE: {
    status: 503,
    error: 'temporarily_unavailable',
    description: 'The gateway signing keys are unavailable; the token cannot be verified now',
  },
  GH_SDK_EXPIRED: { status: 401, error: 'invalid_token', description: 'The token expired' },
  GH_SDK_NOT_YET_VALID: { status: 401, error: 'invalid_token', description: 'The token is not valid yet' },
  GH_SDK_ISSUED_IN_FUTURE: {
    status: 401,
    error: 'invalid_token',
    description: 'The token was issued in the future',
  },
  GH_SDK_TOO_OLD: { status: 401, error: 'invalid_token', description: 'The token is too old' },
  GH_SDK_ISSUER_INVALID: {
    status: 401,
    error: 'invalid_token',
    description: 'The token is from another issuer',
  },
  GH_SDK_AUDIENCE_INVALID: {
    status: 401,
    error: 'invalid_token',
    description: 'The token is not meant for this service',
  },
  GH_SDK_CLAIM_INVALID: {
    status: 401,
    error: 'invalid_token',
    description: 'The token has a missing or invalid claim',
  },
  GH_SDK_TOKEN_UNVERIFIABLE: {
    status: 401,
    error: 'invalid_token',
    description: 'The token cannot be verified',
  },
  GH_SDK_SCOPE_INSUFFICIENT: {
    status: 403,
    error: 'insufficient_scope',
    description: 'The token lacks a scope this operation requires',
  },
  GH_SDK_ROLE_MISSING: {
    status: 403,
    error: 'forbidden',
    description: 'The caller lacks a role this operation requires',
  },
} as const satisfies Record<string, { status: 401 | 403 | 503; error: string; description: string }>

export type VerificationErrorCode = keyof typeof ERROR_CODES

/** A claim name that may appear inside a quoted description (RFC 6750 §3 auth-param characters). */
const QUOTABLE = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/

const BRAND = Symbol.for('gatehouse-sdk.VerificationError')

export interface VerificationErrorOptions {
  /** The claim or header parameter at fault, for GH_SDK_CLAIM_INVALID and friends. */
  readonly claim?: string
  /** Seconds the client should wait, for GH_SDK_KEYS_UNAVAILABLE (the `Retry-After` header). */
  readonly retryAfter?: number
  /** What went wrong underneath (a jose error, a fetch failure); for logs, never for the client. */
  readonly cause?: unknown
}

/**
 * Why a token was refused, or why an identity may not do something.
 *
 * `code` is stable and documented; `status` is what to answer (401, 403, or 503 when the gateway's keys
 * cannot be fetched); `description` is the fixed text to send as `error_description` (for
 * GH_SDK_CLAIM_INVALID it names the claim); `message` names the claim for logs. `instanceof` works across copies of the SDK (a `Symbol.for` brand).
 *
 * @example
 * try {
 *   const identity = await verifier.verify(token)
 * } catch (err) {
 *   if (err instanceof VerificationError) console.info({ code: err.code, status: err.status }, 'refused')
 *   else throw err
 * }
 */
export class VerificationError extends Error {
  readonly code: VerificationErrorCode
  readonly status: 401 | 403 | 503
  /** The OAuth `error` value (`invalid_token`, `insufficient_scope`, …). */
  readonly error: string
  readonly description: string
  readonly claim: string | null
  readonly retryAfter: number | null

  constructor(code: VerificationErrorCode, options: VerificationErrorOptions = {}) {
    const entry = ERROR_CODES[code]
    const claim = options.claim !== undefined && QUOTABLE.test(options.claim) ? options.claim : null
    const named = claim === null ? entry.description : `${entry.description} (${claim})`
    super(named, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'VerificationError'
    this.code = code
    this.status = entry.status
    this.error = entry.error
    // Only the catch-all claim code names its claim to the client; the others already say which.
    this.description = code === 'GH_SDK_CLAIM_INVALID' ? named : entry.description
    this.claim = claim
    this.retryAfter = options.retryAfter ?? null
    Object.defineProperty(this, BRAND, { value: true })
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }
}
