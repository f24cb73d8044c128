/**
 * Sign-ins that go wrong end on a small page with a link to try again, never in a session: a state that
 * does not match, a missing sign-in cookie, a user who denies consent (4xx, not a 500), a provider that
 * cannot be reached (502), tokens too large for the cookie (500: the operator must change the storage);
 * and nothing secret is ever logged.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ALICE } from '../identity/support/gateway.ts'
import { DAVE, SessionGateway } from './gateway.ts'
import { Browser, setCookies, signIn } from './support.ts'

describe('sign-ins that go wrong', () => {
  let gw: SessionGateway
  before(async () => {
    gw = await SessionGateway.start()
  })
  after(() => gw?.stop())

  it('shows a page and creates no session when the state does not match', async () => {
    const browser = new Browser()
    const start = await browser.get(`${gw.gh.proxyUrl}/login`)
    assert.equal(start.status, 302)
    const res = await browser.get(
      `${gw.gh.proxyUrl}/callback?code=abc&state=not-the-one&iss=${encodeURIComponent(gw.issuer)}`,
    )
    assert.equal(res.status, 400)
    assert.match(res.headers.get('content-type')!, /text\/html/)
    assert.match(await res.text(), /Sign-in not recognised[\s\S]*href="\/login"/)
    assert.ok(!setCookies(res).some((c) => c.name === 'gh_session'))
  })

  it('shows a page when the sign-in cookie is missing or the provider reports an error', async () => {
    const res = await fetch(`${gw.gh.proxyUrl}/callback?code=abc&state=xyz`)
    assert.equal(res.status, 400)
    assert.match(await res.text(), /Sign-in expired/)

    const denied = await signIn(new Browser(), `${gw.gh.proxyUrl}/login`, '/callback', DAVE, 'deny')
    assert.deepEqual(denied.pages, ['Sign in', 'Allow access'])
    assert.equal(denied.callback.status, 403)
    assert.match(await denied.callback.text(), /Sign-in cancelled/)
    assert.ok(!setCookies(denied.callback).some((c) => c.name === 'gh_session' && c.value !== ''))
  })

  it('refuses to store a session that does not fit in the cookie, and says what to do', async () => {
    const done = await signIn(new Browser(), `${gw.gh.proxyUrl}/tiny/login`, '/tiny/callback', ALICE)
    assert.equal(done.callback.status, 500)
    assert.match(await done.callback.text(), /storage: redis or server/)
    assert.ok(!setCookies(done.callback).some((c) => c.name === 'gh_tiny' && c.value !== ''))
    await gw.gh.waitForLog(
      (l) => l.msg.startsWith('session cookie too large') && l.msg.includes('storage: redis'),
    )
  })

  it('says so on a page when the provider cannot be reached, and still logs out at the gateway', async () => {
    const res = await fetch(`${gw.origin}/down/login`, { redirect: 'manual' })
    assert.equal(res.status, 502)
    assert.match(await res.text(), /cannot be reached/)
    const out = await fetch(`${gw.origin}/down/logout`, { method: 'POST', redirect: 'manual' })
    assert.equal(out.status, 303)
    assert.equal(out.headers.get('location'), `${gw.origin}/`)
    assert.ok(setCookies(out).some((c) => c.name === 'gh_down' && c.value === ''))
  })

  it('never wrote a token or cookie value to its logs, and logged errors only for the oversized session', () => {
    const out = gw.gh.stdout + gw.gh.stderr
    assert.doesNotMatch(out, /eyJ[\w-]{20,}\.[\w-]{20,}/, 'no JWT or JWE')
    assert.doesNotMatch(out, /"(access_token|refresh_token|id_token|cookie|set-cookie)":"/)
    const errors = gw.gh.lines.filter((l) => l.level === 'error')
    assert.ok(errors.length > 0)
    for (const line of errors)
      assert.ok(
        line.msg.startsWith('session cookie too large') || line.detail === 'session_cookie_too_large',
        JSON.stringify(line),
      )
  })
})
