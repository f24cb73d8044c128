/**
 * reviews: what customers said about a product. Public (the token is optional); when the caller is known,
 * reviews from the caller's country (the `country` claim the gateway put in the internal token) come
 * first, then the rest, newest first within each.
 *
 *   GET /reviews?product={id}
 */
import { authenticate } from 'gatehouse-sdk/http'
import { productById } from '../data/products.ts'
import { REVIEWS, type Review } from '../data/reviews.ts'
import { HttpError, json, methodNotAllowed, notFound, serve, verifierFor } from '../lib/service.ts'

const guard = authenticate(verifierFor('reviews'), { optional: true })

const BY_PRODUCT = new Map<string, Review[]>()
for (const r of REVIEWS) {
  const list = BY_PRODUCT.get(r.product_id) ?? []
  list.push(r)
  BY_PRODUCT.set(r.product_id, list)
}
for (const list of BY_PRODUCT.values()) list.sort((a, b) => b.date.localeCompare(a.date))

serve('reviews', async (req, res, { method, path, query }) => {
  const identity = await guard(req, res)
  if (res.headersSent) return
  if (path !== '/reviews') return notFound(res)
  if (method !== 'GET') return methodNotAllowed(res, 'GET')
  const productId = query.get('product')
  if (productId === null) throw new HttpError(400, 'product_required', 'Name the product: ?product={id}')
  if (productById(productId) === undefined) return notFound(res)
  const country = typeof identity?.claims.country === 'string' ? identity.claims.country : null
  const all = BY_PRODUCT.get(productId) ?? []
  const local = country === null ? [] : all.filter((r) => r.country === country)
  const reviews = [...local, ...all.filter((r) => r.country !== country)]
  const average = all.length === 0 ? null : all.reduce((sum, r) => sum + r.rating, 0) / all.length
  return json(res, 200, {
    product_id: productId,
    country,
    count: all.length,
    from_country: local.length,
    average_rating: average === null ? null : Math.round(average * 10) / 10,
    reviews,
  })
})
