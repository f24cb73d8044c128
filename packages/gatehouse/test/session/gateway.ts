/**
 * The gateway every session suite starts: the built-in identity provider (its users, plus dave, who has
 * never consented; a confidential client `shop-web` whose redirect URIs are this gateway's callbacks;
 * access tokens for the orders API that live ACCESS_TTL seconds), an echo upstream, and session plugin
 * instances with the session in the cookie (`/login` …, APIs under `/api/`: `/api/plain` answers page
 * navigations without a session with 401 rather than a redirect to sign in), kept at the gateway
 * (`/s/login` …, `/s/api/orders`), in a cookie too small for it (`/tiny/login` …), and with a provider
 * that cannot be reached (`/down/login` …). The test client
 * is a trusted proxy, so a test can say the browser used https on another host.
 */
import assert from 'node:assert/strict'
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import {
  closedPort,
  type EchoBody,
  echoHandler,
  type Handler,
  startUpstream,
  type Upstream,
} from '../harness/upstream.ts'
import { ALICE, freePort, identitySection, ORDERS_API } from '../identity/support/gateway.ts'
import { Browser, type Credentials, Jar, type SignedIn, signIn } from './support.ts'

export const INTERNAL_ISSUER = 'https://gatehouse.session.test'
const SHOP_SECRET = 'shop-web-secret-0123456789abcdefghijklmnop'
const SESSION_SECRET = 'session-secret-0123456789abcdefghijklmnopqr'
/** Access tokens live 6 s and are refreshed within 4 s of expiry: a request 2-3 s after sign-in refreshes. */
export const ACCESS_TTL = 6
export const REFRESH_BEFORE = 4
/** Long enough for the access token of a session to come within refresh_before of its expiry. */
export const UNTIL_REFRESH_MS = (ACCESS_TTL - REFRESH_BEFORE + 1) * 1000
export const DAVE = { username: 'dave', email: 'dave@example.test', password: 'dave-password-12345' }
/** Dave's fixed subject, also the username of a consumer (so his session identifies that consumer). */
export const DAVE_SUB = 'user-dave'

export interface Signed extends SignedIn {
  readonly browser: Browser
  readonly jar: Jar
}

/**
 * The echo upstream; a request's `x-test-set-cookie` header (a JSON array) becomes the answer's Set-Cookie
 * lines, as a compromised or careless service could send them.
 */
const upstreamHandler: Handler = (req, res) => {
  const wanted = req.headers['x-test-set-cookie']
  if (typeof wanted === 'string') res.setHeader('set-cookie', JSON.parse(wanted) as string[])
  echoHandler(req, res)
}

export class SessionGateway {
  readonly gh: GatehouseProcess
  readonly upstream: Upstream
  readonly origin: string
  readonly issuer: string
  readonly #internalJwks: ReturnType<typeof createRemoteJWKSet>
  readonly providerJwks: ReturnType<typeof createRemoteJWKSet>

  private constructor(gh: GatehouseProcess, upstream: Upstream, origin: string) {
    this.gh = gh
    this.upstream = upstream
    this.origin = origin
    this.issuer = `${origin}/oidc`
    this.#internalJwks = createRemoteJWKSet(new URL(`${origin}/.well-known/gatehouse/jwks.json`))
    this.providerJwks = createRemoteJWKSet(new URL(`${this.issuer}/jwks`))
  }

  /** `workers`: that many worker processes (test/cluster), else one process. */
  static async start(options: { workers?: number } = {}): Promise<SessionGateway> {
    const upstream = await startUpstream(upstreamHandler)
    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    const workers = options.workers === undefined ? [] : ['--workers', String(options.workers)]
    const gh = await startGatehouse({
      config: gatewayConfig(origin, upstream.url, await closedPort()),
      args: ['--proxy-listen', `127.0.0.1:${port}`, ...workers],
      ...(options.workers === undefined ? {} : { timeout: 60_000 }),
    })
    return new SessionGateway(gh, upstream, origin)
  }

  async stop(): Promise<void> {
    await this.gh.stop()
    await this.upstream.close()
  }

  /** Signs in at `${prefix}/login${query}` in a new browser; the jar holds the gateway's cookies. */
  async signedIn(prefix = '', user: Credentials = ALICE, query = ''): Promise<Signed> {
    const browser = new Browser()
    const jar = new Jar()
    const done = await signIn(browser, `${this.origin}${prefix}/login${query}`, `${prefix}/callback`, user)
    jar.take(done.callback)
    return { ...done, browser, jar }
  }

  /** A request with the jar's cookies (and `extraCookies`); cookies set in the answer go into the jar. */
  call(jar: Jar, path: string, init: RequestInit = {}, extraCookies = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    const cookie = jar.header(extraCookies)
    if (cookie !== '') headers.set('cookie', cookie)
    return fetch(this.origin + path, { ...init, headers, redirect: 'manual' }).then((r) => jar.take(r))
  }

