/**
 * Brute-force protection of the login form: each recent failure slows the next answer by `backoff`,
 * `max_failures` lock the account (and 4× that the client address) for `lockout` seconds, a locked
 * login gets the same answer as a wrong password (even with the right one), and clearing the lock in
 * the store (what `gatehouse users unlock` does) lets the user in again.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Browser, formTo } from './support/browser.ts'
import {
  ALICE,
  BOB,
  type IdentityGateway,
  ORDERS_API,
  startIdentityGateway,
  storeOf,
  WEB_SECRET,
} from './support/gateway.ts'
import { authorization, type client, configFor } from './support/oidc.ts'

const BACKOFF = 200
const MAX_FAILURES = 3
const INVALID = 'Invalid username or password.'

describe('brute-force protection of the login form', () => {
  let gw: IdentityGateway
  let web: client.Configuration
  before(async () => {
    gw = await startIdentityGateway({
      identity: { login: { max_failures: MAX_FAILURES, lockout: 60, backoff: BACKOFF } },
    })
    web = await configFor(gw.issuer, 'web-app', WEB_SECRET)
  })
  after(async () => {
    await gw?.gh.stop()
  })

  /** One login attempt on a fresh login page: status, time taken and whether the answer was the generic one. */
  async function attempt(credentials: { username: string; password: string }) {
    const browser = new Browser()
    const auth = await authorization(web, { scope: 'openid', resource: ORDERS_API })
    const page = await browser.follow(await browser.get(auth.url), new URL(gw.issuer).origin)
    assert.ok(!(page instanceof URL))
    const form = formTo(await page.text(), '/login')
    const started = performance.now()
    const res = await browser.post(new URL(form.action, gw.issuer), { ...form.fields, ...credentials })
    const ms = performance.now() - started
    return { status: res.status, ms, generic: (await res.text()).includes(INVALID) }
  }

  it('slows each failure down, then locks the account even for the right password', async () => {
    const times: number[] = []
    for (let i = 0; i < MAX_FAILURES; i++) {
      const r = await attempt({ username: 'alice', password: `wrong-password-${i}` })
      assert.deepEqual([r.status, r.generic], [200, true])
      times.push(r.ms)
    }
    // Failure n waits (n-1) × backoff before its password is even checked.
    for (let i = 1; i < MAX_FAILURES; i++)
      assert.ok(times[i]! >= i * BACKOFF, `attempt ${i + 1}: ${times[i]} ms`)
    await gw.gh.waitForLog((l) => l.msg === 'login failed' && l.locked === 'account')

    const locked = await attempt(ALICE)
    assert.deepEqual([locked.status, locked.generic], [200, true])
    assert.ok(locked.ms >= MAX_FAILURES * BACKOFF)
    await gw.gh.waitForLog((l) => l.msg === 'login failed' && l.reason === 'account_locked')
  })

  it('lets the user in again once the lock is cleared, and a success resets the count', async () => {
    const store = await storeOf(gw.gh)
    try {
      await store.throttle.clear('user:alice')
      const ok = await attempt(ALICE)
      assert.equal(ok.status, 303)
      assert.equal(await store.throttle.get('user:alice'), undefined)
    } finally {
      await store.close()
    }
  })

  it('locks the client address after 4× the failures, across usernames', async () => {
    const store = await storeOf(gw.gh)
    try {
      const counted = (await store.throttle.get('ip:127.0.0.1'))?.failures ?? 0
      for (let i = counted; i < 4 * MAX_FAILURES; i++) {
        const r = await attempt({ username: `guess-${i}`, password: 'wrong-password-x' })
        assert.deepEqual([r.status, r.generic], [200, true])
      }
      await gw.gh.waitForLog((l) => l.msg === 'login failed' && l.locked === 'ip')
      const blocked = await attempt(BOB)
      assert.deepEqual([blocked.status, blocked.generic], [200, true])
      await gw.gh.waitForLog((l) => l.reason === 'address_locked')

      await store.throttle.clear('ip:127.0.0.1')
      assert.equal((await attempt(BOB)).status, 303)
    } finally {
      await store.close()
    }
  })
})
