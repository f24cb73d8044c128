import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadConfigObject } from '../config/load.ts'
import { loadBundledPlugins } from '../plugins/registry.ts'
import { type RequestFacts, type RouteMatch, Router } from './router.ts'

const registry = await loadBundledPlugins()

/** A router over `routes` (Kong route objects, each with a name), in file order; targets are the names. */
function routerFor(routes: object[]): Router<string> {
  const config = loadConfigObject(
    { _format_version: '3.0', services: [{ name: 'svc', url: 'http://upstream.internal', routes }] },
    'router.test',
    { registry, env: {} },
  )
  return new Router(config.routes.map((route) => ({ route, target: route.name! })))
}

function request(facts: Partial<RequestFacts>): RequestFacts {
  return { method: 'GET', host: 'example.com', port: 80, path: '/', headers: {}, ...facts }
}

/** The name of the route that matches, or null. */
function winner(router: Router<string>, facts: Partial<RequestFacts>): string | null {
  return router.match(request(facts))?.target ?? null
}

function matchOf(router: Router<string>, facts: Partial<RequestFacts>): RouteMatch<string> {
  const m = router.match(request(facts))
  assert.ok(m, 'expected a match')
  return m
}

describe("route precedence (Kong's traditional_compatible order)", () => {
  it('prefers the route that sets more fields', () => {
    const router = routerFor([
      { name: 'path-only', paths: ['/'] },
      { name: 'path-and-method', paths: ['/'], methods: ['GET'] },
    ])
    assert.equal(winner(router, { method: 'GET' }), 'path-and-method')
    assert.equal(winner(router, { method: 'POST' }), 'path-only')
  })

  it('prefers a route with only plain hosts over one with a wildcard host', () => {
    const router = routerFor([
      { name: 'wildcard', hosts: ['*.example.com'] },
      { name: 'plain', hosts: ['api.example.com'] },
    ])
    assert.equal(winner(router, { host: 'api.example.com' }), 'plain')
    assert.equal(winner(router, { host: 'www.example.com' }), 'wildcard')
  })

  it('ranks "only plain hosts" above headers and paths when both routes set as many fields', () => {
    const router = routerFor([
      { name: 'by-path', paths: ['/orders'] },
      { name: 'by-host', hosts: ['api.example.com'] },
    ])
    assert.equal(winner(router, { host: 'api.example.com', path: '/orders' }), 'by-host')
    assert.equal(winner(router, { host: 'www.example.com', path: '/orders' }), 'by-path')
  })

  it('prefers the route that matches on more headers', () => {
    const router = routerFor([
      { name: 'one-header', paths: ['/'], headers: { 'x-tenant': ['acme'] } },
      { name: 'two-headers', paths: ['/'], headers: { 'x-tenant': ['acme'], 'x-version': ['2'] } },
    ])
    assert.equal(winner(router, { headers: { 'x-tenant': 'acme', 'x-version': '2' } }), 'two-headers')
    assert.equal(winner(router, { headers: { 'x-tenant': 'acme', 'x-version': '3' } }), 'one-header')
  })

  it('prefers a regex path over a prefix path, even a longer prefix', () => {
    const router = routerFor([
      { name: 'long-prefix', paths: ['/users/123/details'] },
      { name: 'regex', paths: ['~/users/\\d+'] },
    ])
    assert.equal(winner(router, { path: '/users/123/details' }), 'regex')
    assert.equal(winner(router, { path: '/users/me' }), null)
  })

  it('orders regex paths by regex_priority, higher first', () => {
    const routes = [
      { name: 'broad', paths: ['~/files/.+'] },
      { name: 'narrow', paths: ['~/files/[a-z]+\\.txt'], regex_priority: 5 },
    ]
    assert.equal(winner(routerFor(routes), { path: '/files/notes.txt' }), 'narrow')
    assert.equal(winner(routerFor(routes), { path: '/files/notes.pdf' }), 'broad')
    const unprioritised = routes.map(({ name, paths }) => ({ name, paths }))
    assert.equal(winner(routerFor(unprioritised), { path: '/files/notes.txt' }), 'broad')
  })

  it('ignores regex_priority on prefix paths', () => {
    const router = routerFor([
      { name: 'longer', paths: ['/api/v1'] },
      { name: 'prioritised', paths: ['/api'], regex_priority: 100 },
    ])
    assert.equal(winner(router, { path: '/api/v1/orders' }), 'longer')
  })

  it('prefers the longer prefix', () => {
    const router = routerFor([
      { name: 'api', paths: ['/api'] },
      { name: 'api-v1', paths: ['/api/v1'] },
    ])
    assert.equal(winner(router, { path: '/api/v1/orders' }), 'api-v1')
    assert.equal(winner(router, { path: '/api/v2/orders' }), 'api')
    // A prefix is a plain string prefix, as in Kong: "/api" also matches "/apix".
    assert.equal(winner(router, { path: '/apix' }), 'api')
    assert.equal(winner(router, { path: '/ap' }), null)
  })

  it('treats each path of a route as its own candidate', () => {
    const router = routerFor([
      { name: 'a', paths: ['/a', '/a/b/c'] },
      { name: 'b', paths: ['/a/b'] },
    ])
    assert.equal(winner(router, { path: '/a/b/c/d' }), 'a')
    assert.equal(winner(router, { path: '/a/b/x' }), 'b')
    assert.equal(winner(router, { path: '/a/x' }), 'a')
  })

  it('gives a tie to the route that comes first in the file', () => {
    const first = { name: 'first', paths: ['/same'] }
    const second = { name: 'second', paths: ['/same'] }
    assert.equal(winner(routerFor([first, second]), { path: '/same' }), 'first')
    assert.equal(winner(routerFor([second, first]), { path: '/same' }), 'second')
  })

  it('answers null when no route matches, and when there are no routes', () => {
    assert.equal(winner(routerFor([{ name: 'api', paths: ['/api'] }]), { path: '/other' }), null)
    assert.equal(new Router<string>([]).match(request({})), null)
  })
})

