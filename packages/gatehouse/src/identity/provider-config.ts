/**
 * Our identity config as oidc-provider configuration. Every development default is replaced, so none
 * runs and none prints a notice: our storage adapter instead of the in-memory one, our keys instead of
 * the quick-start ones, our pages instead of devInteractions (which accept any password) and the
 * built-in views, and explicit TTLs and policies. The settings that matter, and why:
 *
 * - code flow only (`responseTypes: ['code']`), PKCE (S256) for every client, exact redirect URIs that
 *   must always be sent (RFC 9700 §2.1, §2.1.1); no implicit or password grant (§2.1.2, §2.4);
 * - clients authenticate with client_secret_basic/_post or not at all (public clients): only a keyed
 *   hash of each secret is stored, so symmetric JWT client auth and HS-signed tokens, which need the
 *   plain secret, cannot work and are not offered;
 * - access tokens for APIs are RFC 9068 JWTs scoped to one resource (resources.ts); opaque ones only
 *   for userinfo; refresh tokens rotate on every use, and a reused one revokes its whole grant
 *   (oidc-provider's refresh_token grant with `rotateRefreshToken: true`; RFC 9700 §4.14);
 * - second factors (factors/, interactions/second-factor.ts): sessions carry `amr` (RFC 8176) and
 *   `acr` (urn:gatehouse:acr:1fa or 2fa); `acr_values` asking for 2fa on a 1fa session asks the second
 *   factor only, `max_age` and `prompt=login` the password too; ID tokens and JWT access tokens carry
 *   acr, amr and auth_time (resources.ts);
 * - DPoP (RFC 9449) for sender-constrained tokens, proofs' jti kept (ReplayDetection) against replay;
 * - introspection only for a confidential client's own tokens, revocation for any client's own;
 * - cookies signed with a key from identity.secret, HttpOnly, SameSite=Lax, Secure under an https
 *   issuer (provider.ts), the session cookie scoped to the issuer's path.
 */
import type { JWK } from 'jose'
import {
  type AdapterPayload,
  type Client,
  type Configuration,
  interactionPolicy,
  type KoaContextWithOIDC,
} from 'oidc-provider'
import type { IdentityConfig } from '../config/normalize-identity.ts'
import type { Logger } from '../observability/logger.ts'
import type { Revocations } from '../redis/revocation.ts'
import type { Store } from '../storage/store.ts'
import { findAccountIn } from './account.ts'
import { ACCOUNT_CLIENT_ID, accountClientMetadata } from './account-page/account-client.ts'
import { storeAdapter } from './adapter.ts'
import { SCOPE_CLAIMS } from './claims.ts'
import { clientFacts, EXTRA_CLIENT_METADATA } from './client-metadata.ts'
import { ACR_2FA, ACR_VALUES, asksTwoFactors } from './factors/policy.ts'
import { secondStepFor } from './factors/requirement.ts'
import { loadExistingGrant } from './grants.ts'
import { SECOND_FACTOR_CHECK } from './interactions/second-factor.ts'
import { CLOCK_TOLERANCE_SECONDS } from './keys/schedule.ts'
import { resourcePolicy } from './resources.ts'
import { cookieKey } from './secrets.ts'
import { renderErrorPage, renderLogoutPage, renderSignedOutPage } from './views/provider-pages.ts'

export interface ProviderConfigOptions {
  readonly identity: IdentityConfig
  readonly store: Store
  readonly logger: Logger
  /** Private signing JWKs, active keys first (keys/signing-keys.ts). */
  readonly jwks: readonly JWK[]
  /** This node's view of the revocations (src/redis/revocation.ts); null: none enforced. */
  readonly revocations?: Revocations | null
}

