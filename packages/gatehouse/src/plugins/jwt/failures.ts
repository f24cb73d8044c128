/**
 * The jwt plugin's 401 answers, exactly as Kong's handler sends them (gateways.md b.4): a JSON body
 * `{"message": ...}` (or the claim errors themselves), and `WWW-Authenticate: Bearer` when no token was
 * found, `Bearer error="invalid_token"` for any other failure, with the realm when configured. Built
 * once per plugin instance; messages are fixed strings and never contain the token or a key.
 */
import { challenge } from '../../pipeline/authenticate.ts'
import type { HeaderMap } from '../../pipeline/request-state.ts'
import type { ClaimErrors } from './claims.ts'
import type { DecodeFailure } from './decode.ts'

export interface Failure {
  readonly status: 401
  readonly body: string
  readonly headers: HeaderMap
  /** Stable reason for debug logs. */
  readonly reason: string
}

const JSON_TYPE = 'application/json; charset=utf-8'

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
  const make = (reason: string, body: object, www = invalidToken): Failure => ({
    status: 401,
    body: JSON.stringify(body),
    headers: { 'content-type': JSON_TYPE, 'www-authenticate': www },
    reason,
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
    claims: (errors) => make('jwt_claims', errors),
  }
}