describe('matching hosts', () => {
  it('matches a plain host exactly, on any port, whatever the case it was written in', () => {
    const router = routerFor([{ name: 'api', hosts: ['API.Example.com'] }])
    assert.equal(winner(router, { host: 'api.example.com' }), 'api')
    assert.equal(winner(router, { host: 'api.example.com', port: 8080 }), 'api')
    assert.equal(winner(router, { host: 'www.example.com' }), null)
    assert.equal(winner(router, { host: 'api.example.com.evil' }), null)
  })

  it('matches a leading wildcard *.example.com on any subdomain, not on the bare domain', () => {
    const router = routerFor([{ name: 'sub', hosts: ['*.example.com'] }])
    assert.equal(winner(router, { host: 'api.example.com' }), 'sub')
    assert.equal(winner(router, { host: 'a.b.example.com' }), 'sub')
    assert.equal(winner(router, { host: 'example.com' }), null)
    assert.equal(winner(router, { host: 'badexample.com' }), null)
  })

  it('matches a trailing wildcard example.* on any top-level part', () => {
    const router = routerFor([{ name: 'any-tld', hosts: ['example.*'] }])
    assert.equal(winner(router, { host: 'example.org' }), 'any-tld')
    assert.equal(winner(router, { host: 'example.co.uk' }), 'any-tld')
    assert.equal(winner(router, { host: 'www.example.org' }), null)
    assert.equal(winner(router, { host: 'example' }), null)
  })

  it('matches a host with :port only on that port', () => {
    const router = routerFor([
      { name: 'tls-port', hosts: ['api.example.com:8443'] },
      { name: 'wild-port', hosts: ['*.example.com:9000'] },
    ])
    assert.equal(winner(router, { host: 'api.example.com', port: 8443 }), 'tls-port')
    assert.equal(winner(router, { host: 'api.example.com', port: 80 }), null)
    assert.equal(winner(router, { host: 'www.example.com', port: 9000 }), 'wild-port')
    assert.equal(winner(router, { host: 'www.example.com', port: 9001 }), null)
  })
})

