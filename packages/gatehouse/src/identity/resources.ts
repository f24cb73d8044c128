/**
 * The APIs (resource servers, RFC 8707) access tokens are issued for, from `identity.resources`: each
 * token is a JWT (RFC 9068, `typ: at+jwt`) whose `aud` is exactly one API's indicator, with only the
 * scopes that API defines and the client may ask for (RFC 9700 §2.3), and the user claims that API is
 * configured to receive. A client may only get tokens for the resources it lists; one with a single
 * resource gets it without asking (`resource` may be left out at both endpoints).
 *
 * A user's access token also says how and when they signed in (auth_time, acr, amr), so an API can
 * demand a second factor or a recent sign-in as the gateway's `require` does.
 *
 * client_credentials tokens carry no user claims: their `sub` is the client_id, and the client is the
 * only party they speak for (RFC 9700 §4.15; adapter.ts keeps client ids and user ids apart).
 */
import {
  type AsymmetricSigningAlgorithm,
  errors,
  type KoaContextWithOIDC,
  type ResourceServer,
} from 'oidc-provider'
import type { IdentityConfig } from '../config/normalize-identity.ts'
import type { Store, StoredUser } from '../storage/store.ts'
import { clientFacts } from './client-metadata.ts'

type ResourceConfig = IdentityConfig['resources'][number]

/** Claims a user's profile can never set in an access token: JWT, OAuth and OIDC protocol claims. */
const RESERVED_CLAIMS = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'nbf',
  'iat',
  'jti',
  'typ',
  'scope',
  'client_id',
  'cnf',
  'act',
  'may_act',
  'azp',
  'auth_time',
  'acr',
  'amr',
  'sid',
  'gty',
  'nonce',
  'authorization_details',
])

export interface ResourcePolicy {
  getResourceServerInfo(
    ctx: KoaContextWithOIDC,
    indicator: string,
    client: Parameters<typeof clientFacts>[0],
  ): ResourceServer
  defaultResource(
    ctx: KoaContextWithOIDC,
    client: Parameters<typeof clientFacts>[0],
    oneOf?: string[],
  ): string | string[] | undefined
  useGrantedResource(ctx: KoaContextWithOIDC): boolean
  extraTokenClaims(
    ctx: KoaContextWithOIDC,
    token: { kind: string; accountId?: string; resourceServer?: { identifier(): string } | undefined },
  ): Promise<Record<string, unknown> | undefined>
}

export function resourcePolicy(
  identity: IdentityConfig,
  store: Store,
  signingAlg: AsymmetricSigningAlgorithm,
): ResourcePolicy {
  const byIndicator = new Map<string, ResourceConfig>(identity.resources.map((r) => [r.indicator, r]))

  return {
    getResourceServerInfo(_ctx, indicator, client) {
      const resource = byIndicator.get(indicator)
      const facts = clientFacts(client)
      if (resource === undefined || !facts.resources.includes(indicator))
        throw new errors.InvalidTarget('the client may not request tokens for this resource')
      const allowed = new Set(facts.scopes)
      return {
        scope: resource.scopes.filter((s) => allowed.has(s)).join(' '),
        audience: indicator,
        accessTokenTTL: resource.access_token_ttl ?? identity.ttl.access_token,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: signingAlg } },
      }
    },

    defaultResource(_ctx, client, oneOf) {
      const { resources } = clientFacts(client)
      if (oneOf !== undefined)
        return resources.length === 1 && oneOf.includes(resources[0]!) ? resources[0] : oneOf
      return resources.length === 1 ? resources[0] : undefined
    },

    useGrantedResource(ctx) {
      const client = ctx.oidc.client
      return client !== undefined && clientFacts(client).resources.length === 1
    },

    async extraTokenClaims(ctx, token) {
      if (token.kind !== 'AccessToken' || token.accountId === undefined) return undefined
      const claims: Record<string, unknown> = authenticationClaims(ctx)
      const indicator = token.resourceServer?.identifier()
      const resource = indicator !== undefined ? byIndicator.get(indicator) : undefined
      if (resource === undefined || resource.claims.length === 0) return claims
      const user = await userFor(ctx, store, token.accountId)
      if (user === undefined) return claims
      for (const name of resource.claims) {
        if (RESERVED_CLAIMS.has(name)) continue
        if (name === 'roles') claims['roles'] = [...user.roles]
        else if (name === 'email' && user.email !== null) claims['email'] = user.email
        else if (name === 'preferred_username') claims['preferred_username'] = user.username
        else if (user.claims[name] !== undefined) claims[name] = user.claims[name]
      }
      return claims
    },
  }
}

/**
 * How and when the user signed in (RFC 9068 §2.2.1: `auth_time`, `acr`, `amr`), from what the token is
 * issued for: the authorization code, or the refresh token being rotated (which carries the code's).
 */
function authenticationClaims(ctx: KoaContextWithOIDC): Record<string, unknown> {
  const source = (ctx.oidc.entities.AuthorizationCode ?? ctx.oidc.entities.RefreshToken) as
    | { acr?: string; amr?: string[]; authTime?: number }
    | undefined
  const claims: Record<string, unknown> = {}
  if (source?.authTime !== undefined) claims['auth_time'] = source.authTime
  if (source?.acr !== undefined) claims['acr'] = source.acr
  if (source?.amr !== undefined) claims['amr'] = [...source.amr]
  return claims
}

/** The user behind the token: the account oidc-provider just loaded for this request, else the store's. */
async function userFor(
  ctx: KoaContextWithOIDC,
  store: Store,
  accountId: string,
): Promise<StoredUser | undefined> {
  const account = ctx.oidc.entities.Account as { accountId: string; user?: StoredUser } | undefined
  if (account?.accountId === accountId && account.user !== undefined) return account.user
  return store.users.get(accountId)
}
