/**
 * promotions: offers for the caller's customer type (the `customer_type` claim the gateway added from the
 * users service): premium members and standard customers see different offers. With ?product={id},
 * only the offers that apply to that product's category, plus those for everything. Callers must be
 * known (a request without a token gets 401); an unknown type gets the standard offers.
 *
 *   GET /promotions[?product={id}]
 */
import { authenticate } from 'gatehouse-sdk/http'
import { productById } from '../data/products.ts'
import { OFFERS } from '../data/promotions.ts'
import { json, methodNotAllowed, notFound, serve, verifierFor } from '../lib/service.ts'

const guard = authenticate(verifierFor('promotions'))

serve('promotions', async (req, res, { method, path, query }) => {
  const identity = await guard(req, res)
  if (identity === null) return
  if (path !== '/promotions') return notFound(res)
  if (method !== 'GET') return methodNotAllowed(res, 'GET')
  const claimed = identity.claims.customer_type
  const customerType = claimed === 'premium' || claimed === 'standard' ? claimed : null
  const productId = query.get('product')
  const product = productId === null ? undefined : productById(productId)
  if (productId !== null && product === undefined) return notFound(res)
  const offers = OFFERS.filter(
    (o) =>
      o.customer_type === (customerType ?? 'standard') &&
      (product === undefined || o.category === null || o.category === product.category),
  )
  return json(res, 200, { customer_type: customerType, offers })
})
