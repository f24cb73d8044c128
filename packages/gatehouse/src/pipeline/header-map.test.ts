import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { newHeaderMap } from './request-state.ts'
import { copyEndToEndHeaders } from './upstream-request.ts'

describe('header maps', () => {
  it('inherit nothing: no Object members, and a header named __proto__ is an own member like any other', () => {
    const h = newHeaderMap()
    assert.equal(h.constructor, undefined)
    assert.equal(h.toString, undefined)
    assert.equal('hasOwnProperty' in h, false)
    const PROTO = '__proto__' // a header name, computed, as the pipeline's are
    h[PROTO] = ['a', 'b']
    h['x-a'] = '1'
    assert.deepEqual(Object.keys(h), ['__proto__', 'x-a'])
    assert.deepEqual(h[PROTO], ['a', 'b'])
    // The array did not become the prototype: other maps and this one still inherit nothing.
    assert.equal((h as Record<string, unknown>).length, undefined)
    assert.equal(newHeaderMap().constructor, undefined)
    assert.equal(Object.getPrototypeOf(Object.getPrototypeOf(h)), null)
    assert.ok(Object.isFrozen(Object.getPrototypeOf(h)), 'no code can give every map a member')
  })

  it("copy a client's headers, __proto__ and constructor included, as data", () => {
    const incoming = JSON.parse(
      '{"__proto__":"x","constructor":"y","accept":"*/*","connection":"keep-alive"}',
    )
    const out = copyEndToEndHeaders(incoming, new Set())
    assert.deepEqual(Object.entries(out), [
      ['__proto__', 'x'],
      ['constructor', 'y'],
      ['accept', '*/*'],
    ])
  })
})
