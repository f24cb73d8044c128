/**
 * recommendations: products for the caller, from two facts in the internal token only: the subject (whose
 * seeded order history it knows) and the `country` claim (what sells there). Callers must be known: the
 * gateway leaves this part out for anonymous visitors, and a request without a token gets 401.
 *
 *   GET /recommendations[?product={id}]   four products, each with the reason it was picked
 */
import { authenticate } from 'gatehouse-sdk/http'
import { BESTSELLERS, GLOBAL_BESTSELLERS, ORDER_HISTORY } from '../data/orders.ts'
import { PRODUCTS, type Product, productById, summary } from '../data/products.ts'
import { json, methodNotAllowed, notFound, serve, verifierFor } from '../lib/service.ts'

const guard = authenticate(verifierFor('recommendations'))
const COUNT = 4

serve('recommendations', async (req, res, { method, path, query }) => {
  const identity = await guard(req, res)
  if (identity === null) return
  if (path !== '/recommendations') return notFound(res)
  if (method !== 'GET') return methodNotAllowed(res, 'GET')
  const country = typeof identity.claims.country === 'string' ? identity.claims.country : null
  const history = ORDER_HISTORY[identity.subject] ?? []
  const current = query.get('product')

  const picked: { product: Product; reason: string }[] = []
  const skip = new Set([...history, ...(current === null ? [] : [current])])
  const add = (product: Product | undefined, reason: string) => {
    if (product === undefined || skip.has(product.id) || picked.length >= COUNT) return
    skip.add(product.id)
    picked.push({ product, reason })
  }
  // One item in the category of each past order, most recent order first.
  for (const id of [...history].reverse()) {
    const bought = productById(id)
    if (bought === undefined) continue
    add(
      PRODUCTS.find((p) => p.category === bought.category && !skip.has(p.id)),
      `Because you bought the ${bought.name.toLowerCase()}`,
    )
    if (picked.length >= 2) break
  }
  const local = country === null ? undefined : BESTSELLERS[country]
  for (const id of local ?? []) add(productById(id), `Popular in ${country}`)
  for (const id of GLOBAL_BESTSELLERS) add(productById(id), 'Popular everywhere')

  return json(res, 200, {
    country,
    based_on: { country, past_orders: history.length },
    items: picked.map(({ product, reason }) => ({ ...summary(product), reason })),
  })
})
