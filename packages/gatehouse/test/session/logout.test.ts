/**
 * Logout by POST only (issue 15), end to end: a GET of the logout path shows a confirmation page (the
 * provider's page shell: no script, no framing, no caching) whose form carries the session's CSRF token
 * and logs out nobody; the form's POST ends the session here and sends the browser on to the provider's
 * RP-initiated logout; a POST another site sent is refused (403), with a session or without one.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { formTo } from '../identity/support/browser.ts'
import { ALICE, BOB } from '../identity/support/gateway.ts'
import { SessionGateway, type Signed } from './gateway.ts'
import { Jar, setCookies } from './support.ts'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

describe('logout by POST, after a confirmation page', () => {
  let gw: SessionGateway
  let alice: Signed
  before(async () => {
    gw = await SessionGateway.start()
    alice = await gw.signedIn('', ALICE)
  })
  after(() => gw?.stop())

  const signedIn = async (jar: Jar) => (await gw.info(jar)).authenticated === true

  it('shows a confirmation page on GET, with a form that posts the session’s CSRF token, and logs nobody out', async () => {
    const res = await gw.call(alice.jar, '/logout')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.equal(res.headers.get('x-frame-options'), 'DENY')
    const csp = res.headers.get('content-security-policy')!
    assert.match(csp, /default-src 'none'/)
    assert.match(csp, /frame-ancestors 'none'/)
    assert.doesNotMatch(csp, /script-src|unsafe-inline/)
    assert.equal(setCookies(res).length, 0, 'no cookie cleared')
    const html = await res.text()
    assert.doesNotMatch(html, /<script/i)
    assert.match(html, /<title>Log out<\/title>/)
    assert.match(html, /signed in as <strong>Alice Example<\/strong>/)
    const form = formTo(html, '/logout')
    assert.equal(form.action, '/logout')
    assert.deepEqual(form.fields, { csrf_token: alice.jar.cookies.get('gh_csrf') })
    assert.match(html, /<form method="post"/)

    const head = await gw.call(alice.jar, '/logout', { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.ok(await signedIn(alice.jar), 'still signed in after GET and HEAD')
    assert.equal((await gw.call(alice.jar, '/api/orders')).status, 200)
  })

  it('refuses a POST another site sent, whatever it carries but the token, and keeps the session', async () => {
    const post = (headers: Record<string, string>, body?: string) =>
      gw.call(alice.jar, '/logout', { method: 'POST', headers: { ...FORM, ...headers }, body: body ?? '' })
    for (const [why, headers, body] of [
      ['another origin', { origin: 'https://evil.example' }],
      ['an opaque origin, cross-site', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
      ['another origin, with a wrong token', { origin: 'https://evil.example' }, 'csrf_token=wrong'],
      ['no proof at all', {}],
      ['a wrong token in the form', {}, 'csrf_token=wrong'],
      [
        'a token for another session',
        {},
        `csrf_token=${(await gw.signedIn('', BOB)).jar.cookies.get('gh_csrf')}`,
      ],
    ] as const) {
      const res = await post(headers, body)
      assert.equal(res.status, 403, why)
      assert.match(await res.text(), /did not come from a page of this site/, why)
      assert.equal(setCookies(res).length, 0, `${why}: no cookie cleared`)
    }
    assert.ok(await signedIn(alice.jar))
    // The access log says why, with a stable code and reason.
    for (const reason of ['csrf_origin_mismatch', 'csrf_no_proof', 'csrf_token_mismatch'])
      await gw.gh.waitForLog(
        (l) =>
          l.path === '/logout' &&
          l.status === 403 &&
          l.error_code === 'GH_ERR_AUTH_ACCESS_DENIED' &&
          l.error_detail === reason,
      )
  })

  it('refuses a cross-site POST without a session too, and answers 405 to other methods', async () => {
    const nobody = new Jar()
    for (const headers of [
      { origin: 'https://evil.example' },
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
    ]) {
      const res = await gw.call(nobody, '/logout', { method: 'POST', headers })
      assert.equal(res.status, 403, JSON.stringify(headers))
    }
    const put = await gw.call(alice.jar, '/logout', { method: 'PUT' })
    assert.equal(put.status, 405)
    assert.equal(put.headers.get('allow'), 'GET, HEAD, POST')
  })

  it('refuses a form body far larger than the token (413), without logging out', async () => {
    const res = await gw.call(alice.jar, '/logout', {
      method: 'POST',
      headers: FORM,
      body: `csrf_token=${'x'.repeat(5000)}`,
    })
    assert.equal(res.status, 413)
    assert.ok(await signedIn(alice.jar))
  })

  it('logs out with the confirmation page’s form: here, then at the provider', async () => {
    const page = await gw.call(alice.jar, '/logout')
    const form = formTo(await page.text(), '/logout')
    const res = await gw.call(alice.jar, form.action, {
      method: 'POST',
      headers: FORM,
      body: new URLSearchParams(form.fields).toString(),
    })
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.equal(alice.jar.cookies.has('gh_session'), false, 'cleared')
    assert.equal(alice.jar.cookies.has('gh_csrf'), false, 'cleared')
    const location = new URL(res.headers.get('location')!)
    assert.equal(location.origin + location.pathname, `${gw.issuer}/session/end`)
    assert.ok(location.searchParams.get('id_token_hint'))
    assert.equal(location.searchParams.get('post_logout_redirect_uri'), `${gw.origin}/`)
    assert.equal((await gw.call(alice.jar, '/api/orders')).status, 401)
  })

  it('shows the page without a session, and its POST (this site’s) still goes to the provider’s logout', async () => {
    const nobody = new Jar()
    const page = await gw.call(nobody, '/logout')
    assert.equal(page.status, 200)
    const html = await page.text()
    assert.match(html, /not signed in/)
    assert.deepEqual(formTo(html, '/logout').fields, {}, 'no token to give')
    const res = await gw.call(nobody, '/logout', { method: 'POST', headers: { origin: gw.origin } })
    assert.equal(res.status, 303)
    const location = new URL(res.headers.get('location')!)
    assert.equal(location.origin + location.pathname, `${gw.issuer}/session/end`)
    assert.equal(location.searchParams.get('id_token_hint'), null)
  })
})
