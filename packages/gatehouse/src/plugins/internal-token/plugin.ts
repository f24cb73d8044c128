/**
 * internal-token: tells the upstream who called, after authentication (seeds 000 and 001: the gateway
 * authenticates once, services trust a short-lived token the gateway signed and never call a user
 * service to learn who the caller is).
 * - `mint` (default): the caller's principal (however they authenticated), optionally enriched from a
 *   user-info service, becomes an internal token for `audience` (+ `also_audiences`), signed with the
 *   gateway's rotating key (internal-tokens/). The public credential does not go upstream: the
 *   Authorization header is replaced, and the auth plugins of this route also drop an API key, a token
 *   in the query or a cookie (RouteContext.concealsCredentials), unless `keep_public_credential`.
 * - `forward`: the verified public access token as it came (a backend-for-frontend's style).
 * - `headers`: nothing beyond the X-Consumer-* / X-Authenticated-* headers the auth plugins set.
 * A copy of the token header sent by the client never reaches the upstream, in any mode but `headers`:
 * otherwise a caller could hand a service a token of their choosing. Anonymous callers get no token.
 *
 * Minted tokens are reused for the same (principal, consumer, profile) until `reuse_until_remaining` of
 * their lifetime is left, and never once the signing key changed or the subject was revoked since (issue
 * 7: src/redis/revocation.ts, one map lookup), so identity propagation costs a map lookup per request; the
 * cache is bounded and belongs to this instance (a reload starts afresh). Cached user-info answers are
 * likewise asked again once the subject's profile changed or the subject was revoked (enrichment.ts).
 */

import {
  authenticationOf,
  INTERNAL_TOKEN_TYPE,
  internalClaims,
  type MintRequest,
  mintInternalToken,
  RESERVED_CLAIMS,
} from '../../internal-tokens/mint.ts'
import { refuse } from '../../pipeline/authenticate.ts'
import type { Principal } from '../../pipeline/principal.ts'
import { type RequestState, withoutHeaders } from '../../pipeline/request-state.ts'
import { acquireRevocations } from '../../redis/revocation-leases.ts'
import { ExpiringCache } from '../_shared/expiring-cache.ts'
import type { GatewayPlugin } from '../types.ts'
import { EnrichmentFailed, type Profile, UserInfoEnricher } from './enrichment.ts'
import { type InternalTokenConfig, internalTokenSchema } from './schema.ts'

interface CachedMint {
  readonly token: string
  readonly kid: string
  /** Date.now() when it was minted. */
  readonly at: number
  readonly until: number
}

const RESERVED: ReadonlySet<string> = new Set(RESERVED_CLAIMS)
const ENRICHMENT_UNAVAILABLE = { message: 'The caller’s profile is unavailable; try again shortly' }
const TOKEN_UNAVAILABLE = { message: 'The gateway cannot sign an internal token right now' }
const RETRY = { 'retry-after': '1' }
const NONE: Readonly<Record<string, unknown>> = Object.freeze({})

/** What a dry run puts where the token would go: no token is ever signed for it. */
const DRY_RUN_TOKEN = '(not signed: dry run)'

const ENRICHMENT = { 'gatehouse.plugin': 'internal-token' }

/** No signing key yet (before the key ring started): a 503, not a logged failure. */
class NoSigningKey extends Error {}

/**
 * The `internal-token` plugin (priority 890: after authentication, acl and rate limiting, so refused
 * and limited requests cost no user-info call and no signature; before the request transforms).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: internal-token
 *     route: orders
 *     config:
 *       audience: orders
 *       also_audiences: [payments]
 *       enrich: { url: "http://users:3001/users/{sub}", claims: [country, customer_type] }
 * ```
 */
