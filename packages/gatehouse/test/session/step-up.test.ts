/**
 * Step-up at the gateway (issue 14, RFC 9470), end to end against an independent OpenID provider
 * (step-up-provider.ts) whose sign-ins prove what the test says. A route requires `amr: [mfa]` and
 * `max_age: 600`:
 * - session plugin: a page load with a password-only session goes through the provider again, asking
 *   for acr_values and max_age, and comes back to the page with a session that has mfa; a script's call
 *   gets the 401 challenge; a provider that ignores acr_values, or answers
 *   unmet_authentication_requirements, ends at a page, not in a loop; a sign-in too old is sent again;
 * - openid-connect: bearer tokens without mfa, too old, or without auth_time get the RFC 9470 challenge;
 * - the internal token tells the service acr, amr and auth_time.
 */
import assert from 'node:assert/strict'
import { after, before, beforeEach, describe, it } from 'node:test'
import { createRemoteJWKSet, decodeJwt, type JWTPayload, jwtVerify } from 'jose'
import * as client from 'openid-client'
import { request } from 'undici'
import { assertFetchedError } from '../harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { type EchoBody, startUpstream, type Upstream } from '../harness/upstream.ts'
import { freePort } from '../identity/support/gateway.ts'
import {
  ACR_1FA,
  ACR_2FA,
  API,
  CLIENT_CALLBACK,
  type NextLogin,
  type StepUpProvider,
  SUBJECT,
  startStepUpProvider,
} from './step-up-provider.ts'
import { Browser, Jar, setCookies } from './support.ts'

const INTERNAL_ISSUER = 'https://gatehouse.step-up.test'
const SESSION_SECRET = 'step-up-session-secret-0123456789abcdefghij'
const REQUIRE = { amr: ['mfa'], max_age: 600 }
const MFA: NextLogin = { acr: ACR_2FA, amr: ['pwd', 'otp', 'mfa'] }
const PWD: NextLogin = { acr: ACR_1FA, amr: ['pwd'] }
/** What Chromium sends when it loads a page the user asked for. */
const PAGE = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }
/** What fetch() from a page sends. */
const SCRIPT = { accept: 'application/json', 'sec-fetch-mode': 'cors', 'sec-fetch-site': 'same-origin' }
const CHALLENGE_ACR = `acr_values="${ACR_2FA}", max_age=600`