  /** What the echo upstream received. */
  async echoed(res: Response): Promise<EchoBody> {
    assert.equal(res.status, 200, await res.clone().text())
    return (await res.json()) as EchoBody
  }

  /** The internal token the upstream received, verified as a service would (jose, the gateway's JWKS). */
  async internalToken(echo: EchoBody): Promise<JWTPayload> {
    const auth = echo.headers.authorization as string
    assert.match(auth, /^Bearer /)
    const { payload } = await jwtVerify(auth.slice(7), this.#internalJwks, {
      issuer: INTERNAL_ISSUER,
      audience: 'orders',
      typ: 'gatehouse-internal+jwt',
    })
    return payload
  }

  /** The session info document. */
  async info(jar: Jar, prefix = ''): Promise<Record<string, unknown>> {
    const res = await this.call(jar, `${prefix}/session`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    return (await res.json()) as Record<string, unknown>
  }
}

function gatewayConfig(origin: string, upstreamUrl: string, nobody: number): object {
  const issuer = `${origin}/oidc`
  const identity = identitySection(issuer) as {
    users: object[]
    clients: object[]
    resources: { indicator: string; claims?: string[]; access_token_ttl?: number }[]
  }
  identity.clients.push({
    client_id: 'shop-web',
    client_secret: SHOP_SECRET,
    client_name: 'Shop',
    redirect_uris: [`${origin}/callback`, `${origin}/s/callback`, `${origin}/tiny/callback`],
    post_logout_redirect_uris: [`${origin}/`, `${origin}/s/bye`],
    scopes: ['openid', 'profile', 'email', 'offline_access', 'orders:read'],
    resources: [ORDERS_API],
  })
  identity.users.push({ ...DAVE, id: DAVE_SUB, claims: { name: 'Dave Example' } })
  const orders = identity.resources.find((r) => r.indicator === ORDERS_API)!
  orders.claims = ['roles', 'country', 'name', 'email']
  orders.access_token_ttl = ACCESS_TTL

  const session = (config: object = {}) => ({
    name: 'session',
    config: {
      issuer,
      client_id: 'shop-web',
      client_secret: SHOP_SECRET,
      secret: SESSION_SECRET,
      scopes: ['openid', 'profile', 'email', 'offline_access', 'orders:read'],
      resource: ORDERS_API,
      refresh_before: REFRESH_BEFORE,
      ...config,
    },
  })
  const server = session({
    storage: 'server',
    cookie: { name: 'gh_sid' },
    csrf: { cookie_name: 'gh_sid_csrf' },
    login_path: '/s/login',
    callback_path: '/s/callback',
    logout_path: '/s/logout',
    session_info_path: '/s/session',
    post_logout_redirect: '/s/bye',
  })
  const tiny = session({
    cookie: { name: 'gh_tiny', max_size: 1024 },
    csrf: { cookie_name: 'gh_tiny_csrf' },
    login_path: '/tiny/login',
    callback_path: '/tiny/callback',
    logout_path: '/tiny/logout',
    session_info_path: '/tiny/session',
  })
  const down = session({
    issuer: `http://127.0.0.1:${nobody}/oidc`,
    cookie: { name: 'gh_down' },
    csrf: { cookie_name: 'gh_down_csrf' },
    login_path: '/down/login',
    callback_path: '/down/callback',
    logout_path: '/down/logout',
    session_info_path: '/down/session',
  })
  const mint = { name: 'internal-token', config: { audience: 'orders' } }
  return {
    _format_version: '3.0',
    identity,
    internal_tokens: { issuer: INTERNAL_ISSUER },
    proxy: { trusted_ips: ['127.0.0.1'] },
    consumers: [{ username: 'guest' }, { username: DAVE_SUB, custom_id: 'crm-42' }],
    services: [
      {
        name: 'api',
        url: upstreamUrl,
        routes: [
          { name: 'orders', paths: ['/api/orders'], plugins: [session(), mint] },
          {
            name: 'token',
            paths: ['/api/token'],
            plugins: [session(), { name: 'internal-token', config: { mode: 'forward' } }],
          },
          { name: 'public', paths: ['/api/public'], plugins: [session({ optional: true })] },
          { name: 'guest', paths: ['/api/guest'], plugins: [session({ anonymous: 'guest' })] },
          { name: 'plain', paths: ['/api/plain'], plugins: [session({ redirect_navigations: false })] },
          { name: 's-orders', paths: ['/s/api/orders'], plugins: [server, mint] },
        ],
      },
    ],
    routes: [
      { name: 'browser', paths: ['/login', '/callback', '/logout', '/session'], plugins: [session()] },
      { name: 's-browser', paths: ['/s/login', '/s/callback', '/s/logout', '/s/session'], plugins: [server] },
      { name: 'tiny', paths: ['/tiny/'], plugins: [tiny] },
      { name: 'down', paths: ['/down/'], plugins: [down] },
    ],
  }
}
