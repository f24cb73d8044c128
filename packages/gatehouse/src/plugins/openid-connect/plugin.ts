/**
 * openid-connect: a resource-server guard. Accepts OAuth 2.0 access tokens that are JWTs (RFC 9068) from
 * one or several configured issuers — Gatehouse's built-in provider or any other — as bearer tokens
 * (RFC 6750) or DPoP-bound (RFC 9449), verified locally against each issuer's JWKS, and tells the
 * upstream who called with Kong's identity headers and `state.principal`.
 * - Keys: discovery (once, on first use) or `jwks_uri`, kept `max_age`, refetched for an unknown kid at
 *   most once per cooldown, failed fetches retried with a backoff, the last keys used for `stale_ttl`
 *   while the issuer is unreachable (key-set.ts). The gateway's own identity provider's keys are taken
 *   in process instead, current on every request (provider-key-set.ts). A withdrawn key (`key`
 *   revocation) is refused for every issuer (access-tokens.ts).
 * - Checks: the token's `iss` picks the trusted issuer (access-tokens.ts); that issuer's aud, typ, alg
 *   allow-list, exp/nbf/iat with leeway, optional maximum age (issuer.ts); remembered until the first
 *   instant any of these could fail. Per request: revocation of its subject (src/redis/revocation.ts), a
 *   DPoP-bound token's proof (dpop-proof.ts; used proofs in this process or, `dpop.replay: redis`, shared
 *   by every node), required scopes, and the route's `require` (step-up, RFC 9470: acr, amr, auth_time).
 * - Answers: RFC 6750 / RFC 9449 challenges and `{error, error_description}` bodies, terse unless
 *   `verbose_errors` (answers.ts); every refusal is recorded with a GH_ERR_AUTH_* code and a stable reason
 *   for the access log (failures.ts). An unreachable issuer is a 401 like any token that cannot be
 *   verified: fail closed, never a 500.
 * - Caller: a consumer by username or custom_id when one matches the token's `consumer_claim`, else a
 *   token-only caller (identity.ts), with the issuer's claim_mapping as `principal.attributes`
 *   (attributes.ts). AND/OR with other auth plugins through `anonymous`, as Kong's.
 */
import {
  anonymousConsumer,
  authenticateAnonymously,
  identifiedByEarlierPlugin,
  refuse,
  skipsPreflight,
} from '../../pipeline/authenticate.ts'
import type { RequestState } from '../../pipeline/request-state.ts'
import type { Revocations } from '../../redis/revocation.ts'
import { acquireRevocations } from '../../redis/revocation-leases.ts'
import { consumersByName, HEADER_SAFE, identify } from '../_shared/caller.ts'
import { authContextOf, unmet } from '../_shared/step-up.ts'
import type { GatewayPlugin, PluginCreateContext } from '../types.ts'
import { AccessTokens, type Outcome } from './access-tokens.ts'
import { Answers, type Scheme } from './answers.ts'
import { ClaimMapping } from './attributes.ts'
import { Discovery } from './discovery.ts'
import { DpopProofs } from './dpop-proof.ts'
import { presentedToken } from './extract.ts'
import { type Failure, failures, stepUpFailures } from './failures.ts'
import { type AccessToken, TrustedIssuer } from './issuer.ts'
import { IssuerKeys, type TokenKeys } from './key-set.ts'
import { ProviderKeySet } from './provider-key-set.ts'
import { RedisReplayCache } from './redis-replay-cache.ts'
import { memoryReplayCache } from './replay-cache.ts'
import { type OpenIdConnectConfig, openIdConnectSchema } from './schema.ts'
import { type IssuerSettings, resolveIssuers } from './trusted-issuers.ts'

/**
 * The `openid-connect` plugin (priority 1050, after Kong's bundled auth plugins, as Kong places its own).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: openid-connect
 *     route: orders
 *     config:
 *       issuer: https://id.shop.example        # discovery: <issuer>/.well-known/openid-configuration
 *       audience: https://api.shop.example     # this route's resource indicator
 *       required_scopes: [orders:read]
 * ```
 * @example
 * ```yaml
 *       issuers:                               # several issuers, each verified with its own keys
 *         - issuer: https://keycloak.shop.example/realms/shop
 *           audience: shop-api
 *           claim_mapping: { roles: realm_access.roles }
 *         - issuer: https://shop.eu.auth0.com/
 *           audience: https://api.shop.example
 *           claim_mapping: { country: '["https://shop.example/country"]' }
 *       dpop: { required: false }              # DPoP-bound tokens need their proof either way
 * ```
 */
