/**
 * gatehouse-sdk — what a service behind Gatehouse uses to trust the caller: verify the internal token
 * the gateway minted (signature against the gateway's JWKS, issuer, audience, expiry, token type, the
 * claims contract) and read the caller's identity from it, without calling any user service; then
 * forward the same token on chained calls. Depends only on `jose`. Middleware lives in the subpath
 * exports `gatehouse-sdk/http`, `/express` and `/fastify`.
 */

export type { AuthMethod, InternalTokenClaims, SubjectKind } from './claims.ts'
export { INTERNAL_TOKEN_TYPE } from './claims.ts'
export type { VerificationErrorCode, VerificationErrorOptions } from './errors.ts'
export { ERROR_CODES, VerificationError } from './errors.ts'
export type { Fetch, ForwardingOptions, RequestWithIdentity } from './forward.ts'
export { forwardingFetch } from './forward.ts'
export type { Consumer, Identity } from './identity.ts'
export type { AsymmetricAlgorithm, VerifierOptions } from './options.ts'
export { DEFAULT_ALGORITHMS } from './options.ts'
export type { Verifier } from './verifier.ts'
export { createVerifier } from './verifier.ts'

/** The version of the token contract this SDK understands. */
export const INTERNAL_TOKEN_CONTRACT = 'gatehouse-internal-token/1'