describe('matching methods and headers', () => {
  it('matches only the listed methods', () => {
    const router = routerFor([{ name: 'read', paths: ['/'], methods: ['GET', 'HEAD'] }])
    assert.equal(winner(router, { method: 'GET' }), 'read')
    assert.equal(winner(router, { method: 'HEAD' }), 'read')
    assert.equal(winner(router, { method: 'POST' }), null)
  })

  it('matches header values case-insensitively, any listed value, and requires every header', () => {
    const router = routerFor([
      { name: 'tenant', headers: { 'X-Tenant': ['Acme', 'Globex'], 'x-plan': ['gold'] } },
    ])
    assert.equal(winner(router, { headers: { 'x-tenant': 'ACME', 'x-plan': 'Gold' } }), 'tenant')
    assert.equal(winner(router, { headers: { 'x-tenant': 'globex', 'x-plan': 'gold' } }), 'tenant')
    assert.equal(winner(router, { headers: { 'x-tenant': 'initech', 'x-plan': 'gold' } }), null)
    assert.equal(winner(router, { headers: { 'x-tenant': 'acme' } }), null)
  })

  it('matches a ~* header value as a case-insensitive regular expression', () => {
    const router = routerFor([{ name: 'v2-or-v3', headers: { 'x-version': ['~*^v[23]$'] } }])
    assert.equal(winner(router, { headers: { 'x-version': 'V2' } }), 'v2-or-v3')
    assert.equal(winner(router, { headers: { 'x-version': 'v3' } }), 'v2-or-v3')
    assert.equal(winner(router, { headers: { 'x-version': 'v4' } }), null)
  })

  it('matches when any one of several occurrences of a header matches', () => {
    const router = routerFor([{ name: 'flag', headers: { 'x-flag': ['beta'] } }])
    assert.equal(winner(router, { headers: { 'x-flag': ['alpha', 'beta'] } }), 'flag')
    assert.equal(winner(router, { headers: { 'x-flag': 'alpha, beta' } }), 'flag')
    assert.equal(winner(router, { headers: { 'x-flag': ['alpha', 'gamma'] } }), null)
  })
})

describe('what a match reports', () => {
  it('reports the length of the matched prefix, which strip_path removes', () => {
    const router = routerFor([{ name: 'api', paths: ['/api/'] }])
    const m = matchOf(router, { path: '/api/orders/7' })
    assert.equal(m.matchedLength, '/api/'.length)
    assert.equal(m.captures, null)
    assert.equal(m.route.name, 'api')
  })

  it('reports the length of the regex match, anchored at the start of the path', () => {
    const router = routerFor([{ name: 'user', paths: ['~/users/\\d+'] }])
    assert.equal(matchOf(router, { path: '/users/42/posts' }).matchedLength, '/users/42'.length)
    assert.equal(winner(router, { path: '/v1/users/42' }), null)
  })

  it('reports a length of 0 for a route without paths', () => {
    const router = routerFor([{ name: 'host-only', hosts: ['example.com'] }])
    assert.equal(matchOf(router, { path: '/anything' }).matchedLength, 0)
  })

  it('reports named and numbered captures of a regex path', () => {
    const router = routerFor([{ name: 'post', paths: ['~/users/(?<user>\\d+)/posts/(\\d+)'] }])
    const m = matchOf(router, { path: '/users/42/posts/7/comments' })
    assert.deepEqual(m.captures, { 1: '42', 2: '7', user: '42' })
    assert.equal(m.matchedLength, '/users/42/posts/7'.length)
  })

  it('leaves out a capture group that took no part in the match', () => {
    const router = routerFor([{ name: 'opt', paths: ['~/items(/(?<id>\\d+))?'] }])
    assert.deepEqual(matchOf(router, { path: '/items' }).captures, {})
    assert.deepEqual(matchOf(router, { path: '/items/9' }).captures, { 1: '/9', 2: '9', id: '9' })
  })
})
