/**
 * The jwt plugin's 401 answers, as Kong's handler sends them (gateways.md b.4): the body's Kong members
 * `{"message": ...}` (or the claim errors themselves, `{"exp":"token expired"}`), which the gateway's
 * error body starts with (errors/respond.ts), and `WWW-Authenticate: Bearer` when no token was found,
 * `Bearer error="invalid_token"` for any other failure, with the realm when configured. Built once per
 * plugin instance; messages are fixed strings and never contain the token or a key.
 */
import { challenge } from '../../pipeline/authenticate.ts'
import type { HeaderMap } from '../../pipeline/request-state.ts'
import type { ClaimErrors } from './claims.ts'
import type { DecodeFailure } from './decode.ts'

export interface Failure {
  readonly status: 401
  /** Kong's members of the body. */
  readonly body: Readonly<Record<string, string>>
  readonly headers: HeaderMap
  /** Stable reason for debug logs. */
  readonly reason: string
  /** The error's message when the body has none of its own (claim errors). */
  readonly message?: string
}

export interface Failures {
  readonly noToken: Failure
  readonly multipleTokens: Failure
  readonly unrecognizable: Failure
  readonly tooLong: Failure
  readonly decode: Readonly<Record<DecodeFailure, Failure>>
  readonly noKeyClaim: Failure
  readonly invalidKeyClaim: Failure
  readonly noCredential: Failure
  readonly algorithmMismatch: Failure
  readonly unusableKey: Failure
  readonly badSignature: Failure
  claims(errors: ClaimErrors): Failure
}

export function buildFailures(realm: string | null | undefined, keyClaimName: string): Failures {
  const base = challenge('Bearer', realm)
  const invalidToken = challenge('Bearer', realm, 'invalid_token')
  const make = (reason: string, body: Record<string, string>, www = invalidToken, text?: string): Failure =>
    Object.freeze({
      status: 401,
      body: Object.freeze(body),
      headers: Object.freeze({ 'www-authenticate': www }),
      reason,
      ...(text === undefined ? {} : { message: text }),
    })
  const message = (reason: string, text: string) => make(reason, { message: text })
  return {
    noToken: make('jwt_no_token', { message: 'Unauthorized' }, base),
    multipleTokens: message('jwt_multiple_tokens', 'Multiple tokens provided'),
    unrecognizable: message('jwt_unrecognizable', 'Unrecognizable token'),
    tooLong: message('jwt_too_long', 'Bad token; too long'),
    decode: {
      'invalid JSON': message('jwt_invalid_json', 'Bad token; invalid JSON'),
      'invalid alg': message('jwt_invalid_alg', 'Bad token; invalid alg'),
      'unsupported crit': message('jwt_unsupported_crit', 'Bad token; unsupported crit'),
      'invalid signature': message('jwt_invalid_signature_encoding', 'Bad token; invalid signature'),
    },
    noKeyClaim: message('jwt_no_key_claim', `No mandatory '${keyClaimName}' in claims`),
    invalidKeyClaim: message('jwt_invalid_key_claim', `Invalid '${keyClaimName}' in claims`),
    noCredential: message('jwt_no_credential', `No credentials found for given '${keyClaimName}'`),
    algorithmMismatch: message('jwt_algorithm_mismatch', 'Invalid algorithm'),
    unusableKey: message('jwt_unusable_key', 'Invalid key/secret'),
    badSignature: message('jwt_bad_signature', 'Invalid signature'),
    claims: (errors) =>
      make(
        'jwt_claims',
        errors,
        invalidToken,
        Object.entries(errors)
          .map(([claim, problem]) => `${claim}: ${problem}`)
          .join('; '),
      ),
  }
}