export function providerConfiguration(o: ProviderConfigOptions): Configuration {
  const { identity } = o
  const issuer = new URL(identity.issuer!)
  const basePath = issuer.pathname === '/' ? '' : issuer.pathname
  const https = issuer.protocol === 'https:'
  const signingAlg = identity.keys.algorithms[0]!
  const resources = resourcePolicy(identity, o.store, signingAlg)
  const ttl = identity.ttl
  const cookie = { httpOnly: true, sameSite: 'lax', secure: https } as const

  const policy = interactionPolicy.base()
  // A session whose user was disabled or deleted since: sign in again (else nothing would resolve).
  policy
    .get('login')!
    .checks.add(
      new interactionPolicy.Check('account_unavailable', 'End-User authentication is required', (ctx) =>
        Boolean(ctx.oidc.session?.accountId && ctx.oidc.account === undefined),
      ),
    )
  // A session with one factor where two are needed (the policies, or the client's acr_values): only the
  // second factor is asked (interactions/second-factor.ts), unless another check wants the password.
  policy.get('login')!.checks.add(
    new interactionPolicy.Check(SECOND_FACTOR_CHECK, 'a second factor is required', async (ctx) => {
      const session = ctx.oidc.session
      if (!session?.accountId || ctx.oidc.account === undefined || session.acr === ACR_2FA) return false
      const client = ctx.oidc.client
      const need = await secondStepFor(
        o.store,
        identity.mfa,
        client ? clientFacts(client).mfa : null,
        session.accountId,
        asksTwoFactors(ctx.oidc.params?.['acr_values']),
      )
      return need.step !== 'none'
    }),
  )

  return {
    adapter: storeAdapter(o.store, o.logger, o.revocations ?? null, (id) =>
      id === ACCOUNT_CLIENT_ID && identity.account.enabled
        ? (accountClientMetadata(identity.issuer!) as AdapterPayload)
        : undefined,
    ),
    jwks: { keys: o.jwks.map((k) => ({ ...k })) as never },
    cookies: {
      keys: [cookieKey(identity.secret!)],
      long: { ...cookie, path: basePath || '/' },
      short: cookie,
    },
    clockTolerance: CLOCK_TOLERANCE_SECONDS,
    responseTypes: ['code'],
    pkce: { required: () => true },
    allowOmittingSingleRegisteredRedirectUri: false,
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    clientDefaults: {
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: signingAlg,
    },
    extraClientMetadata: { properties: EXTRA_CLIENT_METADATA, validator() {} },
    scopes: ['openid', 'offline_access'],
    claims: SCOPE_CLAIMS,
    // Discovery's acr_values_supported; a session's acr is the strongest it proved (factors/policy.ts).
    acrValues: [...ACR_VALUES],
    findAccount: findAccountIn(o.store),
    interactions: {
      url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) =>
        `${basePath}/interaction/${interaction.uid}`,
      policy,
    },
    loadExistingGrant,
    issueRefreshToken: (_ctx: KoaContextWithOIDC, client: Client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    extraTokenClaims: (ctx, token) => resources.extraTokenClaims(ctx, token),
    clientBasedCORS,
    renderError: renderErrorPage,
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl.access_token,
      ClientCredentials: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? ttl.client_credentials,
      AuthorizationCode: ttl.authorization_code,
      IdToken: ttl.id_token,
      RefreshToken: ttl.refresh_token,
      Session: ttl.session,
      Interaction: ttl.interaction,
      Grant: ttl.grant,
      // Features that are off; set so no default (which prints a notice) can ever run.
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed },
      revocation: { enabled: true, allowedPolicy: revocationAllowed },
      userinfo: { enabled: true },
      dPoP: { enabled: true, allowReplay: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: renderLogoutPage,
        postLogoutSuccessSource: renderSignedOutPage,
      },
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: (ctx, indicator, client) =>
          resources.getResourceServerInfo(ctx, indicator, client),
        defaultResource: (ctx, client, oneOf) => resources.defaultResource(ctx, client, oneOf && [...oneOf]),
        useGrantedResource: (ctx) => resources.useGrantedResource(ctx),
      },
    },
  }
}

/**
 * Introspection answers an authenticated client about its own tokens only; a public client, which
 * anyone can impersonate, learns nothing (the token is reported inactive).
 */
async function introspectionAllowed(
  _ctx: KoaContextWithOIDC,
  client: Client,
  token: { clientId?: string | undefined },
): Promise<boolean> {
  return client.clientAuthMethod !== 'none' && token.clientId === client.clientId
}

/**
 * Any client may revoke its own tokens (a public one too: whoever holds a token can use it, so ending
 * it gives nothing away, RFC 7009 §5); another client's token is silently left alone.
 */
async function revocationAllowed(
  _ctx: KoaContextWithOIDC,
  client: Client,
  token: { clientId?: string | undefined },
): Promise<boolean> {
  return token.clientId === client.clientId
}

/**
 * CORS from browsers (oidc-provider's own rule, made explicit so its notice does not print): the
 * userinfo endpoint and public clients' endpoints accept the origins of the client's redirect URIs.
 */
function clientBasedCORS(ctx: KoaContextWithOIDC, origin: string, client: Client): boolean {
  if (origin === 'null') return false
  if (ctx.oidc.route === 'userinfo' || client.clientAuthMethod === 'none')
    return (client.redirectUris ?? []).some((uri) => URL.parse(uri)?.origin === origin)
  return false
}