export const plugin: GatewayPlugin<OpenIdConnectConfig> = {
  name: 'openid-connect',
  version: '1.1.0',
  priority: 1050,
  band: 'authentication',
  description:
    "Accepts OAuth 2.0 access tokens (bearer or DPoP-bound) from trusted issuers, verified against each issuer's JWKS.",
  schema: openIdConnectSchema,
  scopes: { consumer: false },
  identityHeaders: (config) => [
    ...Object.values(config.claims_to_headers ?? {}),
    ...Object.values(config.attributes_to_headers ?? {}),
  ],
  create(config, ctx) {
    const anonymous = anonymousConsumer(config.anonymous, (reference) => ctx.findConsumer(reference))
    const consumers = ctx.memo('consumers-by-name', () => consumersByName(ctx.consumers.values()))
    const revocations = acquireRevocations(ctx.redis, ctx.logger)
    const tokens = new AccessTokens(
      resolveIssuers(config).map(
        (s) =>
          new TrustedIssuer(
            s,
            keysFor(s, ctx, revocations.revocations),
            new ClaimMapping(s.claimMapping, s.issuer, ctx.logger),
            ctx.logger,
          ),
      ),
      revocations.revocations,
    )
    const dpop = config.dpop
    const replay = dpop.replay === 'redis' ? sharedReplayCache(dpop.replay_fault_tolerant, ctx) : null
    const proofs = new DpopProofs({
      algorithms: dpop.algorithms,
      maxAge: dpop.max_age,
      leeway: dpop.leeway,
      replay: replay ?? memoryReplayCache(),
    })
    const answers = new Answers({
      realm: config.realm,
      requiredScopes: config.required_scopes,
      verbose: config.verbose_errors,
      dpopAlgorithms: dpop.algorithms,
      dpopRequired: dpop.required,
      require: config.require ?? null,
    })
    const noToken = dpop.required ? failures.noDpopToken : failures.noToken
    const requiredScopes = config.required_scopes
    const requirement = config.require
    const headerMaps: readonly HeaderMapping[] = [
      ...Object.entries(config.claims_to_headers ?? {}).map(([claim, header]) => ({
        header: header.toLowerCase(),
        read: (t: AccessToken) => t.claims[claim],
        structured: false,
      })),
      ...Object.entries(config.attributes_to_headers ?? {}).map(([name, header]) => ({
        header: header.toLowerCase(),
        read: (t: AccessToken) => t.caller.principal.attributes[name],
        structured: true,
      })),
    ]
    const debug = ctx.logger.isLevelEnabled('debug')

    const accept = (state: RequestState, token: AccessToken, scheme: Scheme): void => {
      if (requiredScopes.length > 0 && !hasScopes(token.claims.scope, requiredScopes)) {
        decline(state, failures.insufficientScope, scheme)
        return
      }
      if (requirement !== undefined) {
        // Per request, not cached with the token: max_age depends on the time now.
        const why = unmet(requirement, authContextOf(token.claims), Math.floor(Date.now() / 1000))
        if (why !== null) {
          decline(state, stepUpFailures[why], scheme)
          return
        }
      }
      identify(state, token.caller, consumers.get(token.caller.name))
      for (const { header, read, structured } of headerMaps) {
        const value = headerValue(read(token), structured)
        if (value !== null) state.upstreamHeaders[header] = value
      }
      if (config.hide_credentials) delete state.upstreamHeaders.authorization
    }

    const decline = (state: RequestState, failure: Failure, scheme: Scheme): void => {
      if (debug)
        ctx.logger.debug(
          { reason: failure.reason, request_id: state.requestId },
          'openid-connect refused the request',
        )
      if (anonymous !== null) {
        authenticateAnonymously(state, anonymous, failure.reason)
        return
      }
      const r = answers.refusal(failure, scheme)
      refuse(state, r.status, r.body, r.headers, r.code, r.reason)
    }

    /** The token is good; now its binding: a DPoP-bound token needs the DPoP scheme and a proof. */
    const bound = (
      state: RequestState,
      token: string,
      accessToken: AccessToken,
      scheme: Scheme,
    ): void | Promise<void> => {
      const jkt = accessToken.jkt
      if (scheme === 'bearer') {
        if (jkt !== null) decline(state, failures.dpopBearerDowngrade, scheme)
        else if (dpop.required) decline(state, failures.dpopRequired, scheme)
        else accept(state, accessToken, scheme)
        return
      }
      if (jkt === null) {
        decline(state, failures.dpopNotBound, scheme)
        return
      }
      const proof = proofs.check(state, token, jkt)
      if (!(proof instanceof Promise)) {
        decline(state, proof, scheme)
        return
      }
      return proof.then((failure) => {
        if (failure === null) accept(state, accessToken, scheme)
        else decline(state, failure, scheme)
      })
    }

    const settle = (state: RequestState, token: string, outcome: Outcome, scheme: Scheme) =>
      'reason' in outcome ? decline(state, outcome, scheme) : bound(state, token, outcome, scheme)

    return {
      access(state) {
        // Claim headers and the proof are ours whatever happens next: a client's never reach the upstream.
        for (const { header } of headerMaps) delete state.upstreamHeaders[header]
        delete state.upstreamHeaders.dpop
        if (skipsPreflight(state, config.run_on_preflight)) return
        if (anonymous !== null && identifiedByEarlierPlugin(state)) return
        const presented = presentedToken(state.req.headers.authorization)
        if (presented === null) return decline(state, noToken, 'bearer')
        const { scheme, token } = presented
        if (token === null) return decline(state, failures.malformed, scheme)
        const outcome = tokens.verify(token)
        const settled =
          outcome instanceof Promise
            ? outcome.then((o) => settle(state, token, o, scheme))
            : settle(state, token, outcome, scheme)
        if (!(settled instanceof Promise)) return
        // Every check settles its failures itself; this only keeps a bug from becoming a 500.
        return settled.catch((err: unknown) => {
          ctx.logger.error(
            { error: (err as Error)?.message ?? String(err) },
            'openid-connect failed unexpectedly',
          )
          decline(state, failures.unverifiable, scheme)
        })
      },
      async close() {
        await Promise.all([revocations.release(), replay?.close()])
      },
    }
  },
}

