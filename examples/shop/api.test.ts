/**
 * The shop's API over HTTP, without a browser. GET /api/products/{id} is one request the gateway answers
 * from five services (the `composition` route in gatehouse.yaml): complete and personal with every
 * service up, still there in time with one service stopped (that part null and named), gone without the
 * catalog, its one required part. Basket changes need this site's Origin or the CSRF token. Placing an
 * order needs a second factor within 10 minutes (step-up): a password-only session gets the RFC 9470
 * challenge. And the services trust nothing but the gateway's token: called directly, they refuse.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Shop } from './lib/shop.ts'
import { type CookieJar, signInOverHttp, startTestShop } from './test-support.ts'

const PAGE = '/api/products/p-01'

describe('the shop’s API', { timeout: 60_000 }, () => {
  let shop: Shop
  let alice: CookieJar

  before(async () => {
    shop = await startTestShop()
    alice = await signInOverHttp(shop, shop.accounts.alice)
  })

  after(() => shop?.stop())

  async function page(jar: CookieJar | null) {
    const started = performance.now()
    const res = jar === null ? await fetch(shop.base + PAGE) : await jar.fetch(shop.base + PAGE)
    const body = (await res.json()) as Record<string, unknown> & {
      _errors?: Record<string, { code: string }>
    }
    return { res, body, ms: performance.now() - started }
  }

  it('gives anonymous visitors the public parts only: the product and its reviews', async () => {
    const { res, body } = await page(null)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-gatehouse-completed'), 'true')
    assert.deepEqual(Object.keys(body).sort(), ['product', 'reviews'])
    assert.equal((body.reviews as { country: unknown }).country, null)
  })

  it('gives alice every part, personal to her: premium offers, GB first, her basket', async () => {
    const { res, body } = await page(alice)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-gatehouse-completed'), 'true')
    assert.equal(res.headers.get('cache-control'), 'private, no-store')
    assert.deepEqual(Object.keys(body).sort(), [
      'basket',
      'product',
      'promotions',
      'recommendations',
      'reviews',
    ])
    assert.equal((body.promotions as { customer_type: string }).customer_type, 'premium')
    assert.equal((body.reviews as { country: string }).country, 'GB')
    assert.equal((body.recommendations as { country: string }).country, 'GB')
    assert.deepEqual(body.basket, { items: [], count: 0, total_cents: 0, currency: 'EUR' })
  })

  it('still answers in time with recommendations stopped: that part null, named in _errors, marked incomplete', async () => {
    await shop.services.recommendations.stop()
    const { res, body, ms } = await page(alice)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('x-gatehouse-completed'), 'false')
    assert.equal(body.recommendations, null)
    assert.deepEqual(Object.keys(body._errors ?? {}), ['recommendations'])
    assert.match(body._errors!.recommendations!.code, /^GH_ERR_UPSTREAM_/)
    assert.equal((body.promotions as { customer_type: string }).customer_type, 'premium')
    assert.ok(ms < 2500, `answered in ${Math.round(ms)} ms, within the composition's 2.5 s`)
  })

  it('has no page without the catalog, the required part: 502 with a coded message', async () => {
    await shop.services.catalog.stop()
    const res = await fetch(shop.base + PAGE)
    assert.equal(res.status, 502)
    const body = (await res.json()) as { code: string; message: string }
    assert.match(body.code, /^GH_ERR_/)
    assert.ok(body.message.length > 0)
  })

  it('refuses a basket change from another site, and takes one from the shop’s own page', async () => {
    const add = (headers: Record<string, string>) =>
      alice.fetch(`${shop.base}/api/basket/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ product_id: 'p-02', quantity: 1 }),
      })
    assert.equal((await add({ origin: 'https://evil.example' })).status, 403)
    assert.equal((await add({})).status, 403, 'no Origin and no CSRF token')
    assert.equal((await add({ origin: shop.base })).status, 201)
    const { csrf_token: csrf } = (await (await alice.fetch(`${shop.base}/session`)).json()) as {
      csrf_token: string
    }
    const added = await add({ 'x-csrf-token': csrf })
    assert.equal(added.status, 201)
    assert.equal(((await added.json()) as { count: number }).count, 2)
  })

  it('asks a password-only session for a second factor before placing an order (RFC 9470)', async () => {
    await alice.fetch(`${shop.base}/api/basket/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: shop.base },
      body: JSON.stringify({ product_id: 'p-03', quantity: 1 }),
    })
    const order = await alice.fetch(`${shop.base}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: shop.base, accept: 'application/json' },
      body: '{}',
    })
    assert.equal(order.status, 401)
    assert.equal(
      order.headers.get('www-authenticate'),
      'Bearer error="insufficient_user_authentication", error_description="A stronger authentication is required", acr_values="urn:gatehouse:acr:2fa", max_age=600',
    )
    const body = (await order.json()) as Record<string, string>
    assert.equal(body.code, 'GH_ERR_AUTH_STEP_UP_REQUIRED')
    assert.equal(body.login, '/login?acr_values=urn%3Agatehouse%3Aacr%3A2fa&amr=mfa&max_age=600')
    // Nothing was ordered: the basket is as it was.
    const basket = (await (await alice.fetch(`${shop.base}/api/basket`)).json()) as { count: number }
    assert.ok(basket.count > 0)
    // The basket service decides too: a token without mfa cannot order even on a route that let it through.
    assert.equal((await fetch(`${shop.services.basket.url}/orders`, { method: 'POST' })).status, 401)
  })

  it('leaves every service refusing a caller that did not come through the gateway', async () => {
    const forged = ['Bearer not-a-token', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1LWFsaWNlIn0.']
    for (const name of ['basket', 'promotions'] as const) {
      const direct = `${shop.services[name].url}/${name}`
      assert.equal((await fetch(direct)).status, 401, `${name} without a token`)
      for (const authorization of forged)
        assert.equal(
          (await fetch(direct, { headers: { authorization } })).status,
          401,
          `${name}: ${authorization}`,
        )
      // Kong-style identity headers mean nothing to a service: only the signed token does.
      const spoofed = await fetch(direct, {
        headers: { 'x-consumer-username': 'alice', 'x-user-id': 'u-alice' },
      })
      assert.equal(spoofed.status, 401)
    }
    // The public reviews take no token, but refuse a bad one.
    const reviews = `${shop.services.reviews.url}/reviews?product=p-01`
    assert.equal((await fetch(reviews)).status, 200)
    assert.equal((await fetch(reviews, { headers: { authorization: forged[0]! } })).status, 401)
  })
})
