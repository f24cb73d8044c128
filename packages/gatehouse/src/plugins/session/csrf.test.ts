import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type CsrfCheck, CsrfGuard } from './csrf.ts'

const OWN = 'https://shop.example'
const TOKEN = 'the-session-csrf-token'

function guard(check: CsrfCheck = 'origin-or-token') {
  return new CsrfGuard({ check, allowedOrigins: ['https://admin.shop.example'], header: 'x-csrf-token' })
}

describe('the CSRF check', () => {
  it('lets safe methods through whatever they carry', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS'])
      assert.equal(guard('token').check(method, { origin: 'https://evil.example' }, OWN, TOKEN), null)
  })

  it('accepts an unsafe request from this origin or an allowed one, and refuses another', () => {
    const g = guard()
    assert.equal(g.check('POST', { origin: OWN }, OWN, TOKEN), null)
    assert.equal(g.check('DELETE', { origin: 'https://admin.shop.example' }, OWN, TOKEN), null)
    assert.equal(g.check('PUT', { origin: 'https://evil.example' }, OWN, TOKEN), 'csrf_origin_mismatch')
    assert.equal(g.check('PATCH', { origin: 'null' }, OWN, TOKEN), 'csrf_no_proof')
    assert.equal(g.check('POST', {}, OWN, TOKEN), 'csrf_no_proof')
    assert.equal(g.check('POST', { origin: OWN }, null, TOKEN), 'csrf_origin_mismatch', 'own origin unknown')
  })

  it('reads the Referer only when there is no Origin', () => {
    const g = guard()
    assert.equal(g.check('POST', { referer: `${OWN}/basket?x=1` }, OWN, TOKEN), null)
    assert.equal(g.check('POST', { referer: 'https://evil.example/' }, OWN, TOKEN), 'csrf_origin_mismatch')
    assert.equal(
      g.check('POST', { origin: 'https://evil.example', referer: `${OWN}/` }, OWN, TOKEN),
      'csrf_origin_mismatch',
    )
  })

  it('accepts the session’s token from any origin, and a wrong one only from this origin', () => {
    const g = guard()
    assert.equal(g.check('POST', { origin: 'https://evil.example', 'x-csrf-token': TOKEN }, OWN, TOKEN), null)
    assert.equal(g.check('POST', { 'x-csrf-token': 'nope' }, OWN, TOKEN), 'csrf_token_mismatch')
    assert.equal(g.check('POST', { origin: OWN, 'x-csrf-token': 'nope' }, OWN, TOKEN), null)
  })

  it('with check token, wants the token; with check origin, ignores it', () => {
    assert.equal(guard('token').check('POST', { origin: OWN }, OWN, TOKEN), 'csrf_no_proof')
    assert.equal(guard('token').check('POST', { 'x-csrf-token': TOKEN }, OWN, TOKEN), null)
    assert.equal(guard('origin').check('POST', { 'x-csrf-token': TOKEN }, OWN, TOKEN), 'csrf_no_proof')
  })

  it('takes a form’s token when the header has none, never over the header', () => {
    const g = guard('token')
    assert.equal(g.check('POST', {}, OWN, TOKEN, TOKEN), null)
    assert.equal(g.check('POST', {}, OWN, TOKEN, 'nope'), 'csrf_token_mismatch')
    assert.equal(g.check('POST', { 'x-csrf-token': 'nope' }, OWN, TOKEN, TOKEN), 'csrf_token_mismatch')
    assert.equal(guard('origin').check('POST', {}, OWN, TOKEN, TOKEN), 'csrf_no_proof')
  })

  it('without a session, refuses only what says it came from another site', () => {
    const g = guard('token')
    assert.equal(g.crossSite({ origin: OWN }, OWN), null)
    assert.equal(g.crossSite({ origin: 'https://admin.shop.example' }, OWN), null)
    assert.equal(g.crossSite({}, OWN), null, 'nothing said: nothing to forge without a session')
    assert.equal(g.crossSite({ 'sec-fetch-site': 'same-origin' }, OWN), null)
    assert.equal(g.crossSite({ origin: 'https://evil.example' }, OWN), 'csrf_origin_mismatch')
    assert.equal(g.crossSite({ referer: 'https://evil.example/x' }, OWN), 'csrf_origin_mismatch')
    for (const site of ['cross-site', 'same-site'])
      assert.equal(g.crossSite({ origin: 'null', 'sec-fetch-site': site }, OWN), 'csrf_origin_mismatch', site)
  })
})
