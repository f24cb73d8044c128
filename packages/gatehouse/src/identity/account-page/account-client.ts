/**
 * The account page's own client (Keycloak's account console is a client of its realm too): built in,
 * first-party (no consent page), public, code + PKCE, `openid` only, its one redirect URI the page's
 * callback. It exists only to send a signed-out visitor through the sign-in pages; the page then reads
 * the provider's own session (sign-in.ts) and never redeems a token. The id is reserved: a configured
 * or CLI client of that id is never served (adapter.ts asks here first).
 */
import type { ClientMetadata } from 'oidc-provider'
import { RESERVED_CLIENT_ID } from '../../config/schema/identity-self-service-rules.ts'

export const ACCOUNT_CLIENT_ID = RESERVED_CLIENT_ID

export function accountCallback(issuer: string): string {
  return `${issuer}/account/callback`
}

export function accountClientMetadata(issuer: string): ClientMetadata {
  return {
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Your account',
    token_endpoint_auth_method: 'none',
    application_type: 'web',
    redirect_uris: [accountCallback(issuer)],
    post_logout_redirect_uris: [`${issuer}/account`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    scope: 'openid',
    gatehouse_resources: [],
    gatehouse_scopes: ['openid'],
    gatehouse_first_party: true,
  }
}
