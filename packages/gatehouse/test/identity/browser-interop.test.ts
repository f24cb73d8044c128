/**
 * Interoperability with independent, certified client libraries, the login done by a real browser:
 * openid-client is the relying party (discovery, authorization code + PKCE S256 with state, nonce and a
 * resource, refresh with rotation and reuse detection, userinfo, client_credentials, introspection,
 * revocation, RP-initiated logout), Chromium (Debian's, driven by playwright-core) signs in on our real
 * login and consent pages and lands on the relying party's own callback server, and jose verifies every
 * JWT issued against the provider's remote JWKS. The access token then opens a route guarded by the
 * openid-connect plugin in front of a real upstream.
 *
 * Skipped only when there is no Chromium (CI installs it). Screenshots of the login and consent pages
 * go to a temp dir removed afterwards, or to $GATEHOUSE_TEST_SCREENSHOTS (kept) for a look at them.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { decodeProtectedHeader } from 'jose'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'
import { CHROMIUM, launchBrowser } from '../harness/browser.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { type EchoBody, startUpstream, type Upstream } from '../harness/upstream.ts'
import {
  ALICE,
  BOB,
  freePort,
  identitySection,
  ORDERS_API,
  PARTNER_SECRET,
  WEB_SECRET,
} from './support/gateway.ts'
import { assertNoDevelopmentDefaults, client, configFor, oauthError, TokenVerifier } from './support/oidc.ts'
import { type RelyingParty, startRelyingParty } from './support/relying-party.ts'

const NO_CHROMIUM = existsSync(CHROMIUM)
  ? false
  : `no Chromium at ${CHROMIUM} (CI installs Debian's chromium; GATEHOUSE_TEST_CHROMIUM names another)`

const PROFILE_SECRET = 'profile-app-secret-0123456789abcdefghijklmnopq'
const WEB_SCOPE = 'openid profile email offline_access orders:read'
const INVALID_CREDENTIALS = 'Invalid username or password.'

/** One browser tab in a fresh context (its own cookies), with every request and page problem recorded. */
class Tab {
  readonly context: BrowserContext
  readonly page: Page
  readonly requests: { url: URL; navigation: boolean; type: string }[] = []
  /** Console errors and uncaught page errors (a CSP violation shows up here). */
  readonly problems: string[] = []

  private constructor(context: BrowserContext, page: Page) {
    this.context = context
    this.page = page
    page.on('request', (r) =>
      this.requests.push({
        url: new URL(r.url()),
        navigation: r.isNavigationRequest(),
        type: r.resourceType(),
      }),
    )
    page.on('console', (m) => {
      if (m.type() === 'error') this.problems.push(`console: ${m.text()} (${m.location().url})`)
    })
    page.on('pageerror', (err) => this.problems.push(`page error: ${err.message}`))
  }

  static async open(browser: Browser): Promise<Tab> {
    const context = await browser.newContext({ viewport: { width: 1024, height: 768 } })
    return new Tab(context, await context.newPage())
  }

  /** Clicks a submit button and waits until the next document (after any redirects) has loaded. */
  async submit(button: Locator): Promise<void> {
    const committed = this.page.waitForEvent('framenavigated', {
      predicate: (f) => f === this.page.mainFrame(),
    })
    await button.click()
    await committed
    await this.page.waitForLoadState('load')
  }

  async heading(): Promise<string> {
    const h1 = this.page.locator('h1')
    assert.equal(await h1.count(), 1, 'exactly one h1')
    return text(h1)
  }

  /**
   * Every request went to the provider's origin, except navigations to the relying party (where the
   * provider sends the browser at the end): no external script, style, font, image or beacon.
   */
  assertNoForeignRequests(provider: string, relyingParty: string): void {
    for (const r of this.requests) {
      if (r.url.origin === relyingParty && r.navigation) continue
      assert.equal(r.url.origin, provider, `${r.type} request to ${r.url.href}`)
    }
    assert.deepEqual(this.problems, [])
  }

  close(): Promise<void> {
    return this.context.close()
  }
}

