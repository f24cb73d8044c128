/**
 * The Bearer fast path of presentedToken gives exactly what the scheme pattern gives: the same scheme and
 * token, or the same refusal, for every header value, whatever spacing, case or characters surround it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { presentedToken } from './extract.ts'

const SCHEME = /^(bearer|dpop)(?: +(.*))?$/i
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
/** extract.ts before the fast path: the expression alone. */
function byPattern(value: string) {
  const match = SCHEME.exec(value.trim())
  if (match === null) return null
  const token = match[2]
  return {
    scheme: match[1]!.length === 4 ? 'dpop' : 'bearer',
    token: token !== undefined && B64TOKEN.test(token) ? token : null,
  }
}

describe('presentedToken', () => {
  it('reads the usual header, and tells a malformed token from none', () => {
    assert.deepEqual(presentedToken('Bearer abc.def.ghi'), { scheme: 'bearer', token: 'abc.def.ghi' })
    assert.deepEqual(presentedToken('bEARER abc'), { scheme: 'bearer', token: 'abc' })
    assert.deepEqual(presentedToken('Bearer  abc '), { scheme: 'bearer', token: 'abc' })
    assert.deepEqual(presentedToken('DPoP abc'), { scheme: 'dpop', token: 'abc' })
    assert.deepEqual(presentedToken('Bearer a b'), { scheme: 'bearer', token: null })
    assert.deepEqual(presentedToken('Bearer'), { scheme: 'bearer', token: null })
    assert.equal(presentedToken('Basic abc'), null)
    assert.equal(presentedToken(undefined), null)
  })

  it('agrees with the pattern on any value', () => {
    const piece = fc.constantFrom(
      'Bearer',
      'bearer',
      'BEARER',
      'Bearer ',
      'DPoP ',
      ' ',
      '\t',
      '\u00a0',
      '\u2028',
      '\u3000',
      '\n',
      'a',
      '.',
      '=',
      '+/',
      'é',
      'x y',
    )
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, fc.string({ maxLength: 4 })), { maxLength: 8 }), (parts) => {
        const value = parts.join('')
        assert.deepEqual(presentedToken(value), byPattern(value), JSON.stringify(value))
      }),
      { numRuns: 5000 },
    )
  })
})
