/**
 * A stored client as oidc-provider client metadata. Confidential clients authenticate with
 * client_secret_basic (or _post, which oidc-provider accepts interchangeably); `client_secret` carries
 * the stored keyed hash, which compare-client-secret.ts checks presented secrets against, so no plain
 * secret exists anywhere. Scopes split in two: OpenID scopes go to oidc-provider's `scope` (its
 * allow-list), API scopes stay in `gatehouse_scopes` and meet the resource's own in resources.ts.
 */
import type { Client, ClientMetadata } from 'oidc-provider'
import type { MfaPolicy, StoredClient } from '../storage/store.ts'

/** Our own client metadata, kept on oidc-provider's Client objects under these (snake_case) names. */
export const EXTRA_CLIENT_METADATA = [
  'gatehouse_resources',
  'gatehouse_scopes',
  'gatehouse_first_party',
  'gatehouse_mfa',
]

export interface GatehouseClientFacts {
  readonly resources: readonly string[]
  readonly scopes: readonly string[]
  readonly firstParty: boolean
  /** The client's own second-factor policy (factors/policy.ts), or null. */
  readonly mfa: MfaPolicy | null
}

export function toClientMetadata(client: StoredClient, openidScopes: ReadonlySet<string>): ClientMetadata {
  const custom = client.redirect_uris.some((u) => !/^https?:/.test(u))
  const openid = client.scopes.filter((s) => openidScopes.has(s))
  return {
    client_id: client.client_id,
    ...(client.secret_hash !== null
      ? { client_secret: client.secret_hash, token_endpoint_auth_method: 'client_secret_basic' }
      : { token_endpoint_auth_method: 'none' }),
    ...(client.client_name !== null ? { client_name: client.client_name } : {}),
    // A private-use URI scheme (com.example.app:/cb) is a native app's (RFC 8252 §7.1).
    application_type: custom ? 'native' : 'web',
    redirect_uris: [...client.redirect_uris],
    post_logout_redirect_uris: [...client.post_logout_redirect_uris],
    grant_types: [...client.grant_types],
    response_types: client.grant_types.includes('authorization_code') ? ['code'] : [],
    // Absent when empty (oidc-provider then allows any OpenID scope; grants.ts still refuses them).
    ...(openid.length > 0 ? { scope: openid.join(' ') } : {}),
    gatehouse_resources: [...client.resources],
    gatehouse_scopes: [...client.scopes],
    gatehouse_first_party: client.first_party,
    gatehouse_mfa: client.mfa,
  }
}

/** Our metadata back from an oidc-provider Client. */
export function clientFacts(client: Client): GatehouseClientFacts {
  const c = client as unknown as Record<string, unknown>
  return {
    resources: (c['gatehouse_resources'] as string[] | undefined) ?? [],
    scopes: (c['gatehouse_scopes'] as string[] | undefined) ?? [],
    firstParty: c['gatehouse_first_party'] === true,
    mfa: (c['gatehouse_mfa'] as MfaPolicy | null | undefined) ?? null,
  }
}
