/**
 * The access log's reason codes in words, for the refusal page: what the common ones mean to the person
 * who pasted the request, next to the code itself (which stays visible: it is what they search the log and
 * the docs for). Codes not listed here are shown as they are.
 */

const REASONS: Readonly<Record<string, string>> = {
  key_auth_no_key: 'No API key was found where this route’s key-auth looks (its header or query names).',
  key_auth_invalid_key: 'An API key was sent, but no consumer has that key.',
  key_auth_duplicate_key: 'More than one API key was sent; key-auth takes exactly one.',
  jwt_no_token: 'No token was found (Authorization: Bearer, or the route’s cookie or query names).',
  jwt_multiple_tokens: 'More than one token was sent.',
  jwt_unrecognizable: 'What was sent is not a JWT (three base64url parts).',
  jwt_bad_signature: 'The token’s signature does not match the consumer’s secret or key: a bad signature.',
  jwt_no_credential: 'No consumer has a JWT credential for the token’s issuer (its key claim).',
  jwt_no_key_claim: 'The token lacks the claim that names its credential (iss by default).',
  jwt_algorithm_mismatch: 'The token is signed with another algorithm than its credential allows.',
  jwt_claims: 'A claim the route verifies failed its check (for exp: the token has expired).',
  oidc_no_token: 'No bearer token was sent.',
  oidc_expired: 'The token has expired.',
  oidc_not_yet_valid: 'The token is not valid yet (its nbf is in the future).',
  oidc_bad_signature: 'The token’s signature does not verify with the issuer’s keys: a bad signature.',
  oidc_unknown_key: 'The token names a key (kid) the issuer does not publish.',
  oidc_unknown_issuer: 'The token’s issuer is not one this route trusts.',
  oidc_wrong_audience: 'The token is not meant for this API (its aud).',
  oidc_insufficient_scope: 'The token lacks a scope this route requires.',
  oidc_token_revoked: 'The token, its session or its subject has been revoked.',
  oidc_malformed: 'What was sent is not a well-formed token.',
  basic_auth_refused: 'The Basic credentials do not match a consumer’s username and password.',
  acl_group_not_allowed: 'The consumer is not in an ACL group this route allows (or is in one it denies).',
  rate_limit_exceeded: 'Rate limited: the consumer (or address) has used up a window’s requests.',
  rate_limit_counters_unavailable: 'The rate-limit counters could not be read (Redis or the store is down).',
}

/** The reason in words; for jwt_claims the claim that failed when the message names it. */
export function reasonInWords(reason: string | null | undefined, message?: string): string | null {
  if (reason === null || reason === undefined) return null
  if (reason === 'jwt_claims' && message !== undefined && /\bexp\b.*expired/.test(message))
    return 'The token has expired (its exp claim is in the past).'
  return REASONS[reason] ?? null
}

/** What each verdict means, for the verdict column's label. */
export const VERDICTS: Readonly<Record<string, string>> = {
  passed: 'Passed',
  refused: 'Refused',
  answered: 'Answered itself',
  skipped: 'Skipped',
  not_evaluated: 'Not evaluated',
}
