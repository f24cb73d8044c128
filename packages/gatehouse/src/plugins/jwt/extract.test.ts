/**
 * The Bearer fast path (extract.ts bearerToken) accepts exactly what Kong's pattern accepts: the same
 * token for every header value, whatever spacing, case or characters surround it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { bearerToken } from './extract.ts'

const BEARER = /^\s*[Bb]earer\s+(.+)/
const byPattern = (value: string) => BEARER.exec(value)?.[1] ?? null

describe('bearerToken', () => {
  it('reads the usual header without surprises', () => {
    assert.equal(bearerToken('Bearer abc.def.ghi'), 'abc.def.ghi')
    assert.equal(bearerToken('bearer abc'), 'abc')
    assert.equal(bearerToken('Bearer  abc'), 'abc')
    assert.equal(bearerToken('  Bearer\tabc'), 'abc')
    assert.equal(bearerToken('Bearer '), null)
    assert.equal(bearerToken('Basic abc'), null)
    assert.equal(bearerToken('BEARER abc'), null)
  })

  it('agrees with the pattern on any value', () => {
    const piece = fc.constantFrom(
      'Bearer',
      'bearer',
      'BEARER',
      'Bearer ',
      ' ',
      '\t',
      '\u00a0',
      '\u2028',
      '\n',
      'a',
      '.',
      'é',
      '\u3000',
      'x y',
    )
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string({ maxLength: 4 })), { maxLength: 8 }), (parts) => {
        const value = parts.join('')
        assert.equal(bearerToken(value), byPattern(value), JSON.stringify(value))
      }),
      { numRuns: 5000 },
    )
  })
})
