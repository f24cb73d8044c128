/** The cacheability and freshness rules, on their own (the end-to-end tests show them through the gateway). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { HeaderMap } from '../../pipeline/request-state.ts'
import { parseDirectives, resourceTtl } from './cache-control.ts'
import type { CachedResponse } from './entry.ts'
import { mediaTypeMatches, parseMediaType } from './media-type.ts'
import { freshFor, type ResponseRules, servable } from './rules.ts'

const rules = (over: Partial<ResponseRules> = {}): ResponseRules => ({
  codes: new Set([200, 301, 404]),
  contentTypes: ['text/plain', 'application/json', 'image/*'].map((t) => parseMediaType(t)!),
  cacheControl: false,
  cacheTtl: 300,
  setCookie: false,
  varyHeaders: new Set(['accept-language']),
  maxBodySize: 1000,
  ...over,
})
const json = (extra: HeaderMap = {}): HeaderMap => ({ 'content-type': 'application/json', ...extra })
const NOW = Date.parse('2025-01-01T00:00:00Z')

describe('proxy-cache rules', () => {
  it('parses Cache-Control as Kong: lower-cased names, unquoted values, bare directives true', () => {
    assert.deepEqual(
      { ...parseDirectives('Public, MAX-AGE="60", no-cache ,s-maxage=10') },
      { public: true, 'max-age': '60', 'no-cache': true, 's-maxage': '10' },
    )
    assert.deepEqual({ ...parseDirectives(['private', 'max-age=5']) }, { private: true, 'max-age': '5' })
  })

  it('takes a lifetime from s-maxage, then max-age, then Expires minus Date', () => {
    assert.equal(resourceTtl(parseDirectives('max-age=60, s-maxage=10'), undefined, undefined, NOW), 10)
    assert.equal(resourceTtl(parseDirectives('max-age=60'), undefined, undefined, NOW), 60)
    const date = new Date(NOW).toUTCString()
    const expires = new Date(NOW + 90_000).toUTCString()
    assert.equal(resourceTtl(parseDirectives(undefined), expires, date, NOW + 5000), 90)
    assert.equal(resourceTtl(parseDirectives(undefined), '0', date, NOW), 0)
    assert.equal(resourceTtl(parseDirectives(undefined), undefined, undefined, NOW), 0)
  })

  it('matches content types as Kong 3.x: wildcards, and exactly the same parameters', () => {
    const m = (configured: string, actual: string) =>
      mediaTypeMatches(parseMediaType(configured)!, parseMediaType(actual)!)
    assert.equal(m('application/json', 'Application/JSON'), true)
    assert.equal(m('application/json', 'application/json; charset=utf-8'), false)
    assert.equal(m('application/json; charset=utf-8', 'application/json;charset="UTF-8"'), true)
    assert.equal(m('image/*', 'image/png'), true)
    assert.equal(m('*/*', 'text/html'), true)
    assert.equal(parseMediaType('json'), null)
  })

  it('stores a response for cache_ttl when its status and content type are listed', () => {
    assert.equal(freshFor(rules(), 200, json(), NOW), 300)
    assert.equal(freshFor(rules(), 404, json(), NOW), 300)
    assert.equal(freshFor(rules(), 500, json(), NOW), null)
    assert.equal(freshFor(rules(), 200, { 'content-type': 'text/html' }, NOW), null)
    assert.equal(freshFor(rules(), 200, {}, NOW), null)
  })

  it('never stores Set-Cookie (unless cache_set_cookie), private, no-store, an uncovered Vary, or a body over max_body_size', () => {
    assert.equal(freshFor(rules(), 200, json({ 'set-cookie': 'a=1' }), NOW), null)
    assert.equal(freshFor(rules({ setCookie: true }), 200, json({ 'set-cookie': 'a=1' }), NOW), 300)
    assert.equal(freshFor(rules(), 200, json({ 'cache-control': 'private, max-age=60' }), NOW), null)
    assert.equal(freshFor(rules(), 200, json({ 'cache-control': 'no-store' }), NOW), null)
    assert.equal(freshFor(rules(), 200, json({ vary: 'Accept-Language' }), NOW), 300)
    assert.equal(freshFor(rules(), 200, json({ vary: 'accept-language, Accept-Encoding' }), NOW), null)
    assert.equal(freshFor(rules(), 200, json({ vary: '*' }), NOW), null)
    assert.equal(freshFor(rules(), 200, json({ 'content-length': '1001' }), NOW), null)
  })

  it('with cache_control, takes the lifetime from the response and refuses no-cache or none', () => {
    const cc = rules({ cacheControl: true })
    assert.equal(freshFor(cc, 200, json({ 'cache-control': 'public, max-age=60' }), NOW), 60)
    assert.equal(freshFor(cc, 200, json({ 'cache-control': 'no-cache, max-age=60' }), NOW), null)
    assert.equal(freshFor(cc, 200, json(), NOW), null)
    assert.equal(freshFor(cc, 200, json({ 'cache-control': 'max-age=0' }), NOW), null)
  })

  it('serves an entry while fresh, and with cache_control as the request allows', () => {
    const entry: CachedResponse = { status: 200, headers: {}, body: Buffer.alloc(0), timestamp: NOW, ttl: 60 }
    const req = (v?: string) => parseDirectives(v)
    assert.equal(servable(false, 300, req(), entry, 299), true)
    assert.equal(servable(false, 300, req(), entry, 301), false)
    assert.equal(servable(true, 300, req(), entry, 59), true)
    assert.equal(servable(true, 300, req(), entry, 61), false)
    assert.equal(servable(true, 300, req('no-cache'), entry, 1), false)
    assert.equal(servable(true, 300, req('max-age=10'), entry, 11), false)
    assert.equal(servable(true, 300, req('min-fresh=30'), entry, 40), false)
    assert.equal(servable(true, 300, req('max-stale=10'), entry, 65), true)
    assert.equal(servable(true, 300, req('max-stale=10'), entry, 75), false)
    assert.equal(servable(true, 300, req('max-stale'), entry, 1000), true)
  })
})
