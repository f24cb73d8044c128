/**
 * Browser sessions with the session sealed in the cookie (storage: cookie), end to end: a sign-in through
 * the provider's login and consent pages to the gateway's callback; the session info; API calls whose
 * upstream gets an internal token for the signed-in user (verified with jose against the gateway's JWKS)
 * or the provider's access token, and never the cookie; no session, optional and anonymous routes;
 * redirect URIs and Secure cookies behind a trusted proxy; tampered cookies; CSRF; refresh before expiry
 * (once for concurrent calls, with the rotated refresh token kept, and a stale cookie served the newer
 * session); logout here and at the provider.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { decodeJwt, jwtVerify } from 'jose'
import { assertFetchedError } from '../harness/error-body.ts'
import { formTo } from '../identity/support/browser.ts'
import { ALICE, ORDERS_API } from '../identity/support/gateway.ts'
import { SessionGateway, type Signed, UNTIL_REFRESH_MS } from './gateway.ts'
import { Jar, setCookies } from './support.ts'

describe('browser sessions kept in an encrypted cookie', () => {
  let gw: SessionGateway
  before(async () => {
    gw = await SessionGateway.start()
  })
  after(() => gw?.stop())

  let alice: Signed
  let subject: string

  it('signs in through the provider’s login and consent pages and sets an HttpOnly, SameSite=Lax cookie', async () => {
    alice = await gw.signedIn('', ALICE, `?return_to=${encodeURIComponent('/shop/basket?x=1')}`)
    assert.deepEqual(alice.pages, ['Sign in', 'Allow access'])
    const res = alice.callback
    assert.equal(res.status, 302)
    assert.equal(res.headers.get('location'), '/shop/basket?x=1')
    assert.equal(res.headers.get('cache-control'), 'no-store')
    const cookies = new Map(setCookies(res).map((c) => [c.name, c]))
    const session = cookies.get('gh_session')!
    assert.match(session.value, /^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWE (dir: no encrypted key)')
    assert.ok(session.attributes.includes('HttpOnly'))
    assert.ok(session.attributes.includes('SameSite=Lax'))
    assert.ok(session.attributes.includes('Path=/'))
    assert.ok(!session.attributes.includes('Secure'), 'plain http here: Secure would drop it')
    assert.ok(session.value.length + 'gh_session='.length <= 4000)
    const csrf = cookies.get('gh_csrf')!
    assert.ok(!csrf.attributes.includes('HttpOnly'), 'the page reads it')
    const login = cookies.get('gh_session_login')!
    assert.equal(login.value, '')
    assert.ok(login.attributes.includes('Path=/callback'))
  })

  it('says who is signed in at /session, without any token', async () => {
    const body = await gw.info(alice.jar)
    assert.equal(body.authenticated, true)
    assert.equal(body.name, 'Alice Example')
    assert.equal(body.email, ALICE.email)
    assert.equal(body.csrf_token, alice.jar.cookies.get('gh_csrf'))
    assert.ok(Number(body.expires_at) > Date.now() / 1000)
    assert.deepEqual(Object.keys(body).sort(), [
      // How alice signed in (step-up, issue 14): null where the provider's ID token does not say.
      'acr',
      'amr',
      'auth_time',
      'authenticated',
      'csrf_token',
      'email',
      'expires_at',
      'name',
      'session_id',
      'subject',
    ])
    assert.match(String(body.session_id), /^[\w-]{32}$/, 'a public id, for POST /revocations')
    subject = body.subject as string
    assert.ok(subject)
    assert.deepEqual(await gw.info(new Jar()), { authenticated: false })
  })

  it('sends the upstream an internal token for the signed-in user, and not the session cookie', async () => {
    const echo = await gw.echoed(await gw.call(alice.jar, '/api/orders', {}, { theme: 'dark' }))
    const claims = await gw.internalToken(echo)
    assert.equal(claims.sub, subject)
    assert.equal(claims.sub_type, 'user')
    assert.equal(claims.client_id, 'shop-web')
    assert.deepEqual(claims.auth, { method: 'session', iss: gw.issuer })
    assert.equal(echo.headers.cookie, 'theme=dark', 'only the page’s own cookies go upstream')
    assert.equal(echo.headers['x-authenticated-userid'], subject)
    assert.equal(echo.headers['x-credential-identifier'], 'shop-web')
  })

  it('never lets an upstream set the session’s own cookies: a service cannot sign the browser into another session', async () => {
    const forged = [
      'gh_session=forged; Path=/; HttpOnly',
      'gh_session_login=forged; Path=/',
      'gh_csrf=forged; Path=/',
      'theme=dark; Path=/',
    ]
    const before = alice.jar.cookies.get('gh_session')
    const res = await gw.call(alice.jar, '/api/orders', {
      headers: { 'x-test-set-cookie': JSON.stringify(forged) },
    })
    assert.equal(res.status, 200)
    assert.deepEqual(
      setCookies(res).map((c) => `${c.name}=${c.value}`),
      ['theme=dark'],
      'the service’s own cookie passes; the gateway’s do not',
    )
    assert.equal(alice.jar.cookies.get('gh_session'), before)
    assert.equal((await gw.info(alice.jar)).authenticated, true)
  })

  it('forwards the provider’s access token itself on a route in forward mode', async () => {
    const echo = await gw.echoed(await gw.call(alice.jar, '/api/token'))
    const token = (echo.headers.authorization as string).slice(7)
    const { payload } = await jwtVerify(token, gw.providerJwks, {
      issuer: gw.issuer,
      audience: ORDERS_API,
      typ: 'at+jwt',
    })
    assert.equal(payload.sub, subject)
    assert.equal(payload.client_id, 'shop-web')
  })

  it('answers 401 without a session, and lets an optional route through with no caller', async () => {
    const seen = gw.upstream.requests.length
    const res = await gw.call(new Jar(), '/api/orders')
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Session')
    await assertFetchedError(res, {
      kong: { message: 'Unauthorized', login: '/login' },
      code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
    })
    assert.equal(gw.upstream.requests.length, seen, 'nothing went upstream')
    const echo = await gw.echoed(await gw.call(new Jar(), '/api/public'))
    assert.equal(echo.headers.authorization, undefined)
    assert.equal(echo.headers['x-authenticated-userid'], undefined)
  })

  it('continues as the anonymous consumer without a session where one is configured', async () => {
    const echo = await gw.echoed(await gw.call(new Jar(), '/api/guest'))
    assert.equal(echo.headers['x-consumer-username'], 'guest')
    assert.equal(echo.headers['x-anonymous-consumer'], 'true')
    const signed = await gw.echoed(await gw.call(alice.jar, '/api/guest'))
    assert.equal(signed.headers['x-authenticated-userid'], subject)
    assert.equal(signed.headers['x-anonymous-consumer'], undefined)
  })

  it('makes the redirect URI and Secure cookies from the scheme and host the browser used (trusted proxy)', async () => {
    const res = await fetch(`${gw.gh.proxyUrl}/login?return_to=/x`, {
      redirect: 'manual',
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' },
    })
    assert.equal(res.status, 302)
    const location = new URL(res.headers.get('location')!)
    assert.equal(location.origin + location.pathname, `${gw.issuer}/auth`)
    assert.equal(location.searchParams.get('redirect_uri'), 'https://shop.example/callback')
    assert.equal(location.searchParams.get('code_challenge_method'), 'S256')
    assert.equal(location.searchParams.get('resource'), ORDERS_API)
    for (const name of ['state', 'nonce', 'code_challenge']) assert.ok(location.searchParams.get(name), name)
    const login = setCookies(res).find((c) => c.name === 'gh_session_login')!
    assert.ok(login.attributes.includes('Secure'))
    assert.ok(login.attributes.includes('HttpOnly'))
    assert.ok(login.attributes.includes('SameSite=Lax'))
  })

  it('ignores and clears a tampered session cookie', async () => {
    const value = alice.jar.cookies.get('gh_session')!
    const parts = value.split('.')
    const ciphertext = parts[3]!
    parts[3] = (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1)
    const forged = new Jar()
    forged.cookies.set('gh_session', parts.join('.'))
    const res = await gw.call(forged, '/api/orders')
    assert.equal(res.status, 401)
    assert.equal(((await res.json()) as { login: string }).login, '/login')
    const cleared = setCookies(res).find((c) => c.name === 'gh_session')!
    assert.equal(cleared.value, '')
    assert.ok(cleared.attributes.includes('Max-Age=0'))
    // A cookie the gateway sealed for a sign-in in progress does not open as a session.
    const start = await fetch(`${gw.gh.proxyUrl}/login`, { redirect: 'manual' })
    const sealed = setCookies(start).find((c) => c.name === 'gh_session_login')!.value
    const other = new Jar()
    other.cookies.set('gh_session', sealed)
    assert.equal((await gw.call(other, '/api/orders')).status, 401)
  })

  it('refuses a state-changing call from another site, and accepts one from this site or with the CSRF token', async () => {
    const post = (headers: Record<string, string>) =>
      gw.call(alice.jar, '/api/orders', {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json', ...headers },
      })
    const foreign = await post({ origin: 'https://evil.example' })
    assert.equal(foreign.status, 403)
    assert.match(((await foreign.json()) as { message: string }).message, /Cross-site request refused/)
    assert.equal((await post({})).status, 403, 'neither Origin nor token')
    assert.equal(
      (await post({ origin: gw.origin, 'x-csrf-token': 'wrong' })).status,
      200,
      'this site’s Origin',
    )
    assert.equal((await post({ 'x-csrf-token': 'wrong' })).status, 403)
    const token = alice.jar.cookies.get('gh_csrf')!
    assert.equal((await post({ origin: 'https://evil.example', 'x-csrf-token': token })).status, 200)
    assert.equal((await post({ referer: `${gw.origin}/shop/basket` })).status, 200, 'Referer when no Origin')
    const echo = await gw.echoed(await post({ 'x-csrf-token': token }))
    assert.equal(echo.method, 'POST')
  })

  it('refreshes the access token before it expires (one refresh for concurrent calls), rotating the refresh token', async () => {
    const first = decodeJwt(
      ((await gw.echoed(await gw.call(alice.jar, '/api/token'))).headers.authorization as string).slice(7),
    )
    const before = alice.jar.cookies.get('gh_session')
    for (let round = 0; round < 2; round++) {
      await sleep(UNTIL_REFRESH_MS)
      // Concurrent calls with the same cookie: one refresh; a second use of the refresh token would
      // make the provider revoke the grant, and every later refresh would fail.
      const answers = await Promise.all(Array.from({ length: 5 }, () => gw.call(alice.jar, '/api/token')))
      for (const res of answers) assert.equal(res.status, 200)
    }
    const latest = decodeJwt(
      ((await gw.echoed(await gw.call(alice.jar, '/api/token'))).headers.authorization as string).slice(7),
    )
    assert.notEqual(latest.jti, first.jti)
    assert.ok(latest.exp! > first.exp!)
    assert.equal(latest.sub, first.sub)
    assert.notEqual(alice.jar.cookies.get('gh_session'), before, 'the cookie carries the new tokens')
    const claims = await gw.internalToken(await gw.echoed(await gw.call(alice.jar, '/api/orders')))
    assert.equal(claims.sub, subject)
  })

  it('serves a request still carrying the cookie from before a refresh with the refreshed session', async () => {
    const stale = new Jar()
    for (const [k, v] of alice.jar.cookies) stale.cookies.set(k, v)
    await sleep(UNTIL_REFRESH_MS)
    assert.equal((await gw.call(alice.jar, '/api/orders')).status, 200)
    // The old cookie names a refresh token that was just used: the gateway must not present it again.
    const res = await gw.call(stale, '/api/token')
    assert.equal(res.status, 200)
    assert.ok(
      setCookies(res).some((c) => c.name === 'gh_session' && c.value !== ''),
      'the newer cookie',
    )
    assert.equal((await gw.call(alice.jar, '/api/orders')).status, 200)
  })

  it('logs out here and at the provider: the session is gone, and the next sign-in asks for the password', async () => {
    const copy = alice.jar.cookies.get('gh_session')!
    const post = await gw.call(alice.jar, '/logout', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
    })
    assert.equal(post.status, 403, 'another site cannot sign the user out')

    // GET shows a confirmation page; its form's POST logs out.
    const confirm = formTo(await (await alice.browser.get(`${gw.gh.proxyUrl}/logout`)).text(), '/logout')
    const res = await alice.browser.post(new URL(confirm.action, gw.origin), confirm.fields)
    assert.equal(res.status, 303)
    alice.jar.take(res)
    assert.equal(alice.jar.cookies.has('gh_session'), false)
    const location = new URL(res.headers.get('location')!)
    assert.equal(location.origin + location.pathname, `${gw.issuer}/session/end`)
    assert.ok(location.searchParams.get('id_token_hint'))
    assert.equal(location.searchParams.get('post_logout_redirect_uri'), `${gw.origin}/`)
    const page = await alice.browser.get(location)
    const form = formTo(await page.text(), '/session/end/confirm')
    const done = await alice.browser.post(new URL(form.action, gw.origin), { ...form.fields, logout: 'yes' })
    assert.equal(new URL(done.headers.get('location')!, gw.origin).href, `${gw.origin}/`)

    assert.equal((await gw.call(alice.jar, '/api/orders')).status, 401)
    const replay = new Jar()
    replay.cookies.set('gh_session', copy)
    assert.equal(
      (await gw.call(replay, '/api/orders')).status,
      401,
      'a copy of the old cookie is refused too',
    )

    const again = await alice.browser.get(`${gw.gh.proxyUrl}/login`)
    let next = await alice.browser.get(new URL(again.headers.get('location')!))
    while (next.status >= 300 && next.status < 400)
      next = await alice.browser.get(new URL(next.headers.get('location')!, gw.origin))
    assert.match(await next.text(), /<title>Sign in<\/title>/)
  })
})
