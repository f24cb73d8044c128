import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { weakPasswordReason } from './password-policy.ts'

describe('weakPasswordReason', () => {
  const alice = { username: 'alice.smith', email: 'Alice.Smith@shop.example' }

  it('accepts a long password that is neither common nor the account’s own name', () => {
    assert.equal(weakPasswordReason('plum-anvil-orbit-42', alice), undefined)
  })

  it('counts characters, not UTF-16 units, against the minimum of 12', () => {
    assert.equal(weakPasswordReason('🔑🔑🔑🔑🔑🔑', alice), 'it has fewer than 12 characters')
    assert.equal(weakPasswordReason('🔑🌙🔑🌙🔑🌙🔑🌙🔑🌙🔑🌙', alice), undefined)
  })

  it('refuses the username and the e-mail address in any case', () => {
    const own = 'it is the username or the e-mail address'
    assert.equal(weakPasswordReason('alice.smith@shop.example', alice), own)
    assert.equal(weakPasswordReason('ALICE.SMITH!', { username: 'Alice.Smith!' }), own)
  })

  it('refuses the most common passwords in any case, and one character repeated', () => {
    const common = 'it is one of the most common passwords'
    assert.equal(weakPasswordReason('PASSWORD1234', alice), common)
    assert.equal(weakPasswordReason('1q2w3e4r5t6y', alice), common)
    assert.equal(weakPasswordReason('zzzzzzzzzzzzzzzz', alice), common)
  })
})