describe('step-up at the gateway', () => {
  let op: StepUpProvider
  let gh: GatehouseProcess
  let upstream: Upstream
  let origin: string
  let internalJwks: ReturnType<typeof createRemoteJWKSet>

  before(async () => {
    upstream = await startUpstream()
    const port = await freePort()
    origin = `http://127.0.0.1:${port}`
    op = await startStepUpProvider([`${origin}/callback`])
    const session = (more: object = {}) => ({
      name: 'session',
      config: {
        issuer: op.issuer,
        client_id: 'shop-web',
        client_secret: op.clientSecret,
        secret: SESSION_SECRET,
        scopes: ['openid', 'profile', 'api'],
        resource: API,
        ...more,
      },
    })
    const mint = { name: 'internal-token', config: { audience: 'orders' } }
    const bearer = (more: object = {}) => ({
      name: 'openid-connect',
      config: { issuer: op.issuer, audience: API, ...more },
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        internal_tokens: { issuer: INTERNAL_ISSUER },
        services: [
          {
            name: 'api',
            url: upstream.url,
            routes: [
              { name: 'basket', paths: ['/api/basket'], plugins: [session(), mint] },
              { name: 'orders', paths: ['/api/orders'], plugins: [session({ require: REQUIRE }), mint] },
              { name: 'b-basket', paths: ['/bearer/basket'], plugins: [bearer(), mint] },
              {
                name: 'b-orders',
                paths: ['/bearer/orders'],
                plugins: [bearer({ require: REQUIRE }), mint],
              },
            ],
          },
        ],
        routes: [{ name: 'browser', paths: ['/login', '/callback', '/session'], plugins: [session()] }],
      },
      args: ['--proxy-listen', `127.0.0.1:${port}`],
    })
    internalJwks = createRemoteJWKSet(new URL(`${origin}/.well-known/gatehouse/jwks.json`))
  })
  after(async () => {
    await gh?.stop()
    await op?.close()
    await upstream?.close()
  })
  beforeEach(() => {
    op.next = PWD
    op.honourAcrValues = true
    op.omitAuthTime = false
  })

  /**
   * A browser: the provider's cookies in `browser`, the gateway's in `jar` (Path=/) and `login` (the
   * sign-in cookie, Path=/callback).
   */
  interface Person {
    readonly browser: Browser
    readonly jar: Jar
    readonly login: Map<string, string>
  }

  const person = (): Person => ({ browser: new Browser(), jar: new Jar(), login: new Map() })

  /**
   * A gateway request with the jar's cookies, its headers exactly as given (fetch() would replace
   * Sec-Fetch-Mode with its own); cookies set in the answer go into the jar.
   */
  async function call(
    p: Person,
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers }
    const extra = path.startsWith('/callback') ? Object.fromEntries(p.login) : {}
    const cookie = p.jar.header(extra)
    if (cookie !== '') headers.cookie = cookie
    const answer = await request(origin + path, {
      method: (init.method ?? 'GET') as 'GET',
      headers,
      ...(init.body !== undefined ? { body: init.body } : {}),
    })
    const h = new Headers()
    for (const [name, value] of Object.entries(answer.headers))
      for (const v of Array.isArray(value) ? value : [value ?? '']) h.append(name, v)
    const res = new Response(await answer.body.arrayBuffer(), { status: answer.statusCode, headers: h })
    for (const c of setCookies(res))
      if (c.attributes.includes('Path=/callback')) {
        if (c.value === '' || c.attributes.includes('Max-Age=0')) p.login.delete(c.name)
        else p.login.set(c.name, c.value)
      }
    return p.jar.take(res)
  }

  /**
   * Goes from `location` (on the gateway: login_path) through the provider and back, until the gateway
   * answers something other than a redirect to the provider or to the callback; returns that answer.
   */
  async function through(p: Person, location: string): Promise<Response> {
    let url = new URL(location, origin)
    for (let hops = 0; hops < 20; hops++) {
      const res = url.origin === origin ? await call(p, url.pathname + url.search) : await p.browser.get(url)
      const next = res.headers.get('location')
      const leaving = url.origin === origin && !url.pathname.startsWith('/login')
      if (next === null || res.status < 300 || res.status >= 400 || leaving) return res
      url = new URL(next, url)
    }
    assert.fail('too many redirects')
  }

  async function signedIn(login: NextLogin): Promise<Person> {
    const p = person()
    op.next = login
    const res = await through(p, '/login?return_to=/api/basket')
    assert.equal(res.status, 302, await res.clone().text())
    assert.equal(res.headers.get('location'), '/api/basket')
    return p
  }

  async function internalToken(res: Response): Promise<JWTPayload> {
    assert.equal(res.status, 200, await res.clone().text())
    const echo = (await res.json()) as EchoBody
    const auth = echo.headers.authorization as string
    const { payload } = await jwtVerify(auth.slice(7), internalJwks, {
      issuer: INTERNAL_ISSUER,
      audience: 'orders',
    })
    return payload
  }

  describe('a browser session', () => {
    it('is sent through the provider for the second factor and comes back to the page with it', async () => {
      const p = await signedIn(PWD)
      // The basket needs only a session.
      assert.deepEqual((await internalToken(await call(p, '/api/basket', { headers: SCRIPT }))).amr, ['pwd'])
      const seen = upstream.requests.length
      const page = await call(p, '/api/orders?from=basket', { headers: PAGE })
      assert.equal(page.status, 302)
      const location = new URL(page.headers.get('location')!, origin)
      assert.equal(location.pathname, '/login')
      assert.deepEqual(Object.fromEntries(location.searchParams), {
        return_to: '/api/orders?from=basket',
        acr_values: ACR_2FA,
        amr: 'mfa',
        max_age: '600',
      })
      assert.equal(upstream.requests.length, seen, 'nothing reached the upstream')
      await gh.waitForLog(
        (l) =>
          l.path === '/api/orders' &&
          l.status === 302 &&
          l.error_code === 'GH_ERR_AUTH_STEP_UP_REQUIRED' &&
          l.error_detail === 'session_step_up_amr',
      )

      op.next = MFA
      const logins = op.logins
      const back = await through(p, location.href)
      assert.equal(back.status, 302, await back.clone().text())
      assert.equal(back.headers.get('location'), '/api/orders?from=basket')
      assert.equal(op.logins, logins + 1, 'the provider asked for a sign-in again')
      assert.deepEqual(op.asked.at(-1), { acr_values: ACR_2FA, max_age: '600', prompt: undefined })

      const claims = await internalToken(await call(p, '/api/orders?from=basket', { headers: PAGE }))
      assert.equal(claims.sub, SUBJECT)
      assert.equal(claims.acr, ACR_2FA)
      assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'])
      assert.ok(Math.abs((claims.auth_time as number) - Date.now() / 1000) < 60)
      const info = (await (await call(p, '/session')).json()) as Record<string, unknown>
      assert.deepEqual([info.acr, info.amr], [ACR_2FA, ['pwd', 'otp', 'mfa']])
    })

    it("answers a script's call with the RFC 9470 challenge and where to step up", async () => {
      const p = await signedIn(PWD)
      const seen = upstream.requests.length
      const res = await call(p, '/api/orders', {
        method: 'POST',
        headers: { ...SCRIPT, origin, 'content-type': 'application/json' },
        body: '{}',
      })
      assert.equal(res.status, 401)
      assert.equal(
        res.headers.get('www-authenticate'),
        `Bearer error="insufficient_user_authentication", error_description="A stronger authentication is required", ${CHALLENGE_ACR}`,
      )
      const body = await assertFetchedError(res, {
        kong: {
          error: 'insufficient_user_authentication',
          error_description: 'A stronger authentication is required',
          message: 'A stronger authentication is required',
          login: `/login?acr_values=${encodeURIComponent(ACR_2FA)}&amr=mfa&max_age=600`,
        },
        code: 'GH_ERR_AUTH_STEP_UP_REQUIRED',
      })
      assert.equal(typeof body.login, 'string')
      assert.equal(upstream.requests.length, seen)
    })

    it('sends a sign-in older than max_age through the provider again, which signs the person in anew', async () => {
      const p = await signedIn({ ...MFA, ts: Math.floor(Date.now() / 1000) - 3600 })
      const page = await call(p, '/api/orders', { headers: PAGE })
      assert.equal(page.status, 302)
      await gh.waitForLog((l) => l.path === '/api/orders' && l.error_detail === 'session_step_up_max_age')
      op.next = MFA
      const logins = op.logins
      const back = await through(p, page.headers.get('location')!)
      assert.equal(back.headers.get('location'), '/api/orders')
      assert.equal(op.logins, logins + 1, 'max_age made the provider ask again')
      const claims = await internalToken(await call(p, '/api/orders', { headers: SCRIPT }))
      assert.ok((claims.auth_time as number) > Date.now() / 1000 - 60)
    })

    it('refuses once, with a page, a step-up the provider did not give (it ignored acr_values)', async () => {
      const p = await signedIn(PWD)
      op.honourAcrValues = false
      const page = await call(p, '/api/orders', { headers: PAGE })
      const logins = op.logins
      const end = await through(p, page.headers.get('location')!)
      assert.equal(end.status, 403)
      assert.match(end.headers.get('content-type') ?? '', /^text\/html/)
      assert.equal(end.headers.get('x-gatehouse-error'), 'GH_ERR_AUTH_STEP_UP_FAILED')
      assert.match(await end.text(), /Stronger sign-in needed/)
      assert.equal(op.logins, logins, 'the provider reused its session: no new sign-in')
      await gh.waitForLog((l) => l.path === '/callback' && l.error_detail === 'session_step_up_unmet')
      // Still signed in (the sign-in was real), still without mfa: the page is refused again, not opened.
      assert.equal((await call(p, '/api/basket', { headers: SCRIPT })).status, 200)
      assert.equal((await call(p, '/api/orders', { headers: SCRIPT })).status, 401)
    })

    it('shows a page when the provider answers unmet_authentication_requirements', async () => {
      const p = await signedIn(PWD)
      const page = await call(p, '/api/orders', { headers: PAGE })
      op.next = { error: 'unmet_authentication_requirements' }
      const end = await through(p, page.headers.get('location')!)
      assert.equal(end.status, 403)
      assert.equal(end.headers.get('x-gatehouse-error'), 'GH_ERR_AUTH_STEP_UP_FAILED')
      assert.match(await end.text(), /could not give the stronger sign-in/)
    })

    it('refuses a login link whose step-up parameters are malformed', async () => {
      for (const query of ['max_age=soon', 'acr_values=', 'prompt=none', 'amr=a%22b']) {
        const res = await fetch(`${origin}/login?${query}`, { redirect: 'manual' })
        assert.equal(res.status, 400, query)
        assert.equal(res.headers.get('x-gatehouse-error'), 'GH_ERR_REQUEST_INVALID')
      }
    })
  })

  describe('a bearer access token (openid-connect)', () => {
    /** An access token for API from a code flow the test runs as the client, signing in as `login`. */
    async function accessToken(login: NextLogin, extra: Record<string, string> = {}): Promise<string> {
      op.next = login
      const config = await client.discovery(
        new URL(op.issuer),
        'shop-web',
        undefined,
        client.ClientSecretBasic(op.clientSecret),
        { execute: [client.allowInsecureRequests] },
      )
      const verifier = client.randomPKCECodeVerifier()
      const state = client.randomState()
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: CLIENT_CALLBACK,
        scope: 'openid api',
        resource: API,
        state,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        ...extra,
      })
      const browser = new Browser()
      const back = await browser.follow(await browser.get(url), op.issuer)
      assert.ok(back instanceof URL, 'the provider redirected to the client')
      const tokens = await client.authorizationCodeGrant(
        config,
        back,
        { pkceCodeVerifier: verifier, expectedState: state },
        { resource: API },
      )
      return tokens.access_token
    }

    const send = (path: string, token: string) =>
      fetch(origin + path, { headers: { authorization: `Bearer ${token}` } })

    it('lets a token with mfa through, and the internal token says how the person signed in', async () => {
      const token = await accessToken(MFA)
      assert.deepEqual(decodeJwt(token).amr, ['pwd', 'otp', 'mfa'])
      const claims = await internalToken(await send('/bearer/orders', token))
      assert.equal(claims.acr, ACR_2FA)
      assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'])
      assert.equal(claims.auth_time, decodeJwt(token).auth_time)
    })

    it('answers a token without mfa with the RFC 9470 challenge, where a route without require lets it in', async () => {
      const token = await accessToken(PWD)
      assert.equal((await send('/bearer/basket', token)).status, 200)
      const res = await send('/bearer/orders', token)
      assert.equal(res.status, 401)
      assert.match(
        res.headers.get('www-authenticate') ?? '',
        new RegExp(
          `^Bearer realm="gatehouse", error="insufficient_user_authentication", error_description="A stronger authentication is required", ${CHALLENGE_ACR}, DPoP algs="[^"]+"$`,
        ),
      )
      await assertFetchedError(res, {
        kong: {
          error: 'insufficient_user_authentication',
          error_description: 'A stronger authentication is required',
        },
        code: 'GH_ERR_AUTH_STEP_UP_REQUIRED',
      })
      await gh.waitForLog((l) => l.path === '/bearer/orders' && l.error_detail === 'oidc_step_up_amr')
    })

    it('answers a token whose auth_time is older than max_age, or missing, with "more recent"', async () => {
      const old = await accessToken({ ...MFA, ts: Math.floor(Date.now() / 1000) - 3600 })
      op.omitAuthTime = true
      const without = await accessToken(MFA)
      assert.equal(decodeJwt(without).auth_time, undefined)
      for (const token of [old, without]) {
        const res = await send('/bearer/orders', token)
        assert.equal(res.status, 401)
        assert.match(
          res.headers.get('www-authenticate') ?? '',
          /error="insufficient_user_authentication", error_description="A more recent authentication is required", acr_values="[^"]+", max_age=600/,
        )
      }
    })
  })
})
