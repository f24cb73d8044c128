/**
 * The headers that tell an upstream who called: the gateway's to set, never a client's. Every one is
 * removed from every request on every route, whether or not an auth plugin runs there
 * (pipeline/upstream-request.ts), because an upstream that reads them cannot tell a route with an auth
 * plugin from one without. This is the one list: plugins' schemas refuse to copy claims into these
 * names, and a plugin instance that sets other identity headers (jwt and openid-connect
 * `claims_to_headers`, internal-token `header`) declares them with `identityHeaders`, which the runtime
 * adds to it for the configuration it runs.
 *
 * Lower-case, as Node gives header names. A name with `_` for `-` (`X_Consumer_Username`) reads the same
 * to CGI, WSGI, PHP and Rack, so it is removed too, whatever proxy.headers_with_underscores says
 * (proxy/header-names.ts).
 */

/** Every header a Kong version's bundled or enterprise auth plugins set upstream, and Gatehouse's own. */
export const IDENTITY_HEADERS = [
  // The consumer (key-auth, basic-auth, hmac-auth, jwt, oauth2, ldap-auth, session; kong/constants.lua).
  'x-consumer-id',
  'x-consumer-custom-id',
  'x-consumer-username',
  // acl: the consumer's groups; ldap-auth-advanced, session and acl: groups of a caller without a consumer.
  'x-consumer-groups',
  'x-authenticated-groups',
  // The credential: Kong ≥ 2.1 (X-Credential-Identifier), and before 3.0 (X-Credential-Username).
  'x-credential-identifier',
  'x-credential-username',
  // The anonymous fallback, and its groups.
  'x-anonymous-consumer',
  'x-anonymous-groups',
  // oauth2, and Gatehouse's openid-connect and session callers (plugins/_shared/caller.ts).
  'x-authenticated-scope',
  'x-authenticated-userid',
  // oauth2-introspection (enterprise): the introspection response's fields.
  'x-credential-scope',
  'x-credential-client-id',
  'x-credential-token-type',
  'x-credential-exp',
  'x-credential-iat',
  'x-credential-nbf',
  'x-credential-sub',
  'x-credential-aud',
  'x-credential-iss',
  'x-credential-jti',
  // openid-connect (enterprise, and the community kong-oidc plugin): user info and tokens.
  'x-userinfo',
  'x-access-token',
  'x-id-token',
] as const

export type IdentityHeader = (typeof IDENTITY_HEADERS)[number]

export const IDENTITY_HEADER_SET: ReadonlySet<string> = new Set(IDENTITY_HEADERS)
