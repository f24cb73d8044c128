/**
 * jwt: identifies the caller by a JWT signed with one of its consumer's `jwt_secrets` (Kong's jwt plugin,
 * gateways.md b.1–b.7), with Kong's answers, headers and AND/OR semantics, and safer than Kong:
 * - every malformed token is a 401, never a 500 (non-object JSON, wrong-length ECDSA/PSS signatures,
 *   bad base64url, duplicate JSON members, `crit`, tokens over 8192 characters: "Bad token; too long");
 * - keys come only from the credential, are checked at load and imported once per configuration;
 *   jose verifies with the credential's single algorithm (verify-token.ts);
 * - a nonexistent `anonymous` consumer is a configuration error, not Kong's 500 at request time;
 * - opt-in `leeway` for exp/nbf and `claims_to_headers`, whose headers are always set or removed.
 * Tokens whose signature verified are cached per instance, keyed by the exact token string (at most
 * 10,000), until their `exp` (+ leeway), or for 60 s when they have none; exp, nbf, leeway and
 * maximum_expiration are checked again on every hit, and a reload builds new instances with empty
 * caches, so the cache never accepts a token a fresh verification would refuse (_shared/expiring-cache.ts). A repeated
 * token then costs a map lookup instead of a signature check; Kong verifies every time.
 */
import {
  anonymousConsumer,
  authenticateAnonymously,
  authenticateAs,
  identifiedByEarlierPlugin,
  refuse,
  skipsPreflight,
} from '../../pipeline/authenticate.ts'
import { type RequestState, withoutHeaders } from '../../pipeline/request-state.ts'
import { withoutCookies, withoutQueryParam } from '../_shared/conceal.ts'
import { SignedTokenCache } from '../_shared/expiring-cache.ts'
import type { GatewayPlugin } from '../types.ts'
import { jwtSecrets } from './credential.ts'
import { extractToken, MULTIPLE_TOKENS, NO_TOKEN } from './extract.ts'
import { buildFailures, type Failure, type Failures } from './failures.ts'
import { buildKeyIndex } from './key-index.ts'
import { type JwtConfig, jwtSchema } from './schema.ts'
import { JwtVerifier, type Outcome, type VerifiedToken } from './verify-token.ts'

/**
 * The `jwt` plugin (Kong's contract, priority 1450).
 *
 * @example
 * ```yaml
 * consumers:
 *   - username: login_server_issuer
 *     jwt_secrets:
 *       - key: login-server            # the tokens' `iss` (or `kid` with key_claim_name: kid)
 *         secret: "<at least 32 random bytes>"
 * plugins:
 *   - name: jwt
 *     service: my-api
 *     config: { claims_to_verify: [exp], maximum_expiration: 3600, leeway: 5 }
 * ```
 */
export const plugin: GatewayPlugin<JwtConfig> = {
  name: 'jwt',
  version: '1.0.0',
  priority: 1450,
  band: 'authentication',
  description: "Verifies JWTs signed with a consumer's jwt_secrets and identifies the consumer.",
  schema: jwtSchema,
  scopes: { consumer: false },
  credentials: [jwtSecrets],
  identityHeaders: (config) => Object.values(config.claims_to_headers ?? {}),
  requestHeaders: (config) => config.header_names.map((name, i) => ({ key: `header_names[${i}]`, name })),
  create(config, ctx) {
    const anonymous = anonymousConsumer(config.anonymous, (reference) => ctx.findConsumer(reference))
    const index = ctx.memo(`keys:${config.secret_is_base64 ? 'base64' : 'text'}`, () =>
      buildKeyIndex(ctx.credentials('jwt_secrets'), ctx.consumers, config.secret_is_base64, ctx.logger),
    )
    const sources = {
      params: new Set(config.uri_param_names),
      cookies: [...new Set(config.cookie_names)],
      headers: [...new Set(config.header_names.map((h) => h.toLowerCase()))],
    }
    const claimHeaders = Object.entries(config.claims_to_headers ?? {}).map(
      ([claim, header]) => [claim, header.toLowerCase()] as const,
    )
    const clearHeaders = claimHeaders.map(([, header]) => header)
    const failures = buildFailures(config.realm, config.key_claim_name)
    const cache = new SignedTokenCache<VerifiedToken>()
    const verifier = new JwtVerifier({
      index,
      keyClaimName: config.key_claim_name,
      rules: {
        verify: [...new Set(config.claims_to_verify ?? [])],
        maximumExpiration: config.maximum_expiration,
        leeway: config.leeway,
      },
      claimHeaders,
      failures,
      cache,
    })
    const debug = ctx.logger.isLevelEnabled('debug')

    const settle = (state: RequestState, outcome: Outcome): void => {
      if (!('status' in outcome)) {
        authenticateAs(state, outcome.credential.consumer, outcome.credential.ref, outcome.principal)
        for (const [header, value] of outcome.headers) state.upstreamHeaders[header] = value
        return
      }
      if (debug)
        ctx.logger.debug({ reason: outcome.reason, request_id: state.requestId }, 'jwt refused the token')
      if (anonymous !== null) authenticateAnonymously(state, anonymous, outcome.reason)
      else {
        const code =
          outcome.reason === 'jwt_no_token'
            ? 'GH_ERR_AUTH_CREDENTIALS_MISSING'
            : 'GH_ERR_AUTH_CREDENTIALS_INVALID'
        refuse(state, outcome.status, outcome.body, outcome.headers, code, outcome.reason, outcome.message)
      }
    }

    /** Every place this plugin reads tokens from, emptied in the upstream request. */
    const conceal = (state: RequestState): void => {
      const h = withoutHeaders(state.upstreamHeaders, sources.headers)
      state.upstreamHeaders = h
      for (const name of sources.params) state.upstreamQuery = withoutQueryParam(state.upstreamQuery, name)
      const cookie = h.cookie
      if (sources.cookies.length > 0 && typeof cookie === 'string') {
        const kept = withoutCookies(cookie, sources.cookies)
        if (kept === null) delete h.cookie
        else h.cookie = kept
      }
    }

    return {
      access(state) {
        // Claim headers are ours whatever happens next: a client's copy never reaches the upstream.
        for (const header of clearHeaders) delete state.upstreamHeaders[header]
        if (skipsPreflight(state, config.run_on_preflight)) return
        if (anonymous !== null && identifiedByEarlierPlugin(state)) return
        const token = extractToken(state.req, state.query, sources)
        if (state.route?.concealsCredentials) conceal(state)
        let outcome: Outcome | Promise<Outcome>
        if (typeof token === 'string') outcome = verifier.verify(token)
        else outcome = extractionFailure(token, failures)
        if (outcome instanceof Promise) return outcome.then((o) => settle(state, o))
        settle(state, outcome)
        return undefined
      },
      close() {
        cache.clear()
      },
    }
  },
}

function extractionFailure(code: number, failures: Failures): Failure {
  if (code === NO_TOKEN) return failures.noToken
  return code === MULTIPLE_TOKENS ? failures.multipleTokens : failures.unrecognizable
}
