import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { canonicalizePath, DEFAULT_PATH_POLICY, type PathPolicy } from './normalize-path.ts'
import { PATH_REFUSALS } from './path-policy.ts'

const canonical = (path: string, policy: Partial<PathPolicy> = {}) =>
  canonicalizePath(path, { ...DEFAULT_PATH_POLICY, ...policy })
/** The refusal's stable reason, or the path when accepted. */
const outcome = (path: string, policy: Partial<PathPolicy> = {}) => {
  const r = canonical(path, policy)
  return typeof r === 'string' ? r : r.reason
}

describe('the canonical path (RFC 3986 §6.2.2 and the edge rules of issue 10)', () => {
  it('leaves a path with nothing to change as it is, the same string', () => {
    for (const p of ['/', '/api/v1/orders', '/a/.hidden/..b/c', '/index.html', '/v1.2/x', '/a-b_c~d/'])
      assert.equal(canonical(p), p)
  })

  it('decodes percent-encoded unreserved characters (letters, digits, - . _ ~)', () => {
    assert.equal(canonical('/%41%62%7a'), '/Abz')
    assert.equal(canonical('/%30%39'), '/09')
    assert.equal(canonical('/%2D%2e%5F%7E'), '/-._~')
  })

  it('keeps other escapes encoded and upper-cases their hex digits', () => {
    assert.equal(canonical('/q%3fx%3D1'), '/q%3Fx%3D1')
    assert.equal(canonical('/sp%20ace'), '/sp%20ace')
    assert.equal(canonical('/%c3%a9t%c3%a9'), '/%C3%A9t%C3%A9')
    assert.equal(canonical('/pct%25'), '/pct%25')
    assert.equal(canonical('/semi%3bcolon'), '/semi%3Bcolon')
  })

  it('removes dot segments (RFC 3986 §5.2.4), never above the root', () => {
    assert.equal(canonical('/a/./b'), '/a/b')
    assert.equal(canonical('/a/b/../c'), '/a/c')
    assert.equal(canonical('/a/b/c/./../../g'), '/a/g')
    assert.equal(canonical('/a/b/..'), '/a/')
    assert.equal(canonical('/a/b/.'), '/a/b/')
    assert.equal(canonical('/..'), '/')
    assert.equal(canonical('/../../etc/passwd'), '/etc/passwd')
  })

  it('removes encoded dot segments too, so /public/%2e%2e/admin cannot slip past a /public prefix', () => {
    assert.equal(canonical('/public/%2e%2e/admin'), '/admin')
    assert.equal(canonical('/public/.%2E/admin'), '/admin')
    assert.equal(canonical('/public/%2e/admin'), '/public/admin')
    assert.equal(canonical('/a%2e%2eb'), '/a..b')
  })

  it('merges repeated slashes by default, before dot segments as nginx does', () => {
    assert.equal(canonical('/app//admin'), '/app/admin')
    assert.equal(canonical('//app///admin//'), '/app/admin/')
    assert.equal(canonical('//'), '/')
    assert.equal(canonical('/a//../b'), '/b')
    assert.equal(canonical('/app//admin', { merge_slashes: false }), '/app//admin')
  })

  it('refuses encoded slashes, encoded and raw backslashes by default', () => {
    assert.equal(outcome('/public/..%2Fprivate/x'), 'path_encoded_slash')
    assert.equal(outcome('/a%2fb'), 'path_encoded_slash')
    assert.equal(outcome('/a%5cb'), 'path_encoded_backslash')
    assert.equal(outcome('/app\\admin'), 'path_backslash')
  })

  it('reads an encoded slash as a slash before dot segments with escaped_slashes: unescape', () => {
    assert.equal(canonical('/public/..%2Fprivate/x', { escaped_slashes: 'unescape' }), '/private/x')
    assert.equal(canonical('/app%2F%2Fadmin', { escaped_slashes: 'unescape' }), '/app/admin')
    assert.equal(canonical('/a%2fb', { escaped_slashes: 'keep' }), '/a%2Fb')
    assert.equal(canonical('/public/..%2fprivate', { escaped_slashes: 'keep' }), '/public/..%2Fprivate')
  })

  it('reads a backslash as a slash with backslashes: unescape, and keeps it with keep', () => {
    assert.equal(canonical('/app\\admin', { backslashes: 'unescape' }), '/app/admin')
    assert.equal(canonical('/public\\..\\private', { backslashes: 'unescape' }), '/private')
    assert.equal(canonical('/a%5Cb', { backslashes: 'unescape' }), '/a/b')
    assert.equal(canonical('/a\\b', { backslashes: 'keep' }), '/a\\b')
    assert.equal(canonical('/a%5cb', { backslashes: 'keep' }), '/a%5Cb')
  })

  it('refuses ;parameters by default, strips them from every segment before dot segments with strip', () => {
    assert.equal(outcome('/app;/admin/x'), 'path_parameter')
    assert.equal(outcome('/app;jsessionid=1'), 'path_parameter')
    assert.equal(canonical('/app;/admin/x', { path_parameters: 'strip' }), '/app/admin/x')
    assert.equal(canonical('/public/..;x=1/private', { path_parameters: 'strip' }), '/private')
    assert.equal(canonical('/a;b=1/c;d', { path_parameters: 'strip' }), '/a/c')
    assert.equal(canonical('/a;b=1/c', { path_parameters: 'keep' }), '/a;b=1/c')
  })

  it('refuses a segment ending in a dot by default, and keeps it with trailing_dots: keep', () => {
    assert.equal(outcome('/admin./x'), 'path_trailing_dot')
    assert.equal(outcome('/app/admin.'), 'path_trailing_dot')
    assert.equal(outcome('/app/admin%2e'), 'path_trailing_dot')
    assert.equal(outcome('/a/...'), 'path_trailing_dot')
    assert.equal(canonical('/admin./x', { trailing_dots: 'keep' }), '/admin./x')
  })

  it('refuses a segment ending in an encoded space (Windows drops it too) with the trailing dots', () => {
    assert.equal(outcome('/admin%20/x'), 'path_trailing_space')
    assert.equal(outcome('/%20/app'), 'path_trailing_space')
    assert.equal(canonical('/a%20b/x'), '/a%20b/x')
    assert.equal(canonical('/admin%20/x', { trailing_dots: 'keep' }), '/admin%20/x')
  })

  it('lets a route prefix end in a dot, since its last segment may be cut short', () => {
    assert.equal(canonicalizePath('/v1.', DEFAULT_PATH_POLICY, true), '/v1.')
    assert.equal(canonicalizePath('/v1./', DEFAULT_PATH_POLICY, true), PATH_REFUSALS.trailingDot)
  })

  it('always refuses encoded control characters, whatever the settings', () => {
    const lenient: Partial<PathPolicy> = {
      escaped_slashes: 'keep',
      backslashes: 'keep',
      path_parameters: 'keep',
      trailing_dots: 'keep',
      merge_slashes: false,
    }
    for (const p of ['/admin%00.png', '/a%0d%0aSet-Cookie:x', '/a%1F', '/a%7f', '/%09'])
      assert.equal(outcome(p, lenient), 'path_encoded_control', p)
    assert.equal(canonical('/a%20b', lenient), '/a%20b')
  })

  it('answers an invalid request target for a bad escape or a path without a leading slash', () => {
    for (const p of ['/%', '/%4', '/a%zz', '/a%g0/b', '/100%/off'])
      assert.equal(canonical(p), PATH_REFUSALS.invalidEscape, p)
    for (const p of ['', 'api', '*', '%2Fapi', 'http://example.com/'])
      assert.equal(canonical(p), PATH_REFUSALS.notOriginForm, p)
    assert.equal(PATH_REFUSALS.invalidEscape.code, 'GH_ERR_REQUEST_INVALID')
    assert.equal(PATH_REFUSALS.encodedSlash.code, 'GH_ERR_REQUEST_PATH_REJECTED')
  })
})
