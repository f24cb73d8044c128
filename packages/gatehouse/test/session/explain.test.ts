/**
 * POST /explain (issue 12) on routes of the session plugin: a dry run reads the session as a real
 * request does, but ends none, refreshes none, sets and clears no cookie and runs none of the plugin's
 * own paths; it says so instead. The answer never holds the session cookie.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { SessionGateway, type Signed, UNTIL_REFRESH_MS } from './gateway.ts'
import { Jar, setCookies } from './support.ts'

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field
type Json = any

describe('POST /explain on the session plugin’s routes', () => {
  let gw: SessionGateway
  let alice: Signed
  before(async () => {
    gw = await SessionGateway.start()
    alice = await gw.signedIn()
  })
  after(() => gw?.stop())

  async function explain(body: unknown): Promise<{ body: Json; text: string }> {
    const res = await gw.gh.admin('/explain', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const text = await res.text()
    assert.equal(res.status, 200, text)
    return { body: JSON.parse(text), text }
  }

  const verdicts = (answer: Json) => answer.plugins.map((p: Json) => [p.name, p.verdict])

  it('explains a signed-in browser: the session passes, and internal-token says what it would mint', async () => {
    const cookie = alice.jar.cookies.get('gh_session')!
    const r = await explain({ route: 'orders', headers: { Cookie: alice.jar.header() } })
    assert.deepEqual(verdicts(r.body), [
      ['session', 'passed'],
      ['internal-token', 'passed'],
    ])
    assert.equal(r.body.caller.method, 'session')
    assert.equal(r.body.plugins[1].notes.internal_token.claims.sub, r.body.caller.subject)
    assert.equal(r.body.outcome.result, 'forwarded')
    assert.ok(!r.text.includes(cookie), 'the session cookie is not in the answer')
    const sent = r.body.request.sent.find((s: Json) => s.name === 'gh_session')
    assert.deepEqual([sent.where, sent.looks_like.type], ['cookie', 'a value'])
  })

  it('explains a tampered cookie as a real request refuses it, but clears no cookie', async () => {
    const parts = alice.jar.cookies.get('gh_session')!.split('.')
    parts[3] = (parts[3]![0] === 'A' ? 'B' : 'A') + parts[3]!.slice(1)
    const forged = new Jar()
    forged.cookies.set('gh_session', parts.join('.'))
    const r = await explain({ route: 'plain', headers: { Cookie: forged.header() } })
    const session = r.body.plugins[0]
    assert.deepEqual(
      [session.verdict, session.status, session.code, session.reason],
      ['refused', 401, 'GH_ERR_AUTH_CREDENTIALS_INVALID', 'session_invalid'],
    )
    assert.match(session.notes.session, /a real request ends what is left of it and clears its cookies/)
    assert.equal(r.body.outcome.headers['set-cookie'], undefined, 'the dry run sets no cookie')
    const real = await gw.call(forged, '/api/plain')
    assert.equal(real.status, 401)
    assert.ok(
      setCookies(real).some((c) => c.name === 'gh_session' && c.value === ''),
      'the real one clears it',
    )
  })

  it('does not run the plugin’s own paths: no sign-in is started', async () => {
    const r = await explain({ route: 'browser', path: '/login' })
    assert.deepEqual(verdicts(r.body), [['session', 'answered']])
    assert.match(
      r.body.plugins[0].why,
      /login_path: the sign-in starts \(\/login\) itself; not run in a dry run/,
    )
    assert.deepEqual(
      [r.body.outcome.result, r.body.outcome.by, r.body.outcome.status],
      ['answered', 'session', null],
    )
  })

  it('says a refresh is due without refreshing; the browser’s own request then refreshes', async () => {
    await sleep(UNTIL_REFRESH_MS)
    const r = await explain({ route: 'orders', headers: { Cookie: alice.jar.header() } })
    assert.equal(r.body.plugins[0].verdict, 'passed')
    // Within refresh_before, or already expired when the machine is slow: either way a refresh is due.
    assert.match(
      r.body.plugins[0].notes.refresh,
      /a real request refreshes it (at the provider )?now.*; not (done|asked) in a dry run/,
    )
    const before = alice.jar.cookies.get('gh_session')
    const real = await gw.call(alice.jar, '/api/orders')
    assert.equal(real.status, 200)
    assert.notEqual(alice.jar.cookies.get('gh_session'), before, 'the real request refreshed and resealed it')
  })
})
