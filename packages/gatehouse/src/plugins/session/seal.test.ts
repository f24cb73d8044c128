import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Sealer } from './seal.ts'

const SECRET = 'a-session-secret-of-at-least-32-chars'
const BINDING = 'https://id.shop.example\0shop-web'
const later = () => Math.floor(Date.now() / 1000) + 60

describe('sealing cookies', () => {
  it('opens what it sealed, and the sealed form shows nothing of it', async () => {
    const sealer = new Sealer(SECRET, BINDING)
    const sealed = await sealer.seal('session', { at: 'the-access-token' }, later())
    assert.match(sealed, /^eyJ[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/)
    assert.doesNotMatch(
      Buffer.from(sealed.split('.')[3]!, 'base64url').toString('latin1'),
      /the-access-token/,
    )
    assert.equal((await sealer.unseal('session', sealed))?.at, 'the-access-token')
  })

  it('refuses a changed byte, another purpose, another client, another secret, and an expired seal', async () => {
    const sealer = new Sealer(SECRET, BINDING)
    const sealed = await sealer.seal('session', { at: 'x' }, later())
    const parts = sealed.split('.')
    parts[3] = (parts[3]![0] === 'A' ? 'B' : 'A') + parts[3]!.slice(1)
    assert.equal(await sealer.unseal('session', parts.join('.')), null)
    assert.equal(await sealer.unseal('login', sealed), null)
    assert.equal(await new Sealer(SECRET, 'https://id.shop.example\0other').unseal('session', sealed), null)
    assert.equal(await new Sealer(`${SECRET}!`, BINDING).unseal('session', sealed), null)
    const expired = await sealer.seal('session', { at: 'x' }, Math.floor(Date.now() / 1000) - 1)
    assert.equal(await sealer.unseal('session', expired), null)
    assert.equal(await sealer.unseal('session', 'not-a-jwe'), null)
  })

  it('turns a session id into a store key that depends on the secret', () => {
    const a = new Sealer(SECRET, BINDING)
    assert.equal(a.storeKey('id-1'), a.storeKey('id-1'))
    assert.notEqual(a.storeKey('id-1'), a.storeKey('id-2'))
    assert.notEqual(a.storeKey('id-1'), new Sealer(`${SECRET}!`, BINDING).storeKey('id-1'))
    assert.doesNotMatch(a.storeKey('id-1'), /id-1/)
  })
})
