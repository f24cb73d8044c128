/**
 * The `composition` key of a route, loaded in-process: its defaults, and every mistake refused at load
 * with the key path and what to do (unknown service, duplicate part names, a route that also has a
 * service, `{captures}` the route's paths do not have), plus the pools a runtime keeps for its parts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InternalKeyRing } from '../../src/internal-tokens/key-ring.ts'
import { createLoggers } from '../../src/observability/logger.ts'
import { GatewayMetrics } from '../../src/observability/metrics.ts'
import { GatewayRuntime } from '../../src/pipeline/runtime.ts'
import { UpstreamRegistry } from '../../src/proxy/upstreams.ts'
import { load, problems, registry } from '../harness/config.ts'

const SERVICES = `_format_version: "3.0"
services:
- name: catalog
  url: http://catalog.internal:8080/v1
- name: reviews
  url: http://reviews.internal:8080
`

/** A file with the two services and one top-level route `page` with the given composition lines. */
function page(composition: string, route = '  paths: ["~/api/products/(?<id>[A-Za-z0-9_-]+)$"]\n'): string {
  return `${SERVICES}routes:
- name: page
${route}  composition:
${composition}`
}

const TWO_PARTS = `    parts:
    - name: product
      service: catalog
      path: /products/{id}
    - name: reviews
      service: reviews
      path: /reviews?product={id}
      audience: reviews-api
      timeout: 9000
`

describe('composition configuration', () => {
  it('fills in the defaults: 3000 ms, audience = service name, part timeout capped by the composition', () => {
    const route = load(page(TWO_PARTS)).routes[0]!
    assert.equal(route.service, null)
    const composition = route.composition!
    assert.equal(composition.timeout, 3000)
    const [product, reviews] = composition.parts
    assert.equal(product!.audience, 'catalog')
    assert.equal(product!.timeout, 3000)
    assert.equal(product!.required, false)
    assert.equal(product!.public, false)
    assert.equal(reviews!.audience, 'reviews-api')
    assert.equal(reviews!.timeout, 3000)
    assert.ok(Object.isFrozen(composition.parts[0]))
  })

  it('leaves composition null on ordinary routes', () => {
    const config = load(
      `${SERVICES.replace('  url: http://reviews.internal:8080\n', '  url: http://reviews.internal:8080\n  routes: [{ name: r, paths: [/r] }]\n')}`,
    )
    assert.equal(config.routes[0]!.composition, null)
  })

  it('refuses a part naming a service the file does not have', () => {
    assert.deepEqual(
      problems(page('    parts:\n    - { name: product, service: katalog, path: "/p/{id}" }\n')),
      ["gatehouse.yaml: routes[0].composition.parts[0].service: no service with name or id 'katalog'"],
    )
  })

  it('refuses two parts with the same name, and the reserved name _errors', () => {
    assert.deepEqual(
      problems(
        page(`    parts:
    - { name: product, service: catalog, path: /a }
    - { name: product, service: reviews, path: /b }
`),
      ),
      [
        "gatehouse.yaml: routes[0].composition.parts[1].name: duplicate part name 'product' (also at parts[0])",
      ],
    )
    assert.deepEqual(problems(page('    parts:\n    - { name: _errors, service: reviews, path: /c }\n')), [
      "gatehouse.yaml: routes[0].composition.parts[0].name: '_errors' is where failed parts are reported; pick another",
    ])
  })

  it('refuses a composition route that also has a service, naming the route', () => {
    assert.deepEqual(problems(page(TWO_PARTS, '  service: catalog\n  paths: ["~/p/(?<id>[a-z]+)$"]\n')), [
      "gatehouse.yaml: routes[0].service: route 'page' has a composition, which answers from its parts: remove its service",
    ])
    const nested = `${SERVICES}  routes:
  - name: nested-page
    paths: ["~/p/(?<id>[a-z]+)$"]
    composition:
      parts: [{ name: product, service: catalog, path: "/products/{id}" }]
`
    assert.deepEqual(problems(nested), [
      "gatehouse.yaml: services[1].routes[0].composition: route 'nested-page' is nested in a service, but a composition route answers from its parts: declare it under the top-level routes",
    ])
  })

  it('refuses a {capture} that is not a named capture of every path of the route', () => {
    const parts = '    parts:\n    - { name: product, service: catalog, path: "/products/{sku}?v={id}" }\n'
    assert.deepEqual(problems(page(parts)), [
      "gatehouse.yaml: routes[0].composition.parts[0].path: '{sku}' is not a named capture of the route's paths[0]; name it there, e.g. (?<sku>[^/]+)",
    ])
    const twoPaths = '  paths: ["~/a/(?<id>[a-z]+)$", "/b"]\n'
    assert.deepEqual(problems(page(parts.replace('{sku}', '{id}'), twoPaths)), [
      "gatehouse.yaml: routes[0].composition.parts[0].path: '{id}' is not a named capture of the route's paths[1]; name it there, e.g. (?<id>[^/]+)",
    ])
    assert.deepEqual(problems(page(parts.replace('{sku}', 'x'), '  hosts: [shop.example]\n')), [
      "gatehouse.yaml: routes[0].composition.parts[0].path: '{id}' is not a named capture of the route's paths: the route has no paths; give it a regex path such as ~/api/products/(?<id>[^/]+)$",
    ])
  })

  it('refuses malformed part paths, names and timeouts', () => {
    assert.deepEqual(
      problems(
        page(`    timeout: 0
    parts:
    - { name: 1st, service: catalog, path: "products/{id}" }
    - { name: b, service: catalog, path: "/p/{id" }
    - { name: c, service: catalog, path: /p, timeout: 60001 }
`),
      ),
      [
        'gatehouse.yaml: routes[0].composition.timeout: expected number to be >=1',
        'gatehouse.yaml: routes[0].composition.parts[0].name: must match [A-Za-z_][A-Za-z0-9_]*, e.g. product',
        'gatehouse.yaml: routes[0].composition.parts[0].path: must start with "/" and contain no spaces or "#"',
        'gatehouse.yaml: routes[0].composition.parts[1].path: braces only as {name}, a named capture of the route path, e.g. /products/{id}',
        'gatehouse.yaml: routes[0].composition.parts[2].timeout: expected number to be <=60000',
      ],
    )
    assert.deepEqual(problems(page('    parts: []\n')), [
      'gatehouse.yaml: routes[0].composition.parts: expected array to have >=1 items',
    ])
  })

  it("keeps the parts' upstream pools in the runtime, so a reload keeps them open", async () => {
    const logger = createLoggers({ level: 'silent' }).logger
    const config = load(page(TWO_PARTS))
    const upstreams = new UpstreamRegistry()
    const runtime = new GatewayRuntime(config, {
      registry,
      upstreams,
      metrics: new GatewayMetrics(),
      logger,
      internalKeys: new InternalKeyRing(config.settings.internal_tokens, logger),
    })
    assert.deepEqual([...runtime.upstreamKeys].map((k) => k.split('|')[0]).sort(), [
      'http://catalog.internal:8080',
      'http://reviews.internal:8080',
    ])
    const match = runtime.router.match({
      method: 'GET',
      host: '',
      port: 80,
      path: '/api/products/p-1',
      headers: {},
    })
    const plan = match!.target.composition!
    assert.deepEqual(
      plan.parts.map((p) => [p.name, p.target.literals.join('{}'), p.audience]),
      [
        ['product', '/v1/products/{}', ['catalog']],
        ['reviews', '/reviews?product={}', ['reviews-api']],
      ],
    )
    assert.deepEqual(plan.publicParts, [])
    await runtime.close()
    await upstreams.closeAll()
  })
})
