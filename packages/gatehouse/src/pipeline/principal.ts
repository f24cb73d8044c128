/**
 * Who made the request, as the gateway established it: one shape whatever the way in (a Kong-style jwt,
 * an API key, HTTP Basic, an access token from a trusted issuer, a browser session), so that what comes
 * after authentication — acl, the internal token minted for the upstream, the access log — never needs
 * to know which plugin identified the caller. Set by `authenticateAs` (authenticate.ts) and the
 * token-only path of openid-connect; null for anonymous requests. Built once per verified credential
 * where the plugin caches verifications, so a cached token costs no allocation here.
 */

/** How the caller authenticated at the edge (the `auth.method` claim of internal tokens). */
export type AuthMethod = 'jwt' | 'key-auth' | 'basic-auth' | 'hmac-auth' | 'openid-connect' | 'session'

export interface Principal {
  /** The subject services see (`sub` of internal tokens). */
  readonly subject: string
  /** A person, or a program acting for itself (client credentials, API keys). */
  readonly kind: 'user' | 'client'
  readonly method: AuthMethod
  /** The `iss` of the public token the caller presented; null for credentials the gateway holds. */
  readonly issuer: string | null
  /** The OAuth client (`client_id`) the token was issued to, when known. */
  readonly clientId: string | null
  /** Granted scopes (the token's space-separated `scope`), in order. */
  readonly scopes: readonly string[]
  /**
   * Profile claims mapped from the token by the authenticating plugin's per-issuer claim mapping (e.g.
   * Keycloak's `realm_access.roles` as `roles`), copied into internal tokens; {} when none is configured.
   */
  readonly attributes: Readonly<Record<string, unknown>>
  /** The verified claims of the public token ({} for API keys and passwords), for claim mapping. */
  readonly claims: Readonly<Record<string, unknown>>
  /** The verified public bearer token, for routes that forward it as is; null otherwise. */
  readonly token: string | null
}

/** The space-separated scope list of a token (RFC 6749 §3.3), or none. */
export function scopeList(scope: unknown): readonly string[] {
  return typeof scope === 'string' && scope !== '' ? Object.freeze(scope.split(' ').filter(Boolean)) : []
}
