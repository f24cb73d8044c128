/**
 * The timing rules of key rotation, from the identity config: how often nodes poll for key changes, and
 * how long a retired key stays published. A key that stopped signing at `retired_at` may still have
 * signed a token then, on a node that had not polled yet; that token lives for the longest lifetime of
 * anything a key signs (access tokens of any resource, client_credentials tokens, ID tokens), and
 * verifiers allow some clock skew. Only after all that may the key leave the JWKS.
 */
import type { IdentityConfig } from '../../config/normalize-identity.ts'

/** oidc-provider's default clockTolerance, which the provider keeps; also the skew allowed to verifiers. */
export const CLOCK_TOLERANCE_SECONDS = 15

/**
 * How often each node checks the store for key changes: every 5 s, faster when keys are published
 * less than 20 s ahead (a next key must reach every node well before it signs).
 */
export function pollIntervalMs(identity: IdentityConfig): number {
  return Math.max(250, Math.min(5000, identity.keys.publish_ahead * 250))
}

/** Seconds, the longest lifetime of a token signed with a key under this configuration. */
export function longestSignedLifetime(identity: IdentityConfig): number {
  const { ttl, resources } = identity
  return Math.max(
    ttl.access_token,
    ttl.client_credentials,
    ttl.id_token,
    ...resources.map((r) => r.access_token_ttl ?? 0),
  )
}

/** Seconds a retired key stays published after it stopped signing. */
export function retentionSeconds(identity: IdentityConfig): number {
  return (
    longestSignedLifetime(identity) + Math.ceil(pollIntervalMs(identity) / 1000) + CLOCK_TOLERANCE_SECONDS
  )
}
