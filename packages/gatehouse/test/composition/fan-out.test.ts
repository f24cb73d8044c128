/**
 * API composition (issue 6) on a real gateway in front of three real services: one request fans out in
 * parallel, each part gets its own internal token (verified here with jose against the gateway's JWKS)
 * and nothing of the client's credentials, captures are substituted URL-encoded, the answers merge into
 * one JSON document, and anonymous callers get the public parts only.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { json, type PartService, rendezvous, startPartService } from './support.ts'

const ISSUER = 'https://gatehouse.test'
const API_KEY = 'alice-key-0123456789abcdef'
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

describe('composition: fan-out and merge', () => {
  let catalog: PartService
  let reviews: PartService
  let recommendations: PartService
  let gh: GatehouseProcess
  const meet = rendezvous(3)

  before(async () => {
    const part = (name: string) =>
      startPartService(name, (req, res) => {
        const answer = () => json(res, 200, { service: name, url: req.url })
        if ((req.url ?? '').includes('rendezvous')) meet(answer)
        else answer()
      })
    ;[catalog, reviews, recommendations] = await Promise.all([
      part('catalog'),
      part('reviews'),
      part('recommendations'),
    ])
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        internal_tokens: { issuer: ISSUER },
        services: [
          { name: 'catalog', url: catalog.url },
          // The service's own path goes before each part's path.
          { name: 'reviews', url: `${reviews.url}/v2` },
          { name: 'recommendations', url: recommendations.url },
        ],
        routes: [
          {
            name: 'product-page',
            paths: ['~/api/products/(?<id>[^/]+)$'],
            plugins: [
              { name: 'key-auth', config: { anonymous: 'guest' } },
              { name: 'internal-token', config: { audience: 'catalog' } },
              { name: 'response-transformer', config: { add: { headers: ['x-page:product'] } } },
            ],
            composition: {
              timeout: 2500,
              parts: [
                {
                  name: 'product',
                  service: 'catalog',
                  path: '/products/{id}',
                  required: true,
                  public: true,
                },
                {
                  name: 'reviews',
                  service: 'reviews',
                  path: '/reviews?product={id}',
                  audience: 'reviews-api',
                  timeout: 1500,
                  public: true,
                },
                {
                  name: 'recommendations',
                  service: 'recommendations',
                  path: '/recommendations?product={id}',
                },
              ],
            },
          },
        ],
        consumers: [{ username: 'alice', keyauth_credentials: [{ key: API_KEY }] }, { username: 'guest' }],
      },
    })
  })

  after(async () => {
    await gh?.stop()
    await Promise.all([catalog?.close(), reviews?.close(), recommendations?.close()])
  })

  const asAlice = (more: Record<string, string> = {}) => ({ headers: { apikey: API_KEY, ...more } })

  it('calls every part in parallel and merges their JSON under the part names', async () => {
    const res = await gh.proxy('/api/products/rendezvous', asAlice())
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
    assert.equal(res.headers.get('x-gatehouse-completed'), 'true')
    assert.equal(res.headers.get('cache-control'), 'private, no-store')
    // The response phase ran as for a proxied response.
    assert.equal(res.headers.get('x-page'), 'product')
    assert.deepEqual(await res.json(), {
      product: { service: 'catalog', url: '/products/rendezvous' },
      reviews: { service: 'reviews', url: '/v2/reviews?product=rendezvous' },
      recommendations: { service: 'recommendations', url: '/recommendations?product=rendezvous' },
    })
    // Every part had arrived before any was answered: they were in flight together.
    const arrivals = [catalog, reviews, recommendations].map((s) => s.arrivals.at(-1)!)
    const lastArrival = Math.max(...arrivals.map((a) => a.arrivedAt))
    for (const a of arrivals) assert.ok(a.answeredAt > lastArrival, `${a.url} answered before all arrived`)
  })

  it('substitutes the route’s named captures URL-encoded, so a capture cannot add a segment or a parameter', async () => {
    const res = await gh.proxy('/api/products/a%20b:c&admin=1', asAlice())
    assert.equal(res.status, 200)
    const body = (await res.json()) as Record<string, { url: string }>
    assert.equal(body.product!.url, '/products/a%20b%3Ac%26admin%3D1')
    assert.equal(body.reviews!.url, '/v2/reviews?product=a%20b%3Ac%26admin%3D1')
    assert.equal(body.recommendations!.url, '/recommendations?product=a%20b%3Ac%26admin%3D1')
  })

  it('sends each part an internal token for its own audience and the same subject, and none of the client’s credentials', async () => {
    const res = await gh.proxy(
      '/api/products/p-1',
      asAlice({
        authorization: 'Bearer the-clients-own-token',
        cookie: 'session=secret-cookie',
        'x-request-id': 'composition-test-1',
        traceparent: TRACEPARENT,
        'x-consumer-username': 'admin',
      }),
    )
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    const jwks = createRemoteJWKSet(new URL(`${gh.proxyUrl}/.well-known/gatehouse/jwks.json`))
    const expected = [
      [catalog, 'catalog'],
      [reviews, 'reviews-api'],
      [recommendations, 'recommendations'],
    ] as const
    for (const [service, audience] of expected) {
      const got = service.arrivals.at(-1)!
      const headers = got.headers
      const token = /^Bearer (.+)$/.exec(String(headers.authorization))?.[1]
      assert.ok(token, `${audience}: no internal token`)
      assert.equal(decodeProtectedHeader(token).typ, 'gatehouse-internal+jwt')
      const { payload } = await jwtVerify(token, jwks, {
        issuer: ISSUER,
        audience,
        typ: 'gatehouse-internal+jwt',
      })
      assert.deepEqual(payload.aud, [audience])
      assert.equal(payload.sub, 'alice')
      assert.equal(headers.apikey, undefined)
      assert.equal(headers.cookie, undefined)
      assert.equal(headers['x-consumer-username'], undefined)
      assert.equal(headers.accept, 'application/json')
      assert.equal(headers['x-request-id'], 'composition-test-1')
      assert.equal(headers.traceparent, TRACEPARENT)
      assert.ok(!JSON.stringify(headers).includes('the-clients-own-token'))
    }
  })

  it('gives anonymous callers the public parts only, without a token', async () => {
    const before = recommendations.arrivals.length
    const res = await gh.proxy('/api/products/p-2')
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-gatehouse-completed'), 'true')
    assert.equal(res.headers.get('cache-control'), null)
    assert.deepEqual(await res.json(), {
      product: { service: 'catalog', url: '/products/p-2' },
      reviews: { service: 'reviews', url: '/v2/reviews?product=p-2' },
    })
    assert.equal(recommendations.arrivals.length, before, 'a non-public part was called')
    assert.equal(catalog.arrivals.at(-1)!.headers.authorization, undefined)
    assert.equal(reviews.arrivals.at(-1)!.headers.authorization, undefined)
  })

  it('answers HEAD like GET without a body, and other methods with 405 and Allow', async () => {
    const head = await gh.proxy('/api/products/p-3', { method: 'HEAD', ...asAlice() })
    assert.equal(head.status, 200)
    assert.equal(head.headers.get('x-gatehouse-completed'), 'true')
    assert.ok(Number(head.headers.get('content-length')) > 0)
    assert.equal(await head.text(), '')

    const calls = catalog.arrivals.length
    const post = await gh.proxy('/api/products/p-3', { method: 'POST', body: '{}', ...asAlice() })
    assert.equal(post.status, 405)
    assert.equal(post.headers.get('allow'), 'GET, HEAD')
    const body = (await post.json()) as { code: string; message: string }
    assert.equal(body.code, 'GH_ERR_COMPOSITION_METHOD_NOT_ALLOWED')
    assert.equal(body.message, 'Method not allowed: this route answers GET and HEAD')
    assert.equal(catalog.arrivals.length, calls)
  })

  it('shows the composition, with its defaults resolved, in the admin API', async () => {
    const res = await gh.admin('/routes/product-page')
    assert.equal(res.status, 200)
    const route = (await res.json()) as { service: unknown; composition: unknown }
    assert.equal(route.service, null)
    const catalogId = ((await (await gh.admin('/services/catalog')).json()) as { id: string }).id
    assert.deepEqual(route.composition, {
      timeout: 2500,
      parts: [
        {
          name: 'product',
          service: { id: catalogId },
          path: '/products/{id}',
          audience: 'catalog',
          timeout: 2500,
          required: true,
          public: true,
        },
        {
          name: 'reviews',
          service: { id: ((await (await gh.admin('/services/reviews')).json()) as { id: string }).id },
          path: '/reviews?product={id}',
          audience: 'reviews-api',
          timeout: 1500,
          required: false,
          public: true,
        },
        {
          name: 'recommendations',
          service: {
            id: ((await (await gh.admin('/services/recommendations')).json()) as { id: string }).id,
          },
          path: '/recommendations?product={id}',
          audience: 'recommendations',
          timeout: 2500,
          required: false,
          public: false,
        },
      ],
    })
  })

  it('logs the request under the route with its status', async () => {
    const res = await gh.proxy('/api/products/p-4', asAlice({ 'x-request-id': 'composition-log-1' }))
    await res.arrayBuffer()
    const line = await gh.waitForLog((l) => l.type === 'access' && l.request_id === 'composition-log-1')
    assert.equal(line.route, 'product-page')
    assert.equal(line.service, null)
    assert.equal(line.status, 200)
    assert.equal(line.consumer, 'alice')
    assert.equal(line.failed_parts, undefined)
  })
})
