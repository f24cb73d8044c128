/**
 * catalog: the products (description, brand, dimensions, price, image). Public: anyone may read it, so
 * the internal token is optional here, but one that is sent must be valid (the SDK refuses a bad one).
 *
 *   GET /products[?category=kitchen]   the list
 *   GET /products/{id}                 one product, 404 when unknown
 */
import { authenticate } from 'gatehouse-sdk/http'
import { PRODUCTS, productById } from '../data/products.ts'
import { HttpError, json, methodNotAllowed, notFound, param, serve, verifierFor } from '../lib/service.ts'

const guard = authenticate(verifierFor('catalog'), { optional: true })
const CATEGORIES = [...new Set(PRODUCTS.map((p) => p.category))]

serve('catalog', async (req, res, { method, path, query }) => {
  await guard(req, res)
  if (res.headersSent) return // a token was sent and refused
  if (method !== 'GET') return methodNotAllowed(res, 'GET')
  if (path === '/products') {
    const category = query.get('category')
    if (category !== null && !CATEGORIES.some((c) => c === category))
      throw new HttpError(400, 'invalid_category', `Unknown category; one of ${CATEGORIES.join(', ')}`)
    const products = category === null ? PRODUCTS : PRODUCTS.filter((p) => p.category === category)
    return json(res, 200, { products, categories: CATEGORIES })
  }
  const id = param(path, '/products/')
  const product = id === null ? undefined : productById(id)
  if (product === undefined) return notFound(res)
  return json(res, 200, product)
})
