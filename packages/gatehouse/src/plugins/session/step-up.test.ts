/**
 * Step-up's rules without a server: what a requirement asks of acr, amr and auth_time, what the login
 * link and the authorization request carry, what a step-up sign-in must bring back, and that a session
 * keeps how its person signed in across a refresh and from its sealed form (a session sealed before
 * step-up existed meets no requirement).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SignJWT } from 'jose'
import { ACR_2FA, acrValuesFor, authContextOf, requireSchema, unmet } from '../_shared/step-up.ts'
import { fromClaims, refreshed, type SessionRecord, toClaims } from './session.ts'
import { authorizationParameters, stepUpMet, stepUpOf, stepUpQuery } from './step-up.ts'

const NOW = 1_800_000_000
const MFA = { acr: ACR_2FA, amr: ['pwd', 'otp', 'mfa'], authTime: NOW - 60 }
const PWD = { acr: 'urn:gatehouse:acr:1fa', amr: ['pwd'], authTime: NOW - 60 }
const UNKNOWN = { acr: null, amr: null, authTime: null }

describe('step-up requirements', () => {
  it('checks acr (one of), amr (every one) and max_age (auth_time no older), a missing factor first', () => {
    const r = requireSchema.parse({ amr: ['mfa'], max_age: 600 })!
    assert.equal(unmet(r, MFA, NOW), null)
    assert.equal(unmet(r, PWD, NOW), 'amr')
    assert.equal(unmet(r, { ...MFA, authTime: NOW - 601 }, NOW), 'max_age')
    assert.equal(unmet(r, { ...MFA, authTime: null }, NOW), 'max_age')
    assert.equal(unmet(r, { ...PWD, authTime: NOW - 3600 }, NOW), 'amr')
    assert.equal(unmet(r, UNKNOWN, NOW), 'amr')
    const acr = requireSchema.parse({ acr: ['a', ACR_2FA] })!
    assert.equal(unmet(acr, MFA, NOW), null)
    assert.equal(unmet(acr, PWD, NOW), 'acr')
    assert.equal(unmet(acr, UNKNOWN, NOW), 'acr')
  })

  it('asks the provider for acr, else the two-factor level for mfa, unless told', () => {
    assert.deepEqual(acrValuesFor(requireSchema.parse({ amr: ['mfa'] })!), [ACR_2FA])
    assert.deepEqual(acrValuesFor(requireSchema.parse({ acr: ['x', 'y'], amr: ['mfa'] })!), ['x', 'y'])
    assert.deepEqual(acrValuesFor(requireSchema.parse({ amr: ['mfa'], acr_values: ['z'] })!), ['z'])
    assert.deepEqual(acrValuesFor(requireSchema.parse({ max_age: 60 })!), [])
  })

  it('refuses an empty requirement and values that cannot be quoted', () => {
    assert.throws(() => requireSchema.parse({}), /at least one of acr, amr, max_age/)
    assert.throws(() => requireSchema.parse({ amr: ['m"fa'] }))
    assert.throws(() => requireSchema.parse({ acr: ['two words'] }))
    assert.throws(() => requireSchema.parse({ max_age: -1 }))
  })

  it('reads acr, amr and auth_time from claims, leaving bad shapes unknown', () => {
    assert.deepEqual(authContextOf({ acr: ACR_2FA, amr: ['pwd'], auth_time: 5 }), {
      acr: ACR_2FA,
      amr: ['pwd'],
      authTime: 5,
    })
    assert.deepEqual(authContextOf({ acr: 2, amr: 'pwd', auth_time: '5' }), UNKNOWN)
    assert.deepEqual(authContextOf(null), UNKNOWN)
  })
})

describe('step-up sign-ins', () => {
  const r = requireSchema.parse({ amr: ['mfa'], max_age: 600 })!

  it('puts the requirement in the login link, and reads it back', () => {
    const query = stepUpQuery(r, '/orders?x=1')
    assert.equal(
      query,
      `return_to=%2Forders%3Fx%3D1&acr_values=${encodeURIComponent(ACR_2FA)}&amr=mfa&max_age=600`,
    )
    const s = stepUpOf(new URLSearchParams(query))
    assert.deepEqual(s, { acr: [ACR_2FA], amr: ['mfa'], maxAge: 600, prompt: null })
    assert.deepEqual(authorizationParameters(s as Exclude<typeof s, null | 'invalid'>), {
      acr_values: ACR_2FA,
      max_age: '600',
    })
    assert.equal(stepUpOf(new URLSearchParams('return_to=/x')), null)
    for (const bad of ['max_age=-1', 'max_age=1e3', 'prompt=consent', 'acr_values=a%20%20b', 'amr='])
      assert.equal(stepUpOf(new URLSearchParams(bad)), 'invalid', bad)
  })

  it('checks what the new sign-in brought back against what was asked', () => {
    const asked = { acr: [ACR_2FA], amr: ['mfa'], maxAge: 600, prompt: null }
    assert.equal(stepUpMet(asked, MFA, NOW, NOW - 30), null)
    assert.equal(stepUpMet(asked, PWD, NOW, NOW - 30), 'acr')
    assert.equal(stepUpMet(asked, { ...MFA, authTime: NOW - 3600 }, NOW, NOW - 30), 'max_age')
    // prompt=login: a sign-in from before the request is not a fresh one.
    const fresh = { acr: null, amr: null, maxAge: null, prompt: 'login' as const }
    assert.equal(stepUpMet(fresh, { ...PWD, authTime: NOW - 10 }, NOW, NOW - 30), null)
    assert.equal(stepUpMet(fresh, { ...PWD, authTime: NOW - 3600 }, NOW, NOW - 30), 'max_age')
  })
})

describe('a session keeps how its person signed in', () => {
  const record: SessionRecord = Object.freeze({
    sid: 'sid',
    sub: 'alice',
    name: null,
    email: null,
    accessToken: 'at',
    accessExpiresAt: NOW + 60,
    refreshToken: 'rt',
    idToken: null,
    scope: null,
    csrf: 'csrf',
    createdAt: NOW - 100,
    seenAt: NOW - 10,
    auth: Object.freeze(PWD),
  })

  it('across a refresh, even one whose new ID token claims more', async () => {
    const idToken = await new SignJWT({ sub: 'alice', acr: ACR_2FA, amr: ['mfa'], auth_time: NOW })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new Uint8Array(32))
    const next = refreshed(record, { access_token: 'at2', refresh_token: 'rt2', id_token: idToken }, NOW)
    assert.deepEqual(next.auth, PWD)
    assert.equal(next.accessToken, 'at2')
  })

  it('in its sealed form; a form from before step-up has it unknown', () => {
    assert.deepEqual(fromClaims(toClaims(record))?.auth, PWD)
    const { ac: _ac, am: _am, au: _au, ...older } = toClaims(record)
    assert.deepEqual(fromClaims(older)?.auth, UNKNOWN)
  })
})
