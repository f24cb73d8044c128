/**
 * Everything one session plugin instance needs per request, built once per configuration: the sealing
 * keys, where sessions are kept, the revocations, the provider client, the refresher, the CSRF guard, the
 * cookies' names and attributes, and who a session's caller is (cached per access token, so the
 * internal-token plugin's per-principal cache hits).
 */
import { createHash } from 'node:crypto'
import { endedSessionsFor, nodeRefresh, sessionStoreFor } from '../../cluster/node-state.ts'
import type { ConsumerEntity } from '../../config/model.ts'
import type { RedisSettings } from '../../config/schema/redis.ts'
import type { Logger } from '../../observability/logger.ts'
import { scopeList } from '../../pipeline/principal.ts'
import type { RequestState } from '../../pipeline/request-state.ts'
import type { Revocations } from '../../redis/revocation.ts'
import { type Caller, HEADER_SAFE } from '../_shared/caller.ts'
import { ExpiringCache } from '../_shared/expiring-cache.ts'
import { type CookieAttributes, clearCookie, serializeCookie } from './cookies.ts'
import { CsrfGuard } from './csrf.ts'
import { CookieKeeper, type Keeper, ServerKeeper } from './keeper.ts'
import { processWide } from './process-wide.ts'
import { ProviderClient } from './provider-client.ts'
import { RedisSessionStore } from './redis-store.ts'
import type { RefreshSharing } from './refresh.ts'
import { Refresher, RefreshMemo } from './refresh.ts'
import type { SessionConfig } from './schema.ts'
import { Sealer } from './seal.ts'
import { jwtClaims, type Lifetimes, publicSessionId, type SessionRecord } from './session.ts'
import { SharedRefresh } from './shared-refresh.ts'

interface CachedCaller {
  readonly caller: Caller
  readonly until: number
}

export class SessionContext {
  readonly config: SessionConfig
  readonly logger: Logger
  readonly sealer: Sealer
  readonly keeper: Keeper
  readonly provider: ProviderClient
  readonly refresher: Refresher
  readonly csrf: CsrfGuard
  readonly lifetimes: Lifetimes
  /** Seconds between writes of a session's last use (sliding the idle timeout). */
  readonly touchEvery: number
  readonly names: { readonly session: string; readonly login: string; readonly csrf: string }
  readonly anonymous: ConsumerEntity | null
  readonly consumers: ReadonlyMap<string, ConsumerEntity>
  /** This node's view of the revocations (src/redis/revocation.ts). */
  readonly revocations: Revocations
  /** The Redis store and refresh coordination (`storage: redis`), released with the configuration. */
  readonly sharedStore: RedisSessionStore | null
  readonly sharedRefresh: RefreshSharing | null
  readonly #callers = new ExpiringCache<CachedCaller>(10_000)
  readonly #pending = new WeakMap<RequestState, string[]>()

  constructor(
    config: SessionConfig,
    logger: Logger,
    anonymous: ConsumerEntity | null,
    consumers: ReadonlyMap<string, ConsumerEntity>,
    memo: <T>(key: string, build: () => T) => T,
    shared: { readonly redis: RedisSettings | null; readonly revocations: Revocations },
  ) {
    this.config = config
    this.logger = logger
    this.anonymous = anonymous
    this.consumers = consumers
    this.revocations = shared.revocations
    const binding = `${config.issuer}\0${config.client_id}`
    // Shared by every instance of this configuration with the same provider and client: one discovery,
    // one JWKS cache, keys derived once.
    const same = createHash('sha256')
      .update([binding, config.client_secret, config.secret, config.timeout].join('\0'))
      .digest('base64url')
    this.sealer = memo(`sealer\0${same}`, () => new Sealer(config.secret, binding))
    this.lifetimes = { idle: config.idle_timeout, absolute: config.absolute_timeout }
    this.touchEvery = Math.max(1, Math.min(60, Math.floor(config.idle_timeout / 10)))
    const redis = shared.redis
    if (config.storage === 'redis' && redis === null)
      // Refused at load (redis/plugin-references.ts); kept here for configurations built by hand.
      throw new Error("storage 'redis' needs the top-level redis section")
    this.sharedStore =
      config.storage === 'redis'
        ? memo(`redis-store\0${same}`, () => new RedisSessionStore(redis!, this.sealer, logger))
        : null
    this.keeper =
      config.storage !== 'cookie'
        ? new ServerKeeper(this.sealer, this.lifetimes, this.sharedStore ?? sessionStoreFor(binding))
        : new CookieKeeper(this.sealer, this.lifetimes, endedSessionsFor(binding))
    this.provider = memo(
      `provider\0${same}`,
      () =>
        new ProviderClient({
          issuer: config.issuer,
          clientId: config.client_id,
          clientSecret: config.client_secret,
          timeout: config.timeout,
        }),
    )
    this.sharedRefresh =
      config.storage === 'redis'
        ? memo(`shared-refresh\0${same}`, () => new SharedRefresh(redis!, this.sealer, logger))
        : nodeRefresh()
    this.refresher = new Refresher(
      this.provider,
      processWide(`refresh\0${binding}`, () => new RefreshMemo()),
      config.resource,
      logger,
      this.sharedRefresh,
    )
    this.csrf = new CsrfGuard({
      check: config.csrf.check,
      allowedOrigins: config.csrf.allowed_origins,
      header: config.csrf.header_name.toLowerCase(),
    })
    this.names = {
      session: config.cookie.name,
      login: `${config.cookie.name}_login`,
      csrf: config.csrf.cookie_name,
    }
  }

