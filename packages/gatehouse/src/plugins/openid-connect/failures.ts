/**
 * The plugin's answers, RFC 6750 §3: no token → 401 with a bare `Bearer realm` challenge (no error code,
 * §3.1); a bad token → 401 `invalid_token`; a good token without the scopes → 403 `insufficient_scope`
 * with the `scope` the route needs. The body is the OAuth shape `{error, error_description}`. Every
 * description is a fixed string (no token, claim value or key material) without `"` or `\`, as §3
 * requires of quoted auth-params. Built once per plugin instance.
 */

import type { GatehouseErrorCode } from '../../errors/errors.ts'
import { challenge } from '../../pipeline/authenticate.ts'
import type { HeaderMap } from '../../pipeline/request-state.ts'

export interface Refusal {
  readonly status: 401 | 403
  readonly body: string
  readonly headers: HeaderMap
  readonly code: GatehouseErrorCode
  /** Stable reason for the access log (`error_detail`) and debug logs. */
  readonly reason: string
}

const JSON_TYPE = 'application/json; charset=utf-8'

export interface Refusals {
  readonly noToken: Refusal
  readonly tooLong: Refusal
  readonly malformed: Refusal
  readonly algorithm: Refusal
  readonly noKid: Refusal
  readonly type: Refusal
  readonly unknownKey: Refusal
  readonly signature: Refusal
  readonly expired: Refusal
  readonly notYetValid: Refusal
  readonly issuedInFuture: Refusal
  readonly tooOld: Refusal
  readonly issuer: Refusal
  readonly audience: Refusal
  readonly keysUnavailable: Refusal
  readonly unverifiable: Refusal
  readonly insufficientScope: Refusal
  missingClaim(claim: string): Refusal
  invalidClaim(claim: string): Refusal
}

/** A claim name that may appear inside a quoted description. */
const QUOTABLE = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/

export function buildRefusals(realm: string, requiredScopes: readonly string[]): Refusals {
  const invalid = (
    reason: string,
    description: string,
    code: Refusal['code'] = 'GH_ERR_AUTH_CREDENTIALS_INVALID',
  ): Refusal => ({
    status: 401,
    body: JSON.stringify({ error: 'invalid_token', error_description: description }),
    headers: {
      'content-type': JSON_TYPE,
      'www-authenticate': `${challenge('Bearer', realm, 'invalid_token')}, error_description="${description}"`,
    },
    code,
    reason,
  })
  const scopeDescription = 'The access token lacks a scope this resource requires'
  const claimRefusals = new Map<string, Refusal>()
  const perClaim = (kind: 'missing' | 'invalid', claim: string): Refusal => {
    const key = `${kind}\0${claim}`
    let refusal = claimRefusals.get(key)
    if (refusal === undefined) {
      const named = QUOTABLE.test(claim) ? `${claim} claim` : 'claim'
      refusal = invalid(
        `oidc_${kind}_claim:${claim}`,
        kind === 'missing'
          ? `The access token lacks a required ${named}`
          : `The access token has an invalid ${named}`,
      )
      // Claim names come from configuration and jose's fixed set, so this stays small.
      claimRefusals.set(key, refusal)
    }
    return refusal
  }
  return {
    noToken: {
      status: 401,
      // The challenge carries no error code when no token was sent (§3.1); the body says what is needed.
      body: JSON.stringify({ error: 'unauthorized', error_description: 'A bearer access token is required' }),
      headers: { 'content-type': JSON_TYPE, 'www-authenticate': challenge('Bearer', realm) },
      code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
      reason: 'oidc_no_token',
    },
    tooLong: invalid('oidc_token_too_long', 'The access token is too long'),
    malformed: invalid('oidc_malformed', 'The access token is malformed'),
    algorithm: invalid(
      'oidc_alg_not_allowed',
      'The access token is signed with an algorithm this resource does not accept',
    ),
    noKid: invalid('oidc_no_kid', 'The access token has no kid header'),
    type: invalid('oidc_wrong_type', 'The token is not an access token (typ)'),
    unknownKey: invalid('oidc_unknown_key', 'The access token is signed with an unknown key'),
    signature: invalid('oidc_bad_signature', 'The access token signature is invalid'),
    expired: invalid('oidc_expired', 'The access token expired'),
    notYetValid: invalid('oidc_not_yet_valid', 'The access token is not valid yet'),
    issuedInFuture: invalid('oidc_issued_in_future', 'The access token was issued in the future'),
    tooOld: invalid('oidc_too_old', 'The access token is too old'),
    issuer: invalid('oidc_wrong_issuer', 'The access token is from another issuer'),
    audience: invalid('oidc_wrong_audience', 'The access token is not meant for this resource'),
    keysUnavailable: invalid(
      'oidc_keys_unavailable',
      "The issuer's keys are unavailable; the access token cannot be verified",
      'GH_ERR_AUTH_KEYS_UNAVAILABLE',
    ),
    unverifiable: invalid('oidc_unverifiable', 'The access token cannot be verified'),
    insufficientScope: {
      status: 403,
      body: JSON.stringify({ error: 'insufficient_scope', error_description: scopeDescription }),
      headers: {
        'content-type': JSON_TYPE,
        'www-authenticate': `${challenge('Bearer', realm, 'insufficient_scope')}, error_description="${scopeDescription}", scope="${requiredScopes.join(' ')}"`,
      },
      code: 'GH_ERR_AUTH_SCOPE_INSUFFICIENT',
      reason: 'oidc_insufficient_scope',
    },
    missingClaim: (claim) => perClaim('missing', claim),
    invalidClaim: (claim) => perClaim('invalid', claim),
  }
}
