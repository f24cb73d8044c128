/** The cache key on its own: which parts of a request make two requests share an entry. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ConsumerEntity } from '../../config/model.ts'
import type { Principal } from '../../pipeline/principal.ts'
import type { RequestState } from '../../pipeline/request-state.ts'
import { cacheKey, callerOf, type KeyRules } from './cache-key.ts'

interface Shape {
  path?: string
  query?: string
  method?: string
  headers?: Record<string, string>
  consumer?: string | null
  principal?: { subject: string; issuer: string | null } | null
  route?: string
}

/** The fields the key reads, as a request on a route would carry them. */
function request(s: Shape = {}): RequestState {
  return {
    method: s.method ?? 'GET',
    path: s.path ?? '/orders',
    query: s.query ?? '',
    req: { headers: s.headers ?? {} },
    consumer: s.consumer ? ({ id: s.consumer } as ConsumerEntity) : null,
    principal: s.principal ? ({ method: 'openid-connect', ...s.principal } as Principal) : null,
    route: { route: { id: s.route ?? 'route-1' }, service: { id: 'service-1' } },
  } as unknown as RequestState
}

const rules: KeyRules = { ignoreUriCase: false, varyQueryParams: null, varyHeaders: [] }
const key = (s: Shape, r: KeyRules = rules) => cacheKey(request(s), r)

describe('the proxy-cache key', () => {
  it('is a sha256 in hex, the same for the same request', () => {
    assert.match(key({}), /^[0-9a-f]{64}$/)
    assert.equal(key({ query: '?a=1' }), key({ query: '?a=1' }))
  })

  it('differs per consumer, per principal without a consumer, and from anonymous callers', () => {
    const keys = [
      key({}),
      key({ consumer: 'c-alice' }),
      key({ consumer: 'c-bob' }),
      key({ principal: { subject: 'u-1', issuer: 'https://idp.example' } }),
      key({ principal: { subject: 'u-2', issuer: 'https://idp.example' } }),
      key({ principal: { subject: 'u-1', issuer: 'https://other.example' } }),
    ]
    assert.equal(new Set(keys).size, keys.length)
    assert.equal(
      callerOf(request({ consumer: 'c-1', principal: { subject: 'x', issuer: null } })),
      'consumer:c-1',
    )
  })

  it('differs per route, method and path, and ignores path case only with ignore_uri_case', () => {
    assert.notEqual(key({ route: 'r1' }), key({ route: 'r2' }))
    assert.notEqual(key({ method: 'GET' }), key({ method: 'HEAD' }))
    assert.notEqual(key({ path: '/Orders' }), key({ path: '/orders' }))
    const folded = { ...rules, ignoreUriCase: true }
    assert.equal(key({ path: '/Orders' }, folded), key({ path: '/orders' }, folded))
  })

  it('takes every query parameter in any order by default, or only vary_query_params', () => {
    assert.equal(key({ query: '?b=2&a=1' }), key({ query: '?a=1&b=2' }))
    assert.equal(key({ query: '?a=2&a=1' }), key({ query: '?a=1&a=2' }))
    assert.notEqual(key({ query: '?a=1' }), key({ query: '?a=2' }))
    assert.equal(key({ query: '?a=%20x' }), key({ query: '?a=+x' }))
    const only = { ...rules, varyQueryParams: ['page'] }
    assert.equal(key({ query: '?page=1&utm=x' }, only), key({ query: '?page=1' }, only))
    assert.notEqual(key({ query: '?page=1' }, only), key({ query: '?page=2' }, only))
  })

  it('cannot be made to collide by values that contain separators', () => {
    assert.notEqual(key({ query: '?a=1:b=2' }), key({ query: '?a=1&b=2' }))
    assert.notEqual(key({ query: '?a=1,2' }), key({ query: '?a=1&a=2' }))
  })

  it('takes the vary_headers, and nothing else from the headers', () => {
    const vary = { ...rules, varyHeaders: ['accept-language'] }
    assert.notEqual(
      key({ headers: { 'accept-language': 'en' } }, vary),
      key({ headers: { 'accept-language': 'fr' } }, vary),
    )
    assert.notEqual(key({ headers: {} }, vary), key({ headers: { 'accept-language': '' } }, vary))
    assert.equal(key({ headers: { 'x-other': '1' } }, vary), key({ headers: {} }, vary))
  })
})