export const plugin: GatewayPlugin<InternalTokenConfig> = {
  name: 'internal-token',
  version: '1.0.0',
  priority: 890,
  band: 'transform',
  description:
    'Sends the upstream a short-lived internal JWT for the caller (or the verified token, or headers only).',
  schema: internalTokenSchema,
  scopes: { consumer: false },
  // Its token header, when not Authorization (a client's Authorization is the credential it presents).
  identityHeaders: (config) =>
    config.mode !== 'headers' && config.header.toLowerCase() !== 'authorization' ? [config.header] : [],
  create(config, ctx) {
    const { ring, settings } = ctx.internalTokens
    const header = config.header.toLowerCase()
    const asBearer = header === 'authorization'
    const format = (token: string) => (asBearer ? `Bearer ${token}` : token)
    const mode = config.mode
    const keepPublic = config.keep_public_credential
    // What the upstream never gets from the client: the public credential (unless kept) and our header.
    const dropped = keepPublic ? [header] : [...new Set(['authorization', header])]
    const lease = acquireRevocations(ctx.redis, ctx.logger)
    const revocations = lease.revocations
    const enricher = config.enrich ? new UserInfoEnricher(config.enrich, ctx.logger, revocations) : null
    const onFailure = config.enrich?.on_failure ?? 'deny'
    const ttl = config.ttl ?? settings.ttl
    const audience = config.audience
      ? [config.audience, ...config.also_audiences.filter((a) => a !== config.audience)]
      : []
    const fromToken = config.claims_from_token
    const perRequest = config.request_id_claim
    const reuseMs = ttl * 1000 * (1 - settings.reuse_until_remaining)
    const cache = new ExpiringCache<CachedMint>(perRequest ? 0 : settings.cache_size)
    // The principal's part of the cache key, built once per principal object (the auth plugins keep one
    // per verified token or credential, so a repeated caller costs a WeakMap lookup).
    // The whole key is remembered with the parts it was built from, so the same caller with the same
    // consumer, profile and audience reuses one string (and its hash) instead of concatenating anew.
    interface MemoKey {
      readonly base: string
      consumer: string
      profile: Profile | null
      aud: readonly string[]
      key: string
    }
    const principalKeys = new WeakMap<Principal, MemoKey>()
    const cacheKeyOf = (
      p: Principal,
      consumer: string,
      profile: Profile | null,
      aud: readonly string[],
    ): string => {
      let m = principalKeys.get(p)
      if (m === undefined) {
        const base = JSON.stringify([
          p.subject,
          p.kind,
          p.method,
          p.issuer,
          p.clientId,
          p.scopes,
          p.attributes,
          picked(p),
          // How the person signed in: after a step-up the service must see the new amr, not a reused token.
          authenticationOf(p),
        ])
        m = { base, consumer: '', profile: null, aud: [], key: '' }
        principalKeys.set(p, m)
      } else if (m.consumer === consumer && m.profile === profile && m.aud === aud && m.key !== '')
        return m.key
      m.consumer = consumer
      m.profile = profile
      m.aud = aud
      m.key = `${m.base}\0${consumer}\0${profile?.key ?? ''}\0${aud.join(' ')}`
      return m.key
    }
    const picked = (p: Principal): Readonly<Record<string, unknown>> => {
      if (fromToken.length === 0) return NONE
      const out: Record<string, unknown> = {}
      for (const name of fromToken) if (Object.hasOwn(p.claims, name)) out[name] = p.claims[name]
      return out
    }

    /**
     * The caller's internal token for `aud` (the bare JWS): from the cache when one for the same
     * principal, consumer, profile and audience was minted with the current key, else signed now.
     * Rejects when there is no signing key or signing fails.
     */
    const tokenFor = (
      state: RequestState,
      p: Principal,
      profile: Profile | null,
      aud: readonly string[],
    ): string | Promise<string> => {
      const key = ring.active
      if (key === null) return Promise.reject(new NoSigningKey())
      const consumer = state.consumer !== null && state.credential !== null ? state.consumer : null
      const cacheKey = perRequest ? '' : cacheKeyOf(p, consumer?.id ?? '', profile, aud)
      const now = Date.now()
      let reused = false
      if (!perRequest) {
        const hit = cache.get(cacheKey, now)
        if (hit !== undefined && hit.kid === key.kid && !revocations.subjectRevoked(p.subject, hit.at)) {
          if (state.dryRun === null) return hit.token
          reused = true
        }
      }
      const request: MintRequest = {
        issuer: settings.issuer,
        audience: aud,
        ttl,
        principal: p,
        consumer,
        profile: [picked(p), p.attributes, profile?.claims ?? NONE],
        reserved: RESERVED,
        requestId: perRequest ? state.requestId : null,
      }
      if (state.dryRun !== null) {
        // What would be signed, never a signature or a token.
        const claims = internalClaims(request, Math.floor(now / 1000))
        state.dryRun.note('internal_token', {
          header: config.header,
          header_alg: key.alg,
          kid: key.kid,
          typ: INTERNAL_TOKEN_TYPE,
          audience: aud,
          ttl,
          claims: { ...claims, jti: '(random, one per token)' },
          reuse: reused ? 'a token minted for this caller earlier would be sent again' : null,
          signed: false,
        })
        return DRY_RUN_TOKEN
      }
      return mintInternalToken(request, key).then((minted) => {
        if (!perRequest)
          cache.set(cacheKey, { token: minted.token, kid: minted.kid, at: now, until: now + reuseMs }, now)
        return minted.token
      })
    }

    const failed = (state: RequestState, err: unknown): void => {
      const noKey = err instanceof NoSigningKey
      if (!noKey) ctx.logger.error({ error: (err as Error).message }, 'minting an internal token failed')
      refuse(
        state,
        503,
        TOKEN_UNAVAILABLE,
        RETRY,
        'GH_ERR_INTERNAL_TOKEN_UNAVAILABLE',
        noKey ? 'internal_token_no_key' : 'internal_token_sign_failed',
      )
    }

    /** Sends the route's own token upstream, and offers tokens for other audiences (composition parts). */
    const mint = (state: RequestState, p: Principal, profile: Profile | null): void | Promise<void> => {
      state.internalTokens = { forAudience: (aud) => tokenFor(state, p, profile, aud) }
      let token: string | Promise<string>
      try {
        token = tokenFor(state, p, profile, audience)
      } catch (err) {
        failed(state, err)
        return
      }
      if (typeof token === 'string') {
        state.upstreamHeaders[header] = format(token)
        return
      }
      return token.then(
        (t) => {
          state.upstreamHeaders[header] = format(t)
        },
        (err: unknown) => failed(state, err),
      )
    }

    const enriched = (
      state: RequestState,
      p: Principal,
      found: Profile | EnrichmentFailed,
    ): void | Promise<void> => {
      if (!(found instanceof EnrichmentFailed)) return mint(state, p, found)
      if (onFailure === 'continue') return mint(state, p, null)
      refuse(
        state,
        503,
        ENRICHMENT_UNAVAILABLE,
        RETRY,
        'GH_ERR_IDENTITY_ENRICHMENT_UNAVAILABLE',
        'enrichment_unavailable',
      )
    }

    /** A dry run asks no user-info service: a cached answer is used, else the claims go without it. */
    const dryLookup = (state: RequestState, p: Principal, e: UserInfoEnricher): void | Promise<void> => {
      const cached = e.cached(p)
      if (cached === undefined) {
        state.dryRun!.note(
          'enrichment',
          'no answer cached for this subject: a real request asks the user-info service now; not asked in a dry run, so its claims are missing here',
        )
        return mint(state, p, null)
      }
      state.dryRun!.note(
        'enrichment',
        cached instanceof EnrichmentFailed
          ? 'the user-info service failed for this subject within the last second (remembered)'
          : `from the cache (answered ${new Date(cached.at).toISOString()})`,
      )
      return enriched(state, p, cached)
    }

    return {
      access(state) {
        if (mode === 'headers') {
          state.dryRun?.skip('mode: headers, no token (the auth plugins’ X-Consumer-* headers only)')
          return
        }
        const h = withoutHeaders(state.upstreamHeaders, dropped)
        state.upstreamHeaders = h
        const p = state.principal
        if (p === null) {
          state.dryRun?.skip('no caller identified (anonymous or none): no internal token is sent')
          return
        }
        if (mode === 'forward') {
          if (p.token !== null) h[header] = format(p.token)
          state.dryRun?.note(
            'forward',
            p.token !== null
              ? `the caller's verified token goes upstream in ${config.header}`
              : 'no token to forward',
          )
          return
        }
        if (enricher === null) return mint(state, p, null)
        if (state.dryRun !== null) return dryLookup(state, p, enricher)
        const found = enricher.lookup(p, state.requestId)
        if (found instanceof Promise) {
          // Only a lookup that waits on the user-info service is a span; a cached answer is not worth one.
          const trace = state.trace
          const span = trace !== null ? trace.child('enrichment', ENRICHMENT) : null
          return found.then((f) => {
            // An error when the user-info service failed: its reason, never a claim value.
            if (trace !== null && span !== null)
              trace.endChild(span, f instanceof EnrichmentFailed ? f.reason : null)
            return enriched(state, p, f)
          })
        }
        return enriched(state, p, found)
      },
      async close() {
        await Promise.all([enricher?.close(), lease.release()])
      },
    }
  },
}
