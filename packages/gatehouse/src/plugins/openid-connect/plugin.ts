/**
 * openid-connect: a resource-server guard. Accepts OAuth 2.0 bearer access tokens (RFC 6750) that are
 * JWTs (RFC 9068) from one configured issuer — Gatehouse's built-in provider or any other — verified
 * locally against the issuer's JWKS, and tells the upstream who called with Kong's identity headers.
 * - Keys: discovery (once, on first use) or `jwks_uri`, then jose's remote JWKS: cached, refetched for an
 *   unknown kid at most once per cooldown, failed fetches retried with a backoff (key-set.ts).
 * - Checks: iss (exact), aud contains this route's resource, typ, alg allow-list, kid, exp/nbf/iat with
 *   leeway, optional maximum age (issuer.ts, which remembers accepted tokens until the first instant any
 *   of these could fail), required scopes (on every request).
 * - Answers: RFC 6750 challenges and `{error, error_description}` bodies; every refusal is recorded with
 *   a GH_ERR_AUTH_* code and a stable reason for the access log (failures.ts). The issuer being
 *   unreachable is a 401 like any token that cannot be verified: fail closed, never a 500.
 * - Caller: a consumer by username or custom_id when one matches the token's `consumer_claim`, else a
 *   token-only caller (identity.ts). AND/OR with other auth plugins through `anonymous`, as Kong's.
 */
import {
  anonymousConsumer,
  authenticateAnonymously,
  identifiedByEarlierPlugin,
  refuse,
} from '../../pipeline/authenticate.ts'
import type { RequestState } from '../../pipeline/request-state.ts'
import type { GatewayPlugin } from '../types.ts'
import { Discovery } from './discovery.ts'
import { bearerToken, MALFORMED } from './extract.ts'
import { buildRefusals, type Refusal } from './failures.ts'
import { consumersByName, identify } from './identity.ts'
import { type AccessToken, HEADER_SAFE, TrustedIssuer } from './issuer.ts'
import { IssuerKeys } from './key-set.ts'
import { type OpenIdConnectConfig, openIdConnectSchema } from './schema.ts'

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
 */
export const plugin: GatewayPlugin<OpenIdConnectConfig> = {
  name: 'openid-connect',
  version: '1.0.0',
  priority: 1050,
  band: 'authentication',
  description: "Accepts OAuth 2.0 bearer access tokens from an issuer, verified against the issuer's JWKS.",
  schema: openIdConnectSchema,
  scopes: { consumer: false },
  create(config, ctx) {
    const anonymous = anonymousConsumer(config.anonymous, (reference) => ctx.findConsumer(reference))
    const consumers = ctx.memo('consumers-by-name', () => consumersByName(ctx.consumers.values()))
    const cache = config.jwks_cache
    const timeoutMs = cache.timeout * 1000
    // One key set per issuer and fetch settings, shared by every route of this configuration that trusts
    // it: the issuer is asked once, not once per route. A reload starts afresh.
    const jwksUri = config.jwks_uri ?? null
    const keySetId = [config.issuer, jwksUri, cache.cooldown, cache.max_age, cache.timeout].join('\0')
    const keys = ctx.memo(
      `keys:${keySetId}`,
      () =>
        new IssuerKeys({
          issuer: config.issuer,
          jwksUri,
          discovery: jwksUri === null ? new Discovery(config.issuer, timeoutMs, ctx.logger) : null,
          cooldownMs: cache.cooldown * 1000,
          maxAgeMs: cache.max_age * 1000,
          timeoutMs,
          logger: ctx.logger,
        }),
    )
    const refusals = buildRefusals(config.realm, config.required_scopes)
    const issuer = new TrustedIssuer({
      issuer: config.issuer,
      audience: config.audience,
      algorithms: config.algorithms,
      tokenTypes: config.token_types,
      leeway: config.leeway,
      maxTokenAge: config.max_token_age,
      consumerClaim: config.consumer_claim,
      keys,
      keysMaxAgeMs: cache.max_age * 1000,
      refusals,
      logger: ctx.logger,
    })
    const requiredScopes = config.required_scopes
    const claimHeaders = Object.entries(config.claims_to_headers ?? {}).map(
      ([claim, header]) => [claim, header.toLowerCase()] as const,
    )
    const debug = ctx.logger.isLevelEnabled('debug')

    const accept = (state: RequestState, token: AccessToken): void => {
      if (requiredScopes.length > 0 && !hasScopes(token.claims.scope, requiredScopes)) {
        decline(state, refusals.insufficientScope)
        return
      }
      identify(state, token.caller, consumers.get(token.caller.name))
      for (const [claim, header] of claimHeaders) {
        const value = headerValue(token.claims[claim])
        if (value !== null) state.upstreamHeaders[header] = value
      }
      if (config.hide_credentials) delete state.upstreamHeaders.authorization
    }

    const decline = (state: RequestState, refusal: Refusal): void => {
      if (debug)
        ctx.logger.debug(
          { reason: refusal.reason, request_id: state.requestId },
          'openid-connect refused the request',
        )
      if (anonymous !== null) authenticateAnonymously(state, anonymous)
      else refuse(state, refusal.status, refusal.body, refusal.headers, refusal.code, refusal.reason)
    }

    const settle = (state: RequestState, outcome: AccessToken | Refusal): void => {
      if ('status' in outcome) decline(state, outcome)
      else accept(state, outcome)
    }

    return {
      access(state) {
        // Claim headers are ours whatever happens next: a client's copy never reaches the upstream.
        for (const [, header] of claimHeaders) delete state.upstreamHeaders[header]
        if (!config.run_on_preflight && state.method === 'OPTIONS') return
        if (anonymous !== null && identifiedByEarlierPlugin(state)) return
        const token = bearerToken(state.req.headers.authorization)
        const outcome =
          token === null ? refusals.noToken : token === MALFORMED ? refusals.malformed : issuer.verify(token)
        if (!(outcome instanceof Promise)) {
          settle(state, outcome)
          return
        }
        return outcome.then(
          (o) => settle(state, o),
          // verify() settles every failure itself; this only keeps a bug from becoming a 500.
          (err: unknown) => {
            ctx.logger.error(
              { error: (err as Error)?.message ?? String(err) },
              'openid-connect failed unexpectedly',
            )
            decline(state, refusals.unverifiable)
          },
        )
      },
    }
  },
}

/** Every required scope is in the space-separated `scope` claim (RFC 9068 §2.2.3, RFC 6749 §3.3). */
function hasScopes(scope: unknown, required: readonly string[]): boolean {
  if (typeof scope !== 'string') return false
  const granted = new Set(scope.split(' '))
  return required.every((s) => granted.has(s))
}

function headerValue(value: unknown): string | null {
  const text =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : null
  return text !== null && HEADER_SAFE.test(text) ? text : null
}
