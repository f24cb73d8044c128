import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { normalizePath } from './normalize-path.ts'

describe('normalising a request path (RFC 3986 §6.2.2)', () => {
  it('leaves a path without escapes or dot segments as it is', () => {
    assert.equal(normalizePath('/'), '/')
    assert.equal(normalizePath('/api/v1/orders'), '/api/v1/orders')
    assert.equal(normalizePath('//double//slashes/'), '//double//slashes/')
    assert.equal(normalizePath('/a/.hidden/..b/.../c'), '/a/.hidden/..b/.../c')
  })

  it('decodes percent-encoded unreserved characters (letters, digits, - . _ ~)', () => {
    assert.equal(normalizePath('/%41%62%7a'), '/Abz')
    assert.equal(normalizePath('/%30%39'), '/09')
    assert.equal(normalizePath('/%2D%2e%5F%7E'), '/-._~')
  })

  it('keeps other escapes encoded and upper-cases their hex digits', () => {
    assert.equal(normalizePath('/a%2fb'), '/a%2Fb')
    assert.equal(normalizePath('/a%2Fb'), '/a%2Fb')
    assert.equal(normalizePath('/q%3fx%3D1'), '/q%3Fx%3D1')
    assert.equal(normalizePath('/sp%20ace'), '/sp%20ace')
    assert.equal(normalizePath('/%c3%a9t%c3%a9'), '/%C3%A9t%C3%A9')
    assert.equal(normalizePath('/nul%00'), '/nul%00')
    assert.equal(normalizePath('/pct%25'), '/pct%25')
  })

  it('removes dot segments (RFC 3986 §5.2.4)', () => {
    assert.equal(normalizePath('/a/./b'), '/a/b')
    assert.equal(normalizePath('/a/b/../c'), '/a/c')
    assert.equal(normalizePath('/a/b/c/./../../g'), '/a/g')
    assert.equal(normalizePath('/a/b/..'), '/a/')
    assert.equal(normalizePath('/a/b/.'), '/a/b/')
    assert.equal(normalizePath('/a/b/./'), '/a/b/')
  })

  it('does not climb above the root', () => {
    assert.equal(normalizePath('/..'), '/')
    assert.equal(normalizePath('/.'), '/')
    assert.equal(normalizePath('/../../etc/passwd'), '/etc/passwd')
    assert.equal(normalizePath('/a/../../b'), '/b')
  })

  it('removes encoded dot segments too, so /public/%2e%2e/admin cannot slip past a /public prefix', () => {
    assert.equal(normalizePath('/public/%2e%2e/admin'), '/admin')
    assert.equal(normalizePath('/public/%2E%2e/admin'), '/admin')
    assert.equal(normalizePath('/public/.%2e/admin'), '/admin')
    assert.equal(normalizePath('/public/%2e/admin'), '/public/admin')
    assert.equal(normalizePath('/a%2e%2eb'), '/a..b')
  })

  it('does not treat an encoded slash as a segment boundary', () => {
    assert.equal(normalizePath('/public/..%2fadmin'), '/public/..%2Fadmin')
  })

  it('answers null for an invalid escape', () => {
    assert.equal(normalizePath('/%'), null)
    assert.equal(normalizePath('/%4'), null)
    assert.equal(normalizePath('/a%zz'), null)
    assert.equal(normalizePath('/a%g0/b'), null)
    assert.equal(normalizePath('/100%/off'), null)
  })

  it('answers null for a path without a leading slash', () => {
    assert.equal(normalizePath(''), null)
    assert.equal(normalizePath('api'), null)
    assert.equal(normalizePath('*'), null)
    assert.equal(normalizePath('%2Fapi'), null)
    assert.equal(normalizePath('http://example.com/'), null)
  })
})
