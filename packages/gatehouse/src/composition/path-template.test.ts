import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileTemplate, encodeCapture, renderTemplate } from './path-template.ts'

describe('part path templates', () => {
  it('splits a target into literals and capture names once, and renders it per request', () => {
    const t = compileTemplate('/v1/products/{id}/{variant}?product={id}')
    assert.deepEqual(t.literals, ['/v1/products/', '/', '?product=', ''])
    assert.deepEqual(t.names, ['id', 'variant', 'id'])
    assert.equal(renderTemplate(t, { id: 'p-1', variant: 'red' }), '/v1/products/p-1/red?product=p-1')
  })

  it('renders a capture that did not participate in the match as empty', () => {
    assert.equal(renderTemplate(compileTemplate('/p/{id}'), {}), '/p/')
    assert.equal(renderTemplate(compileTemplate('/p/{id}'), null), '/p/')
    assert.equal(renderTemplate(compileTemplate('/static'), null), '/static')
  })

  it('encodes everything but unreserved characters, so a capture cannot add a segment, parameter or fragment', () => {
    assert.equal(encodeCapture('a/b?c#d&e=f+g:h@i;j'), 'a%2Fb%3Fc%23d%26e%3Df%2Bg%3Ah%40i%3Bj')
    assert.equal(encodeCapture('A-z_0.9~'), 'A-z_0.9~')
    assert.equal(encodeCapture('thé ☕'), 'th%C3%A9%20%E2%98%95')
  })

  it('keeps escapes the request path already had, upper-cased, and encodes a lone percent sign', () => {
    assert.equal(encodeCapture('a%20b%2fc'), 'a%20b%2Fc')
    assert.equal(encodeCapture('100%'), '100%25')
    assert.equal(encodeCapture('%zz'), '%25zz')
  })
})