/** One Redis replay cache per configuration and fault tolerance, shared by its routes. */
function sharedReplayCache(faultTolerant: boolean, ctx: PluginCreateContext): RedisReplayCache {
  const settings = ctx.redis
  // Refused at load (redis/plugin-references.ts); kept here for configurations built by hand.
  if (settings === null) throw new Error("dpop.replay 'redis' needs the top-level redis section")
  return ctx.memo(
    `replay:redis:${faultTolerant}`,
    () => new RedisReplayCache({ settings, faultTolerant, logger: ctx.logger }),
  )
}

/** A claim (claims_to_headers) or attribute (attributes_to_headers) copied into an upstream header. */
interface HeaderMapping {
  readonly header: string
  readonly read: (token: AccessToken) => unknown
  /** Lists and objects are sent as JSON (attributes); otherwise only scalars are copied (claims). */
  readonly structured: boolean
}

/**
 * One key set per issuer and fetch settings, shared by every route of this configuration that trusts it:
 * the issuer is asked once, not once per route. A reload starts afresh. The gateway's own provider (same
 * issuer, its own JWKS) is not asked over HTTP at all: its keys are in this process (issue 10).
 */
function keysFor(s: IssuerSettings, ctx: PluginCreateContext, revocations: Revocations): TokenKeys {
  const own = ctx.identityProvider
  if (own !== null && s.issuer === own.issuer && (s.jwksUri === null || s.jwksUri === jwksOf(own.issuer)))
    return ctx.memo(`keys:provider:${own.issuer}`, () => new ProviderKeySet(own.keys, own.issuer))
  const c = s.jwksCache
  const id = [s.issuer, s.jwksUri, c.cooldown, c.maxAge, c.timeout, c.staleTtl].join('\0')
  return ctx.memo(
    `keys:${id}`,
    () =>
      new IssuerKeys({
        issuer: s.issuer,
        jwksUri: s.jwksUri,
        discovery: s.jwksUri === null ? new Discovery(s.issuer, c.timeout * 1000, ctx.logger) : null,
        cooldownMs: c.cooldown * 1000,
        maxAgeMs: c.maxAge * 1000,
        timeoutMs: c.timeout * 1000,
        staleTtlMs: c.staleTtl * 1000,
        logger: ctx.logger,
        revocations,
      }),
  )
}

/** Where the built-in provider serves its JWKS (oidc-provider's `jwks` route under the issuer). */
function jwksOf(issuer: string): string {
  return `${issuer.replace(/\/$/, '')}/jwks`
}

/** Every required scope is in the space-separated `scope` claim (RFC 9068 §2.2.3, RFC 6749 §3.3). */
function hasScopes(scope: unknown, required: readonly string[]): boolean {
  if (typeof scope !== 'string') return false
  const granted = new Set(scope.split(' '))
  return required.every((s) => granted.has(s))
}

/** A claim or attribute as header text: scalars as they are, lists and objects (attributes only) as JSON. */
function headerValue(value: unknown, structured: boolean): string | null {
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : structured && typeof value === 'object' && value !== null
          ? JSON.stringify(value)
          : null
  return text !== null && HEADER_SAFE.test(text) ? text : null
}
