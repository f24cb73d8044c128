/**
 * Browser sessions kept at the gateway (storage: server), end to end: the cookie holds only a random id,
 * refreshes change nothing in the browser, a made-up id finds nothing, sessions outlive a configuration
 * reload, a refresh the provider refuses ends the session, and logout deletes it.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { BOB, storeOf } from '../identity/support/gateway.ts'
import { DAVE, DAVE_SUB, SessionGateway, type Signed, UNTIL_REFRESH_MS } from './gateway.ts'
import { Jar, setCookies } from './support.ts'

describe('browser sessions kept at the gateway', () => {
  let gw: SessionGateway
  before(async () => {
    gw = await SessionGateway.start()
  })
  after(() => gw?.stop())

  let bob: Signed

  it('signs in and keeps only a random id in the cookie', async () => {
    bob = await gw.signedIn('/s', BOB)
    assert.equal(bob.callback.status, 302)
    assert.equal(bob.callback.headers.get('location'), '/')
    const id = bob.jar.cookies.get('gh_sid')!
    assert.match(id, /^[\w-]{43}$/)
    const body = await gw.info(bob.jar, '/s')
    assert.equal(body.authenticated, true)
    assert.equal(body.name, 'Bob Example')
  })

  it('authenticates API calls and refreshes without changing the cookie', async () => {
    const first = await gw.internalToken(await gw.echoed(await gw.call(bob.jar, '/s/api/orders')))
    const id = bob.jar.cookies.get('gh_sid')
    await sleep(UNTIL_REFRESH_MS)
    const answers = await Promise.all(Array.from({ length: 4 }, () => gw.call(bob.jar, '/s/api/orders')))
    for (const res of answers) {
      assert.equal(res.status, 200)
      assert.equal(setCookies(res).length, 0)
    }
    await sleep(UNTIL_REFRESH_MS)
    const later = await gw.internalToken(await gw.echoed(await gw.call(bob.jar, '/s/api/orders')))
    assert.equal(later.sub, first.sub)
    assert.equal(bob.jar.cookies.get('gh_sid'), id)
  })

  it('refuses a made-up session id', async () => {
    const forged = new Jar()
    forged.cookies.set('gh_sid', 'A'.repeat(43))
    assert.equal((await gw.call(forged, '/s/api/orders')).status, 401)
  })

  it('keeps its sessions across a configuration reload', async () => {
    const before = new Set(gw.gh.lines)
    gw.gh.signal('SIGHUP')
    await gw.gh.waitForLog((l) => !before.has(l) && l.msg === 'configuration loaded')
    assert.equal((await gw.call(bob.jar, '/s/api/orders')).status, 200)
  })

  it('ends the stored session at logout, so the old id is refused', async () => {
    const id = bob.jar.cookies.get('gh_sid')!
    const csrf = bob.jar.cookies.get('gh_sid_csrf')!
    const res = await gw.call(bob.jar, '/s/logout', { method: 'POST', headers: { 'x-csrf-token': csrf } })
    assert.equal(res.status, 303)
    const location = new URL(res.headers.get('location')!)
    assert.equal(location.searchParams.get('post_logout_redirect_uri'), `${gw.origin}/s/bye`)
    const replay = new Jar()
    replay.cookies.set('gh_sid', id)
    assert.equal((await gw.call(replay, '/s/api/orders')).status, 401)
    assert.deepEqual(await gw.info(replay, '/s'), { authenticated: false })
  })

  it('identifies a consumer named by the subject, and ends the session when the provider refuses the refresh', async () => {
    const dave = await gw.signedIn('/s', DAVE)
    // His subject is a consumer's username: the session identifies that consumer, as a bearer token would.
    const echo = await gw.echoed(await gw.call(dave.jar, '/s/api/orders'))
    assert.equal(echo.headers['x-consumer-username'], DAVE_SUB)
    assert.equal(echo.headers['x-consumer-custom-id'], 'crm-42')
    assert.ok(echo.headers['x-consumer-id'])
    assert.deepEqual((await gw.internalToken(echo)).consumer, {
      id: echo.headers['x-consumer-id'],
      username: DAVE_SUB,
      custom_id: 'crm-42',
    })
    const store = await storeOf(gw.gh)
    try {
      const user = (await store.users.findByUsername(DAVE.username))!
      await store.users.update(user.id, { disabled: true })
    } finally {
      await store.close()
    }
    await sleep(UNTIL_REFRESH_MS)
    const res = await gw.call(dave.jar, '/s/api/orders')
    assert.equal(res.status, 401)
    assert.equal(dave.jar.cookies.has('gh_sid'), false, 'the cookie is cleared')
    await gw.gh.waitForLog(
      (l) => l.msg === 'session refresh refused; session ended' && l.reason === 'invalid_grant',
    )
    assert.deepEqual(await gw.info(dave.jar, '/s'), { authenticated: false })
  })
})
