/**
 * basket: the caller's own basket, and no one else's. Baskets are keyed by the subject of the verified
 * internal token and by nothing the caller sends: no URL, parameter or body field names a user, so
 * there is no address at which another user's basket could be read or changed. Items are keyed by
 * product id (adding a product again raises its quantity).
 *
 *   GET    /basket                 the caller's basket
 *   POST   /basket/items           { product_id, quantity = 1 } → 201 the basket
 *   DELETE /basket/items/{id}      removes that product → the basket (404 when it is not in it)
 *   POST   /orders                 places the order for the basket → 201 the order, the basket emptied
 *                                  (409 when it is empty). The gateway's orders route requires a second
 *                                  factor within 10 minutes (step-up); this checks the token's amr and
 *                                  auth_time again, so a route misconfigured without it cannot order.
 *
 * Only people have baskets: a program calling with client credentials gets 403. In memory, bounded.
 */
import type { Identity } from 'gatehouse-sdk'
import { authenticate } from 'gatehouse-sdk/http'
import { productById, summary } from '../data/products.ts'
import {
  HttpError,
  json,
  methodNotAllowed,
  notFound,
  param,
  readJson,
  serve,
  verifierFor,
} from '../lib/service.ts'

const guard = authenticate(verifierFor('basket'))
const MAX_QUANTITY = 10
const MAX_LINES = 50
const MAX_BASKETS = 10_000
/** Seconds since the second factor within which an order may be placed (the gateway's max_age). */
const ORDER_MAX_AGE = 600
let orderCount = 0

/** subject → product id → quantity. */
const baskets = new Map<string, Map<string, number>>()

function basketOf(identity: Identity, create: boolean): Map<string, number> | undefined {
  let basket = baskets.get(identity.subject)
  if (basket === undefined && create) {
    if (baskets.size >= MAX_BASKETS) throw new HttpError(503, 'busy', 'Too many baskets; try again later')
    basket = new Map()
    baskets.set(identity.subject, basket)
  }
  return basket
}

function view(basket: Map<string, number> | undefined) {
  const items = [...(basket ?? [])].map(([id, quantity]) => {
    const product = productById(id)!
    return { id, product: summary(product), quantity, line_total_cents: product.price_cents * quantity }
  })
  return {
    items,
    count: items.reduce((n, i) => n + i.quantity, 0),
    total_cents: items.reduce((n, i) => n + i.line_total_cents, 0),
    currency: 'EUR',
  }
}

async function addItem(req: Parameters<typeof readJson>[0], identity: Identity) {
  const body = await readJson(req)
  const { product_id: productId, quantity = 1 } = (body ?? {}) as { product_id?: unknown; quantity?: unknown }
  if (typeof productId !== 'string' || productById(productId) === undefined)
    throw new HttpError(400, 'invalid_product', 'product_id must name a product of the catalog')
  if (!Number.isInteger(quantity) || (quantity as number) < 1 || (quantity as number) > MAX_QUANTITY)
    throw new HttpError(400, 'invalid_quantity', `quantity must be a whole number from 1 to ${MAX_QUANTITY}`)
  const basket = basketOf(identity, true)!
  if (!basket.has(productId) && basket.size >= MAX_LINES)
    throw new HttpError(409, 'basket_full', `A basket holds at most ${MAX_LINES} products`)
  basket.set(productId, Math.min(MAX_QUANTITY, (basket.get(productId) ?? 0) + (quantity as number)))
  return view(basket)
}

function placeOrder(identity: Identity) {
  if (!identity.hasAmr('mfa') || !identity.authenticatedWithin(ORDER_MAX_AGE))
    throw new HttpError(403, 'step_up_required', 'Placing an order needs a second factor within 10 minutes')
  const basket = basketOf(identity, false)
  if (basket === undefined || basket.size === 0)
    throw new HttpError(409, 'basket_empty', 'The basket is empty: there is nothing to order')
  const order = { id: `o-${++orderCount}`, ...view(basket), placed_at: new Date().toISOString() }
  baskets.delete(identity.subject)
  return order
}

serve('basket', async (req, res, { method, path }) => {
  const identity = await guard(req, res)
  if (identity === null) return
  if (identity.kind !== 'user') throw new HttpError(403, 'forbidden', 'Only people have baskets')
  if (path === '/orders') {
    if (method !== 'POST') return methodNotAllowed(res, 'POST')
    return json(res, 201, placeOrder(identity))
  }
  if (path === '/basket') {
    if (method !== 'GET') return methodNotAllowed(res, 'GET')
    return json(res, 200, view(basketOf(identity, false)))
  }
  if (path === '/basket/items') {
    if (method !== 'POST') return methodNotAllowed(res, 'POST')
    return json(res, 201, await addItem(req, identity))
  }
  const id = param(path, '/basket/items/')
  if (id === null) return notFound(res)
  if (method !== 'DELETE') return methodNotAllowed(res, 'DELETE')
  const basket = basketOf(identity, false)
  if (!basket?.delete(id)) return notFound(res)
  return json(res, 200, view(basket))
})
