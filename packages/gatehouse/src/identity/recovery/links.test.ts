import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { linkValid, openLink, peekLink, sealLink, signLink } from './links.ts'

const key = randomBytes(32)

describe('mailed links', () => {
  it('accepts a signed link only for its purpose, its binding and its key, before it expires', () => {
    const token = signLink(key, 'password-reset', { u: 'u-1' }, 900, '$argon2id$hash-1')
    assert.equal(linkValid(key, token, 'password-reset', '$argon2id$hash-1'), true)
    assert.deepEqual(peekLink(token, 'password-reset'), { u: 'u-1' })
    assert.equal(linkValid(key, token, 'password-reset', '$argon2id$hash-2'), false, 'the password changed')
    assert.equal(linkValid(key, token, 'verify-email', '$argon2id$hash-1'), false, 'another purpose')
    assert.equal(
      linkValid(randomBytes(32), token, 'password-reset', '$argon2id$hash-1'),
      false,
      'another key',
    )
    const expired = signLink(key, 'password-reset', { u: 'u-1' }, -1, '$argon2id$hash-1')
    assert.equal(linkValid(key, expired, 'password-reset', '$argon2id$hash-1'), false, 'expired')
  })

  it('refuses a signed link whose body was changed, and malformed ones, without throwing', () => {
    const token = signLink(key, 'password-reset', { u: 'u-1' }, 900, 'b')
    const [, tag] = token.split('.')
    const forged = `${Buffer.from(JSON.stringify({ p: 'password-reset', e: 9e9, d: { u: 'u-2' } })).toString('base64url')}.${tag}`
    assert.equal(linkValid(key, forged, 'password-reset', 'b'), false)
    for (const bad of [
      '',
      '.',
      'a.b',
      `${'a'.repeat(3000)}.${tag}`,
      `!!.${tag}`,
      `${Buffer.from('[]').toString('base64url')}.${tag}`,
    ])
      assert.equal(linkValid(key, bad, 'password-reset', 'b'), false, bad.slice(0, 20))
  })

  it('seals registration links: readable only with the key, for the purpose, unexpired and untouched', () => {
    const fields = { username: 'erin', email: 'erin@example.test', hash: '$argon2id$v=19$secret' }
    const token = sealLink(key, 'register', fields, 3600)
    assert.ok(
      !Buffer.from(token, 'base64url').toString('latin1').includes('argon2id'),
      'the hash is not readable',
    )
    assert.deepEqual(openLink(key, token, 'register'), fields)
    assert.equal(openLink(key, token, 'password-reset'), null)
    assert.equal(openLink(randomBytes(32), token, 'register'), null)
    assert.equal(openLink(key, sealLink(key, 'register', fields, -1), 'register'), null)
    const raw = Buffer.from(token, 'base64url')
    raw[raw.length - 1]! ^= 1
    assert.equal(openLink(key, raw.toString('base64url'), 'register'), null)
    assert.equal(openLink(key, 'short', 'register'), null)
  })
})
