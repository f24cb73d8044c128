/**
 * Attacks on the identity provider, each refused the right way: PKCE missing or wrong, a code used
 * twice, redirect URIs that were not registered (never redirected to: no open redirector), a wrong
 * client secret, forms without their CSRF token, disabled users (including one disabled after signing
 * in), and the pages' own defences (CSP without scripts, no framing, no caching).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Browser, formTo } from './support/browser.ts'
import {
  ALICE,
  BOB,
  CALLBACK,
  CAROL,
  type IdentityGateway,
  ORDERS_API,
  startIdentityGateway,
  storeOf,
  WEB_SECRET,
} from './support/gateway.ts'
import { authorization, client, codeFlow, configFor, oauthError, signIn } from './support/oidc.ts'

const ORDERS = { scope: 'openid orders:read', resource: ORDERS_API }
const INVALID = 'Invalid username or password.'

describe('the identity provider under attack', () => {
  let gw: IdentityGateway
  let web: client.Configuration
  let origin: string
  before(async () => {
    gw = await startIdentityGateway()
    web = await configFor(gw.issuer, 'web-app', WEB_SECRET)
    origin = new URL(gw.issuer).origin
  })
  after(async () => {
    await gw?.gh.stop()
  })

  /** Opens an authorization URL and returns the login page's HTML and form. */
  async function loginPage(browser: Browser, url: URL) {
    const page = await browser.follow(await browser.get(url), origin)
    assert.ok(!(page instanceof URL), `redirected to ${page}`)
    const html = await page.text()
    return { page, html, form: formTo(html, '/login') }
  }

  describe('PKCE and codes', () => {
    it('refuses a code exchanged with the wrong PKCE verifier', async () => {
      const auth = await authorization(web, ORDERS)
      const callback = await signIn(new Browser(), auth.url, ALICE)
      const wrong = client.randomPKCECodeVerifier()
      const refused = await oauthError(
        client.authorizationCodeGrant(web, callback, { pkceCodeVerifier: wrong, expectedState: auth.state }),
      )
      assert.deepEqual(refused, { error: 'invalid_grant', status: 400 })
    })

    it('refuses an authorization request without PKCE, even from a confidential client', async () => {
      const url = client.buildAuthorizationUrl(web, { redirect_uri: CALLBACK, scope: 'openid', state: 's1' })
      const res = await new Browser().get(url)
      assert.equal(res.status, 303)
      const callback = new URL(res.headers.get('location')!)
      assert.equal(callback.origin + callback.pathname, CALLBACK)
      assert.equal(callback.searchParams.get('error'), 'invalid_request')
      assert.match(callback.searchParams.get('error_description')!, /PKCE/)
    })

    it('refuses a code used twice, and revokes what the first use issued', async () => {
      const auth = await authorization(web, {
        ...ORDERS,
        scope: 'openid orders:read offline_access',
        prompt: 'consent',
      })
      const callback = await signIn(new Browser(), auth.url, ALICE)
      const checks = { pkceCodeVerifier: auth.verifier, expectedState: auth.state, expectedNonce: auth.nonce }
      const tokens = await client.authorizationCodeGrant(web, callback, checks)
      assert.deepEqual(await oauthError(client.authorizationCodeGrant(web, callback, checks)), {
        error: 'invalid_grant',
        status: 400,
      })
      assert.equal(
        (await oauthError(client.refreshTokenGrant(web, tokens.refresh_token!))).error,
        'invalid_grant',
      )
    })
  })

  describe('redirect URIs', () => {
    it('shows an error page, and never redirects, for a redirect_uri that was not registered', async () => {
      for (const redirect of ['https://evil.example/cb', `${CALLBACK}/extra`, 'http://127.0.0.1:9/cb?x=1']) {
        const auth = await authorization(web, { redirect_uri: redirect })
        const res = await new Browser().get(auth.url)
        assert.equal(res.status, 400, redirect)
        assert.equal(res.headers.get('location'), null, redirect)
        const html = await res.text()
        assert.match(html, /redirect_uri did not match any of the client&#39;s registered redirect_uris/)
        assert.ok(!html.includes('evil.example'))
        assert.equal(res.headers.get('x-frame-options'), 'DENY')
      }
    })

    it('never redirects for an unknown client, whatever redirect_uri it names', async () => {
      const url = new URL(web.serverMetadata().authorization_endpoint!)
      url.search = new URLSearchParams({
        client_id: 'nobody',
        redirect_uri: 'https://evil.example/cb',
        response_type: 'code',
        scope: 'openid',
      }).toString()
      const res = await fetch(url, { redirect: 'manual' })
      assert.equal(res.status, 400)
      assert.equal(res.headers.get('location'), null)
    })

    it('does not redirect after logout to a post_logout_redirect_uri that was not registered', async () => {
      const browser = new Browser()
      const tokens = await codeFlow(web, BOB, ORDERS, { browser })
      const url = client.buildEndSessionUrl(web, {
        id_token_hint: tokens.id_token!,
        post_logout_redirect_uri: 'https://evil.example/bye',
      })
      const res = await browser.get(url)
      assert.equal(res.status, 400)
      assert.equal(res.headers.get('location'), null)
    })
  })

  it('refuses a wrong client secret with invalid_client', async () => {
    const wrong = await configFor(gw.issuer, 'partner', 'not-the-secret-0123456789abcdefghijklmnop')
    assert.deepEqual(await oauthError(client.clientCredentialsGrant(wrong, { resource: ORDERS_API })), {
      error: 'invalid_client',
      status: 401,
    })
  })

  describe('the login form', () => {
    it('is an accessible page that cannot be framed, cached or made to run scripts', async () => {
      const auth = await authorization(web, ORDERS)
      const { page, html } = await loginPage(new Browser(), auth.url)
      const csp = page.headers.get('content-security-policy')!
      assert.match(csp, /default-src 'none'/)
      assert.match(csp, /frame-ancestors 'none'/)
      // Script only from the provider itself (the passkey script; none on an issuer that is an IP address).
      assert.doesNotMatch(csp, /unsafe-inline|script-src (?!'self';)/)
      assert.equal(page.headers.get('x-frame-options'), 'DENY')
      assert.equal(page.headers.get('cache-control'), 'no-store')
      assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8')
      assert.match(html, /<html lang="en">/)
      assert.match(html, /<h1>Sign in<\/h1>/)
      assert.match(html, /<label for="username">/)
      assert.match(html, /<label for="password">/)
      assert.match(html, /autocomplete="current-password"/)
      assert.doesNotMatch(html, /<script|https?:\/\/(?!127\.0\.0\.1)/)
    })

    it('refuses a login without its CSRF token, or with another interaction’s, with 403', async () => {
      const browser = new Browser()
      const first = await loginPage(browser, (await authorization(web, ORDERS)).url)
      const second = await loginPage(browser, (await authorization(web, ORDERS)).url)
      const action = new URL(second.form.action, origin)
      for (const csrf of [undefined, '', 'forged', first.form.fields['csrf']!]) {
        const fields: Record<string, string> = { ...ALICE }
        if (csrf !== undefined) fields['csrf'] = csrf
        const res = await browser.post(action, fields)
        assert.equal(res.status, 403, String(csrf))
        assert.match(await res.text(), /Form expired/)
      }
      // The real token still works: the refusals changed nothing.
      const res = await browser.post(action, { ...second.form.fields, ...ALICE })
      assert.equal(res.status, 303)
      await gw.gh.waitForLog((l) => l.reason === 'csrf_token_invalid')
    })

    it('refuses a CSRF token without the interaction’s own cookie (another browser)', async () => {
      const { form } = await loginPage(new Browser(), (await authorization(web, ORDERS)).url)
      const res = await new Browser().post(new URL(form.action, origin), { ...form.fields, ...ALICE })
      assert.equal(res.status, 400)
      assert.match(await res.text(), /Sign-in expired/)
    })

    it('answers a wrong password, an unknown user and a disabled user alike', async () => {
      const answers: string[] = []
      for (const credentials of [
        { username: 'alice', password: 'wrong-password-123' },
        { username: 'nobody', password: 'wrong-password-123' },
        CAROL,
      ]) {
        const browser = new Browser()
        const { form } = await loginPage(browser, (await authorization(web, ORDERS)).url)
        const res = await browser.post(new URL(form.action, origin), { ...form.fields, ...credentials })
        assert.equal(res.status, 200)
        const html = await res.text()
        assert.ok(html.includes(INVALID))
        answers.push(html.replace(/value="[^"]*"/g, '').replace(/interaction\/[^/"]+/g, ''))
      }
      assert.equal(new Set(answers).size, 1, 'the three answers differ')
      for (const reason of ['wrong_password', 'unknown_user', 'user_disabled'])
        await gw.gh.waitForLog((l) => l.msg === 'login failed' && l.reason === reason)
      assert.ok(!gw.gh.stdout.includes('wrong-password-123'), 'a password was logged')
      assert.ok(!gw.gh.stdout.includes(CAROL.password), 'a password was logged')
    })

    it('signs in with the e-mail address as well as the username', async () => {
      const tokens = await codeFlow(
        web,
        { username: ALICE.email.toUpperCase(), password: ALICE.password },
        ORDERS,
      )
      assert.ok(tokens.access_token)
    })
  })

  it('refuses the refresh token of a user disabled after signing in, and their session', async () => {
    const browser = new Browser()
    const tokens = await codeFlow(web, BOB, ORDERS, { browser })
    const store = await storeOf(gw.gh)
    try {
      const bob = (await store.users.findByUsername('bob'))!
      await store.users.update(bob.id, { disabled: true })
      assert.equal(
        (await oauthError(client.refreshTokenGrant(web, tokens.refresh_token!))).error,
        'invalid_grant',
      )
      // The session no longer resolves: the login page again, and bob cannot pass it.
      const { form } = await loginPage(browser, (await authorization(web, ORDERS)).url)
      const res = await browser.post(new URL(form.action, origin), { ...form.fields, ...BOB })
      assert.equal(res.status, 200)
      await store.users.update(bob.id, { disabled: false })
      assert.ok((await client.refreshTokenGrant(web, tokens.refresh_token!)).access_token)
    } finally {
      await store.close()
    }
  })
})