  /**
   * Whether the session was revoked (POST /revocations, on any node): by its public id, or its subject
   * after it began.
   */
  revoked(r: SessionRecord): boolean {
    return (
      this.revocations.subjectRevoked(r.sub, r.createdAt * 1000) ||
      this.revocations.sessionRevoked(publicSessionId(r.sid))
    )
  }

  /** Whether cookies set on this request are Secure. */
  secure(https: boolean): boolean {
    const s = this.config.cookie.secure
    return s === 'auto' ? https : s
  }

  #attributes(https: boolean, httpOnly: boolean, maxAge: number | null): CookieAttributes {
    return { path: '/', httpOnly, secure: this.secure(https), sameSite: this.config.cookie.same_site, maxAge }
  }

  #loginAttributes(https: boolean): CookieAttributes {
    // A __Host- cookie must have Path=/ (RFC 6265bis §4.1.3.2).
    const path = this.names.login.startsWith('__Host-') ? '/' : this.config.callback_path
    return {
      path,
      httpOnly: true,
      secure: this.secure(https),
      sameSite: 'Lax',
      maxAge: this.config.login_timeout,
    }
  }

  /** Bytes of the session cookie (name and value, what browsers limit to about 4 KiB). */
  cookieSize(value: string): number {
    return this.names.session.length + 1 + value.length
  }

  /** Whether a session cookie value fits in `cookie.max_size` (always, when it is a server-side id). */
  fits(value: string): boolean {
    return this.keeper.kind === 'server' || this.cookieSize(value) <= this.config.cookie.max_size
  }

  /** The session cookie and its readable CSRF companion, both ending with the session's absolute end. */
  sessionCookies(value: string, r: SessionRecord, https: boolean, now: number): string[] {
    const maxAge = r.createdAt + this.lifetimes.absolute - now
    return [
      serializeCookie(this.names.session, value, this.#attributes(https, true, maxAge)),
      this.csrfCookie(r, https, now),
    ]
  }

  csrfCookie(r: SessionRecord, https: boolean, now: number): string {
    const maxAge = r.createdAt + this.lifetimes.absolute - now
    return serializeCookie(this.names.csrf, r.csrf, this.#attributes(https, false, maxAge))
  }

  clearSessionCookies(https: boolean): string[] {
    return [
      clearCookie(this.names.session, this.#attributes(https, true, null)),
      clearCookie(this.names.csrf, this.#attributes(https, false, null)),
    ]
  }

  loginCookie(value: string, https: boolean): string {
    return serializeCookie(this.names.login, value, this.#loginAttributes(https))
  }

  clearLoginCookie(https: boolean): string {
    return clearCookie(this.names.login, this.#loginAttributes(https))
  }

  /** Queues Set-Cookie lines for this request's response (sent by the plugin's response phase). */
  setCookies(state: RequestState, lines: readonly string[]): void {
    const pending = this.#pending.get(state)
    if (pending === undefined) this.#pending.set(state, [...lines])
    else pending.push(...lines)
  }

  takeCookies(state: RequestState): string[] | undefined {
    const pending = this.#pending.get(state)
    if (pending !== undefined) this.#pending.delete(state)
    return pending
  }

  /**
   * The caller a session stands for: subject = the ID token's `sub`; claims = the access token's when
   * it is a JWT (decoded only: it came straight from the token endpoint), else the ID token's.
   */
  caller(r: SessionRecord): Caller {
    const now = Date.now()
    const cached = this.#callers.get(r.accessToken, now)
    if (cached !== undefined && cached.caller.name === r.sub) return cached.caller
    // The session's own acr, amr and auth_time (its ID token's) are what the caller proved, whatever the
    // access token says: the internal token passes them on (issue 14).
    const claims = withAuth(jwtClaims(r.accessToken) ?? jwtClaims(r.idToken) ?? {}, r)
    const scope = r.scope ?? (typeof claims.scope === 'string' ? claims.scope : null)
    const clientId = this.config.client_id
    const caller: Caller = {
      name: r.sub,
      clientId,
      scope: scope !== null && HEADER_SAFE.test(scope) ? scope : null,
      principal: Object.freeze({
        subject: r.sub,
        kind: 'user',
        method: 'session',
        issuer: this.config.issuer,
        clientId,
        scopes: scopeList(scope),
        attributes: Object.freeze({}),
        claims: Object.freeze(claims),
        token: r.accessToken,
      }),
    }
    const until = r.accessExpiresAt > 0 ? r.accessExpiresAt * 1000 : now + 300_000
    this.#callers.set(r.accessToken, { caller, until }, now)
    return caller
  }
}

/** `claims` with the session's acr, amr and auth_time in place of the token's (left out when unknown). */
function withAuth(claims: Record<string, unknown>, r: SessionRecord): Record<string, unknown> {
  const { acr: _acr, amr: _amr, auth_time: _authTime, ...rest } = claims
  if (r.auth.acr !== null) rest.acr = r.auth.acr
  if (r.auth.amr !== null) rest.amr = r.auth.amr
  if (r.auth.authTime !== null) rest.auth_time = r.auth.authTime
  return rest
}
