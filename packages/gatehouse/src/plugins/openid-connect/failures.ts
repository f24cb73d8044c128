/**
 * Every way a request can fail at the openid-connect plugin, as data: the stable `reason` (access log
 * `error_detail`, debug logs), the precise description (sent only with `verbose_errors`), the OAuth
 * `error` (RFC 6750 §3.1, RFC 9449 §7.1) and the GH_ERR_* code. answers.ts turns one into the HTTP
 * answer for the scheme the client used. Descriptions are fixed strings — never a token, claim value or
 * key — without `"` or `\`, since they are quoted in WWW-Authenticate (RFC 6750 §3).
 */
import type { GatehouseErrorCode } from '../../errors/errors.ts'
import { UNMET_DESCRIPTIONS, type Unmet } from '../_shared/step-up.ts'

export interface Failure {
  readonly reason: string
  /** The precise description: always with `verbose_errors`, and for `kept` failures also without. */
  readonly description: string
  /** null: no credentials were sent, so the challenge carries no error (RFC 6750 §3.1). */
  readonly error:
    | 'invalid_token'
    | 'invalid_dpop_proof'
    | 'insufficient_scope'
    | 'insufficient_user_authentication'
    | null
  readonly status: 401 | 403
  readonly code: GatehouseErrorCode
  /**
   * Keeps its own description when answers are terse: it says what the client must do (send a token,
   * get a scope, use DPoP, retry later), not what is wrong with a credential it sent.
   */
  readonly kept: boolean
}

function token(
  reason: string,
  description: string,
  code: GatehouseErrorCode = 'GH_ERR_AUTH_CREDENTIALS_INVALID',
  kept = false,
): Failure {
  return Object.freeze({ reason, description, error: 'invalid_token', status: 401, code, kept })
}

function proof(reason: string, description: string, kept = false): Failure {
  return Object.freeze({
    reason,
    description,
    error: 'invalid_dpop_proof',
    status: 401,
    code: 'GH_ERR_AUTH_DPOP_INVALID',
    kept,
  })
}

function missing(description: string): Failure {
  return Object.freeze({
    reason: 'oidc_no_token',
    description,
    error: null,
    status: 401,
    code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
    kept: true,
  })
}

/** A claim name that may appear inside a quoted description. */
const QUOTABLE = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/

const perClaim = new Map<string, Failure>()

function claimFailure(kind: 'missing' | 'invalid', claim: string): Failure {
  const key = `${kind}\0${claim}`
  let failure = perClaim.get(key)
  if (failure === undefined) {
    const quotable = QUOTABLE.test(claim)
    const named = quotable ? `${claim} claim` : 'claim'
    failure = token(
      `oidc_${kind}_claim:${quotable ? claim : '?'}`,
      kind === 'missing'
        ? `The access token lacks a required ${named}`
        : `The access token has an invalid ${named}`,
    )
    // Claim names come from configuration and jose's fixed set, so this stays small.
    perClaim.set(key, failure)
  }
  return failure
}

/** RFC 9470: the token is good, but its acr, amr or auth_time do not meet the route's `require`. */
export const stepUpFailures = ((): Readonly<Record<Unmet, Failure>> => {
  const one = (why: Unmet): Failure =>
    Object.freeze({
      reason: `oidc_step_up_${why}`,
      description: UNMET_DESCRIPTIONS[why],
      error: 'insufficient_user_authentication',
      status: 401,
      code: 'GH_ERR_AUTH_STEP_UP_REQUIRED',
      kept: true,
    })
  return Object.freeze({ acr: one('acr'), amr: one('amr'), max_age: one('max_age') })
})()

