/**
 * @gatehouse/sdk — what a service behind Gatehouse uses to trust the caller: verify the internal token
 * the gateway minted (signature against the gateway's JWKS, issuer, audience, expiry, token type) and
 * read the caller's identity from it, without calling any user service.
 *
 * This is the package's shell; `verifyInternalToken` and the remote JWKS client arrive with identity
 * propagation. It will depend only on `jose`.
 */

/** The version of the token contract this SDK understands. */
export const INTERNAL_TOKEN_CONTRACT = 'gatehouse-internal-token/1'