/** Accessible basics of one of our pages: a language, a title, one h1, a label for every field. */
async function assertAccessibleBasics(page: Page, heading: string): Promise<void> {
  assert.match((await page.locator('html').getAttribute('lang')) ?? '', /^[a-z]{2}(-[A-Za-z]{2})?$/)
  assert.ok((await page.title()).trim().length > 0, 'a title')
  assert.deepEqual(
    (await page.locator('h1').allTextContents()).map((t) => t.trim()),
    [heading],
  )
  for (const field of await page.locator('input:not([type=hidden]), select, textarea').all()) {
    const id = await field.getAttribute('id')
    assert.ok(id, `field ${await field.getAttribute('name')} has no id, so no <label for>`)
    const label = page.locator(`label[for="${id}"]`)
    assert.equal(await label.count(), 1, `one label for #${id}`)
    assert.ok((await text(label)).length > 0, `the label of #${id} has text`)
  }
  for (const button of await page.getByRole('button').all())
    assert.ok((await text(button)).length > 0, 'every button has a name')
}

/** A node's text, trimmed ('' for none). */
async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? '').trim()
}

function jwtType(token: string): string | undefined {
  return decodeProtectedHeader(token).typ
}

describe('openid-client and Chromium against the identity provider', { skip: NO_CHROMIUM }, () => {
  let rp: RelyingParty
  let upstream: Upstream
  let gh: GatehouseProcess
  let issuer: string
  let providerOrigin: string
  let browser: Browser
  let shots: string
  const keepShots = process.env.GATEHOUSE_TEST_SCREENSHOTS
  const tabs: Tab[] = []

  let web: client.Configuration
  let profile: client.Configuration
  let backend: client.Configuration
  let verify: TokenVerifier

  // Carried from one step to the next: the signed-in browser and what the flows issued.
  let session: Tab
  let sub: string
  let webTokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers
  let latestIdToken: string
  let profileRefreshToken: string

  before(async () => {
    shots = keepShots ?? mkdtempSync(join(tmpdir(), 'gatehouse-browser-interop-'))
    mkdirSync(shots, { recursive: true })
    rp = await startRelyingParty()
    upstream = await startUpstream()
    const port = await freePort()
    issuer = `http://127.0.0.1:${port}/oidc`
    providerOrigin = new URL(issuer).origin
    const config = {
      _format_version: '3.0',
      identity: identitySection(issuer, {
        clients: [
          {
            client_id: 'web-app',
            client_secret: WEB_SECRET,
            client_name: 'Web App',
            grant_types: ['authorization_code', 'refresh_token'],
            redirect_uris: [rp.callback],
            post_logout_redirect_uris: [rp.loggedOut],
            scopes: ['openid', 'profile', 'email', 'offline_access', 'orders:read'],
            resources: [ORDERS_API],
          },
          {
            // No API: its access tokens are opaque, for userinfo.
            client_id: 'profile-app',
            client_secret: PROFILE_SECRET,
            client_name: 'Profile App',
            redirect_uris: [rp.callback],
            scopes: ['openid', 'profile', 'email'],
          },
          {
            client_id: 'backend',
            client_secret: PARTNER_SECRET,
            client_name: 'Partner Backend',
            grant_types: ['client_credentials'],
            scopes: ['orders:read'],
            resources: [ORDERS_API],
          },
        ],
      }),
      services: [
        {
          name: 'orders',
          url: upstream.url,
          routes: [
            {
              name: 'orders',
              paths: ['/orders'],
              plugins: [
                {
                  name: 'openid-connect',
                  config: {
                    issuer,
                    audience: ORDERS_API,
                    required_scopes: ['orders:read'],
                    claims_to_headers: { country: 'X-User-Country' },
                  },
                },
              ],
            },
          ],
        },
      ],
    }
    gh = await startGatehouse({ config, args: ['--proxy-listen', `127.0.0.1:${port}`] })
    browser = await launchBrowser()
  })

  after(async () => {
    for (const tab of tabs) await tab.close().catch(() => {})
    await browser?.close()
    await gh?.stop()
    await upstream?.close()
    await rp?.close()
    if (keepShots === undefined && shots !== undefined) rmSync(shots, { recursive: true, force: true })
  })

  async function openTab(): Promise<Tab> {
    const tab = await Tab.open(browser)
    tabs.push(tab)
    return tab
  }

  /** An authorization request from the relying party: PKCE (S256), state, nonce; `params` add or override. */
  async function authorize(config: client.Configuration, params: Record<string, string>) {
    const verifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const nonce = client.randomNonce()
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: rp.callback,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
      ...params,
    })
    return { url, verifier, state, nonce }
  }

  /** Allows on the consent page; returns the URL the browser landed on at the relying party. */
  async function allow(tab: Tab): Promise<URL> {
    const landed = rp.next('/cb')
    await tab.submit(tab.page.getByRole('button', { name: 'Allow', exact: true }))
    const callback = await landed
    assert.equal(tab.page.url(), callback.href, 'the browser is on the relying party’s callback')
    return callback
  }

  const gateway = (path: string, token?: string) =>
    fetch(gh.proxyUrl + path, token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {})

  it('discovers the provider with openid-client', async (t) => {
    const started = performance.now()
    web = await configFor(issuer, 'web-app', WEB_SECRET)
    profile = await configFor(issuer, 'profile-app', PROFILE_SECRET)
    backend = await configFor(issuer, 'backend', PARTNER_SECRET)
    verify = new TokenVerifier(web)
    const metadata = web.serverMetadata()
    assert.equal(metadata.issuer, issuer)
    assert.ok(metadata.code_challenge_methods_supported?.includes('S256'))
    for (const endpoint of [
      'authorization_endpoint',
      'token_endpoint',
      'jwks_uri',
      'userinfo_endpoint',
      'introspection_endpoint',
      'revocation_endpoint',
      'end_session_endpoint',
    ] as const)
      assert.ok(String(metadata[endpoint]).startsWith(`${issuer}/`), endpoint)
    t.diagnostic(`discovery ×3: ${Math.round(performance.now() - started)} ms`)
  })

  it('signs in on the login and consent pages in Chromium and lands on the client’s callback', async (t) => {
    let started = performance.now()
    session = await openTab()
    const { page } = session
    const auth = await authorize(web, { scope: WEB_SCOPE, resource: ORDERS_API, prompt: 'consent' })

    await page.goto(auth.url.href)
    assert.equal(new URL(page.url()).origin, providerOrigin)
    assert.equal(await session.heading(), 'Sign in')
    await assertAccessibleBasics(page, 'Sign in')
    assert.match(await text(page.locator('main')), /to continue to Web App/)
    await page.screenshot({ path: join(shots, 'login.png'), fullPage: true })
    t.diagnostic(`authorization → login page: ${Math.round(performance.now() - started)} ms`)

    started = performance.now()
    await page.getByLabel('Username or e-mail', { exact: true }).fill(ALICE.username)
    await page.getByLabel('Password', { exact: true }).fill(ALICE.password)
    await session.submit(page.getByRole('button', { name: 'Sign in', exact: true }))
    assert.equal(await session.heading(), 'Allow access')
    await assertAccessibleBasics(page, 'Allow access')
    const consent = await text(page.locator('main'))
    assert.match(consent, /Web App/)
    assert.match(consent, /orders\.api\.test/)
    assert.match(consent, /orders:read/)
    await page.screenshot({ path: join(shots, 'consent.png'), fullPage: true })
    t.diagnostic(`login submitted → consent page: ${Math.round(performance.now() - started)} ms`)

    started = performance.now()
    const callback = await allow(session)
    assert.equal(callback.origin + callback.pathname, rp.callback)
    assert.equal(callback.searchParams.get('state'), auth.state)
    assert.ok(callback.searchParams.get('code'))
    session.assertNoForeignRequests(providerOrigin, rp.origin)
    t.diagnostic(
      `browser requests: ${session.requests.map((r) => `${r.type} ${r.url.origin === rp.origin ? 'rp' : 'op'}${r.url.pathname}`).join(', ')}`,
    )
    for (const name of ['login.png', 'consent.png']) assert.ok(statSync(join(shots, name)).size > 1000)

    webTokens = await client.authorizationCodeGrant(web, callback, {
      pkceCodeVerifier: auth.verifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
      idTokenExpected: true,
    })
    t.diagnostic(`consent → callback → code exchanged: ${Math.round(performance.now() - started)} ms`)

    // openid-client validated the ID token (signature, iss, aud, nonce, exp); so does jose, by the JWKS.
    const claims = webTokens.claims()!
    assert.equal(claims.iss, issuer)
    assert.equal(claims.aud, 'web-app')
    assert.equal(claims.nonce, auth.nonce)
    sub = claims.sub
    assert.equal((await verify.idToken(webTokens.id_token!, 'web-app')).payload.sub, sub)
    latestIdToken = webTokens.id_token!

    // The access token: RFC 9068, for the API named by `resource`, verified against the remote JWKS.
    assert.equal(jwtType(webTokens.access_token), 'at+jwt')
    const at = await verify.accessToken(webTokens.access_token, ORDERS_API)
    assert.equal(at.payload.iss, issuer)
    assert.equal(at.payload.aud, ORDERS_API)
    assert.equal(at.payload.sub, sub)
    assert.equal(at.payload.client_id, 'web-app')
    assert.equal(at.payload.scope, 'orders:read')
    assert.ok(webTokens.refresh_token)
  })

  it('opens the API route guarded by openid-connect with that access token', async (t) => {
    assert.ok(webTokens, 'needs the previous step')
    const started = performance.now()
    const refused = await gateway('/orders/42')
    assert.equal(refused.status, 401)
    await refused.arrayBuffer()
    const seenBefore = upstream.requests.length

    const res = await gateway('/orders/42', webTokens.access_token)
    assert.equal(res.status, 200)
    const echo = (await res.json()) as EchoBody
    assert.equal(upstream.requests.length, seenBefore + 1)
    assert.equal(echo.url, '/42', 'the route’s path stripped (strip_path defaults to true)')
    assert.equal(echo.headers['x-authenticated-userid'], sub)
    assert.equal(echo.headers['x-consumer-username'], sub)
    assert.equal(echo.headers['x-credential-identifier'], 'web-app')
    assert.equal(echo.headers['x-authenticated-scope'], 'orders:read')
    assert.equal(echo.headers['x-user-country'], 'GB')
    assert.equal(echo.headers['x-consumer-id'], undefined)
    t.diagnostic(
      `gateway 401 + 200 (JWKS fetched by the plugin): ${Math.round(performance.now() - started)} ms`,
    )
  })

  it('rotates the refresh token, and reuse of the old one revokes the grant and the new one', async (t) => {
    assert.ok(webTokens, 'needs the sign-in step')
    const started = performance.now()
    const first = webTokens.refresh_token!
    const refreshed = await client.refreshTokenGrant(web, first)
    assert.ok(refreshed.refresh_token)
    assert.notEqual(refreshed.refresh_token, first)
    assert.notEqual(refreshed.access_token, webTokens.access_token)
    const at = await verify.accessToken(refreshed.access_token, ORDERS_API)
    assert.equal(at.payload.sub, sub)
    assert.equal(refreshed.claims()?.sub, sub)
    assert.equal((await verify.idToken(refreshed.id_token!, 'web-app')).payload.sub, sub)
    latestIdToken = refreshed.id_token!
    const second = refreshed.refresh_token

    assert.equal((await client.tokenIntrospection(web, second)).active, true)
    assert.equal((await oauthError(client.refreshTokenGrant(web, first))).error, 'invalid_grant')
    await gh.waitForLog((l) => l.msg === 'grant revoked')
    assert.equal((await oauthError(client.refreshTokenGrant(web, second))).error, 'invalid_grant')
    assert.equal((await client.tokenIntrospection(web, second)).active, false)
    t.diagnostic(`refresh, reuse detection, introspection: ${Math.round(performance.now() - started)} ms`)
  })

  it('serves userinfo, introspection and revocation for a client’s opaque access token', async (t) => {
    assert.ok(session, 'needs the signed-in browser')
    const started = performance.now()
    const { page } = session
    const auth = await authorize(profile, { scope: 'openid profile email' })
    // Single sign-on: the browser's session is reused, so only this client's consent is asked.
    await page.goto(auth.url.href)
    assert.equal(await session.heading(), 'Allow access')
    assert.match(await text(page.locator('main')), /Profile App/)
    const callback = await allow(session)
    const tokens = await client.authorizationCodeGrant(profile, callback, {
      pkceCodeVerifier: auth.verifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
      idTokenExpected: true,
    })
    assert.equal(tokens.claims()!.sub, sub, 'the same user')
    assert.equal((await verify.idToken(tokens.id_token!, 'profile-app')).payload.sub, sub)
    assert.equal(tokens.access_token.split('.').length, 1, 'an opaque access token, not a JWT')
    assert.ok(tokens.refresh_token)
    profileRefreshToken = tokens.refresh_token

    const info = await client.fetchUserInfo(profile, tokens.access_token, sub)
    assert.equal(info.sub, sub)
    assert.equal(info.preferred_username, 'alice')
    assert.equal(info.name, 'Alice Example')
    assert.equal(info.email, ALICE.email)

    const active = await client.tokenIntrospection(profile, tokens.access_token)
    assert.equal(active.active, true)
    assert.equal(active.client_id, 'profile-app')
    assert.equal(active.sub, sub)
    assert.equal(active.token_type, 'Bearer')
    await client.tokenRevocation(profile, tokens.access_token)
    assert.equal((await client.tokenIntrospection(profile, tokens.access_token)).active, false)
    assert.deepEqual(await oauthError(client.fetchUserInfo(profile, tokens.access_token, sub)), {
      error: 'invalid_token',
      status: 401,
    })
    session.assertNoForeignRequests(providerOrigin, rp.origin)
    t.diagnostic(
      `SSO consent, userinfo, introspection, revocation: ${Math.round(performance.now() - started)} ms`,
    )
  })

  it('issues client_credentials tokens that jose verifies and the guarded route accepts', async (t) => {
    const started = performance.now()
    const tokens = await client.clientCredentialsGrant(backend, {
      scope: 'orders:read',
      resource: ORDERS_API,
    })
    assert.equal(tokens.token_type, 'bearer')
    assert.equal(tokens.refresh_token, undefined)
    assert.equal(jwtType(tokens.access_token), 'at+jwt')
    const { payload } = await verify.accessToken(tokens.access_token, ORDERS_API)
    assert.equal(payload.sub, 'backend')
    assert.equal(payload.client_id, 'backend')
    assert.equal(payload.scope, 'orders:read')

    const res = await gateway('/orders', tokens.access_token)
    assert.equal(res.status, 200)
    const echo = (await res.json()) as EchoBody
    assert.equal(echo.headers['x-authenticated-userid'], 'backend')
    assert.equal(echo.headers['x-credential-identifier'], 'backend')
    assert.equal(echo.headers['x-user-country'], undefined)

    // Structured (JWT) access tokens are self-contained: oidc-provider neither introspects nor revokes
    // them (RFC 7009 §2.2.1's unsupported_token_type); they end at `exp`.
    // One at a time: a second call started beside the first could reject before anything awaits it.
    for (const call of [
      () => client.tokenIntrospection(backend, tokens.access_token),
      () => client.tokenRevocation(backend, tokens.access_token),
    ])
      assert.deepEqual(await oauthError(call()), { error: 'unsupported_token_type', status: 400 })
    t.diagnostic(
      `client_credentials, gateway, introspection/revocation: ${Math.round(performance.now() - started)} ms`,
    )
  })

  it('signs the user out in the browser (RP-initiated logout) and the next authorization asks again', async (t) => {
    assert.ok(session && latestIdToken, 'needs the signed-in browser')
    const started = performance.now()
    const { page } = session
    const logout = client.buildEndSessionUrl(web, {
      id_token_hint: latestIdToken,
      post_logout_redirect_uri: rp.loggedOut,
      state: 'bye',
    })
    await page.goto(logout.href)
    assert.equal(await session.heading(), 'Sign out')
    await assertAccessibleBasics(page, 'Sign out')
    const landed = rp.next('/logged-out')
    await session.submit(page.getByRole('button', { name: 'Yes, sign me out', exact: true }))
    const done = await landed
    assert.equal(page.url(), done.href)
    assert.equal(done.origin + done.pathname, rp.loggedOut)
    assert.equal(done.searchParams.get('state'), 'bye')

    // The session's grants ended with it (profile-app asked for no offline_access).
    assert.equal(
      (await oauthError(client.refreshTokenGrant(profile, profileRefreshToken))).error,
      'invalid_grant',
    )

    const again = await authorize(web, { scope: WEB_SCOPE, resource: ORDERS_API, prompt: 'consent' })
    await page.goto(again.url.href)
    assert.equal(await session.heading(), 'Sign in')
    assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '')
    session.assertNoForeignRequests(providerOrigin, rp.origin)
    t.diagnostic(`logout and a new authorization: ${Math.round(performance.now() - started)} ms`)
  })

  it('answers a wrong password with the generic message, and the page still signs in', async (t) => {
    const started = performance.now()
    const tab = await openTab()
    const { page } = tab
    const auth = await authorize(web, { scope: 'openid orders:read', resource: ORDERS_API })
    await page.goto(auth.url.href)
    assert.equal(await tab.heading(), 'Sign in')

    const attempt = async (username: string, password: string) => {
      await page.getByLabel('Username or e-mail', { exact: true }).fill(username)
      await page.getByLabel('Password', { exact: true }).fill(password)
      await tab.submit(page.getByRole('button', { name: 'Sign in', exact: true }))
    }
    const answers: string[] = []
    for (const username of [BOB.username, 'nobody-by-this-name']) {
      await attempt(username, 'not-the-password-123')
      assert.equal(await tab.heading(), 'Sign in')
      const alert = page.getByRole('alert')
      assert.equal(await text(alert), INVALID_CREDENTIALS)
      assert.equal(await alert.getAttribute('id'), 'login-error')
      for (const field of ['Username or e-mail', 'Password'])
        assert.equal(
          await page.getByLabel(field, { exact: true }).getAttribute('aria-describedby'),
          'login-error',
        )
      assert.equal(await page.getByLabel('Username or e-mail', { exact: true }).inputValue(), username)
      assert.equal(await page.getByLabel('Password', { exact: true }).inputValue(), '')
      await assertAccessibleBasics(page, 'Sign in')
      // The same page whether the user exists or not, the typed username aside.
      answers.push((await text(page.locator('main'))).replace(username, '<username>'))
    }
    assert.equal(answers[0], answers[1], 'no hint whether the user exists')
    assert.ok(!/bob|exist|unknown|not found/i.test(answers[0]!.replace('<username>', '')), answers[0])

    // The same form, still working: the right password goes on to consent, a denial back to the client.
    await attempt(BOB.username, BOB.password)
    assert.equal(await tab.heading(), 'Allow access')
    const landed = rp.next('/cb')
    await tab.submit(page.getByRole('button', { name: 'Deny', exact: true }))
    const callback = await landed
    assert.equal(callback.searchParams.get('error'), 'access_denied')
    assert.equal(callback.searchParams.get('state'), auth.state)
    // A failed sign-in re-renders the form with 200 (a 401 would need a challenge): the console stays clean.
    tab.assertNoForeignRequests(providerOrigin, rp.origin)
    await tab.close()
    t.diagnostic(`two failed logins, one good, denial: ${Math.round(performance.now() - started)} ms`)
  })

  it('logged no error and ran none of oidc-provider’s development defaults', () => {
    assertNoDevelopmentDefaults(gh.stdout + gh.stderr)
    assert.equal(gh.stderr, '')
    assert.deepEqual(
      gh.lines.filter((l) => l.level === 'error' || l.level === 'fatal').map((l) => l.msg),
      [],
    )
  })
})