export const failures = {
  noToken: missing('A bearer access token is required'),
  noDpopToken: missing('A DPoP-bound access token is required'),
  tooLong: token('oidc_token_too_long', 'The access token is too long'),
  malformed: token('oidc_malformed', 'The access token is malformed'),
  algorithm: token(
    'oidc_alg_not_allowed',
    'The access token is signed with an algorithm this resource does not accept',
  ),
  badKid: token('oidc_bad_kid', 'The access token has an invalid kid header'),
  type: token('oidc_wrong_type', 'The token is not an access token (typ)'),
  unknownKey: token('oidc_unknown_key', 'The access token is signed with an unknown key'),
  ambiguousKey: token(
    'oidc_ambiguous_key',
    'The access token has no kid and the issuer has several keys for its algorithm',
  ),
  signature: token('oidc_bad_signature', 'The access token signature is invalid'),
  expired: token('oidc_expired', 'The access token expired'),
  notYetValid: token('oidc_not_yet_valid', 'The access token is not valid yet'),
  issuedInFuture: token('oidc_issued_in_future', 'The access token was issued in the future'),
  tooOld: token('oidc_too_old', 'The access token is too old'),
  issuer: token('oidc_wrong_issuer', 'The access token is from another issuer'),
  unknownIssuer: token(
    'oidc_unknown_issuer',
    'The access token is from an issuer this resource does not trust',
  ),
  audience: token('oidc_wrong_audience', 'The access token is not meant for this resource'),
  unsupportedBinding: token(
    'oidc_unsupported_binding',
    'The access token is bound to a key in a way this resource cannot check (cnf)',
  ),
  keysUnavailable: token(
    'oidc_keys_unavailable',
    "The issuer's keys are unavailable; the access token cannot be verified",
    'GH_ERR_AUTH_KEYS_UNAVAILABLE',
    true,
  ),
  unverifiable: token('oidc_unverifiable', 'The access token cannot be verified'),
  // Its subject was revoked after it was issued (POST /revocations, issue 7).
  revoked: token('oidc_token_revoked', 'The access token has been revoked'),
  // Its signing key was withdrawn (`key` revocation, gatehouse keys revoke; issue 10).
  keyRevoked: token('oidc_key_revoked', 'The access token is signed with a withdrawn key'),
  insufficientScope: Object.freeze<Failure>({
    reason: 'oidc_insufficient_scope',
    description: 'The access token lacks a scope this resource requires',
    error: 'insufficient_scope',
    status: 403,
    code: 'GH_ERR_AUTH_SCOPE_INSUFFICIENT',
    kept: true,
  }),
  missingClaim: (claim: string): Failure => claimFailure('missing', claim),
  invalidClaim: (claim: string): Failure => claimFailure('invalid', claim),

  // The binding between an access token and a DPoP key (RFC 9449 §7.1, §7.2).
  dpopBearerDowngrade: token(
    'dpop_bearer_downgrade',
    'DPoP-bound token presented as a bearer token',
    'GH_ERR_AUTH_DPOP_INVALID',
  ),
  dpopNotBound: token(
    'dpop_not_bound',
    'The access token is not DPoP-bound but was presented with the DPoP scheme',
    'GH_ERR_AUTH_DPOP_INVALID',
  ),
  dpopRequired: token(
    'dpop_required',
    'This resource requires a DPoP-bound access token',
    'GH_ERR_AUTH_DPOP_INVALID',
    true,
  ),
  // RFC 9449 §7.1 answers a proof by another key than the token's with invalid_token.
  dpopJktMismatch: token(
    'dpop_jkt_mismatch',
    'The DPoP proof is signed with another key than the one the access token is bound to',
    'GH_ERR_AUTH_DPOP_INVALID',
  ),

  // The DPoP proof itself (RFC 9449 §4.3).
  dpopMissing: proof('dpop_missing', 'A DPoP proof is required with a DPoP-bound access token', true),
  dpopMultiple: proof('dpop_multiple', 'The request has more than one DPoP header'),
  dpopTooLong: proof('dpop_too_long', 'The DPoP proof is too long'),
  dpopMalformed: proof('dpop_malformed', 'The DPoP proof is malformed'),
  dpopType: proof('dpop_wrong_type', 'The DPoP proof is not of type dpop+jwt'),
  dpopAlgorithm: proof(
    'dpop_alg_not_allowed',
    'The DPoP proof is signed with an algorithm this resource does not accept',
  ),
  dpopJwk: proof('dpop_bad_jwk', 'The DPoP proof has no usable public jwk header'),
  dpopPrivateKey: proof('dpop_private_key', 'The DPoP proof jwk header contains private key material'),
  dpopSignature: proof('dpop_bad_signature', 'The DPoP proof signature is invalid'),
  dpopIat: proof('dpop_iat', 'The DPoP proof is too old or issued in the future (iat)'),
  dpopJti: proof('dpop_jti', 'The DPoP proof has no valid jti'),
  dpopReplay: proof('dpop_replay', 'The DPoP proof was used before (jti)'),
  // The shared replay cache (dpop.replay: redis) cannot be reached and dpop.replay_fault_tolerant is off.
  dpopReplayUnavailable: proof(
    'dpop_replay_unavailable',
    'The DPoP proof cannot be checked against replay right now; retry shortly',
    true,
  ),
  dpopHtm: proof('dpop_htm', 'The DPoP proof is for another HTTP method (htm)'),
  dpopHtu: proof('dpop_htu', 'The DPoP proof is for another URI (htu)'),
  dpopAth: proof('dpop_ath', 'The DPoP proof is for another access token (ath)'),
} as const
