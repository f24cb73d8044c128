/**
 * SignedTokenCache keys tokens by their tail but answers only for the very token it was given, and
 * bounds the characters of the whole tokens it holds.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SignedTokenCache } from './expiring-cache.ts'

const tail = 'S'.repeat(40)
const token = (body: string) => `${body}.${tail}`

describe('SignedTokenCache', () => {
  it('answers for the token it was given, and not for another with the same tail', () => {
    const cache = new SignedTokenCache<{ until: number; who: string }>()
    const now = Date.now()
    const alice = token('h.alice-payload-long-enough-to-take-the-tail-path')
    const mallory = token('h.mallory-payload-long-enough-to-take-the-tail-pat')
    cache.set(alice, { until: now + 60_000, who: 'alice' }, now)
    assert.equal(cache.get(alice, now)?.who, 'alice')
    assert.equal(cache.get(mallory, now), undefined, 'a copied signature tail is a miss')
    assert.equal(cache.get(alice, now + 60_001), undefined, 'expired')
  })

  it('bounds the characters of the tokens it holds, not of the keys', () => {
    const cache = new SignedTokenCache<{ until: number }>(1000, 1000)
    const now = Date.now()
    for (let i = 0; i < 10; i++)
      cache.set(`${'x'.repeat(300)}-${'y'.repeat(40)}-${i}`, { until: now + 60_000 }, now)
    assert.equal(cache.size, 2, 'only what fits in 1000 characters of whole tokens')
  })
})
