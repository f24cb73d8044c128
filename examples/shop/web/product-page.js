/**
 * The product page, from one request: GET /api/products/{id}, which the gateway answers from five
 * services at once (the `composition` route of gatehouse.yaml). A part can be there, missing because it
 * failed (null, with the reason in `_errors`), or absent because it is not for anonymous visitors; each
 * panel shows which, and the bottom of the page lists the parts.
 */
import { api, loginHref, messageOf, session, setBasketCount } from './api.js'
import { h, link, locked, money, problem, productCard, show, stars, tile } from './dom.js'

const PART_LABELS = {
  product: 'Product',
  reviews: 'Reviews',
  recommendations: 'Recommendations',
  promotions: 'Offers',
  basket: 'Basket',
}

export async function productPage(id) {
  const res = await api(`/api/products/${encodeURIComponent(id)}`)
  if (res.status === 404)
    return show(problem('No such product', 'It may have been removed from the catalog.'))
  if (!res.ok || !res.body?.product) return show(problem('This page is unavailable', messageOf(res)))
  const page = res.body
  const product = page.product
  const errors = page._errors ?? {}
  document.title = `${product.name} · Gatehouse Shop`

  const status = h('p', { class: 'status', role: 'status', id: 'buy-status' })
  const quantity = h('select', { id: 'quantity', name: 'quantity' })
  for (let n = 1; n <= 5; n++) quantity.append(h('option', { value: n }, n))
  const addButton = h('button', { type: 'submit', id: 'add-to-basket' }, 'Add to basket')
  const buy = h(
    'form',
    { class: 'buy', id: 'buy' },
    h('label', { for: 'quantity' }, 'Quantity', quantity),
    addButton,
  )
  const basketPanel = h('section', { class: 'panel', id: 'basket-panel', 'aria-labelledby': 'basket-title' })
  buy.addEventListener('submit', async (event) => {
    event.preventDefault()
    if (!session.authenticated) {
      status.className = 'status error'
      status.replaceChildren('Please ', h('a', { href: loginHref() }, 'log in'), ' to add to your basket.')
      return
    }
    addButton.disabled = true
    const added = await api('/api/basket/items', {
      method: 'POST',
      body: JSON.stringify({ product_id: product.id, quantity: Number(quantity.value) }),
    }).catch(() => null)
    addButton.disabled = false
    if (added?.ok) {
      status.className = 'status'
      status.textContent = `Added ${quantity.value} × ${product.name} to your basket.`
      setBasketCount(added.body.count)
      fillBasketPanel(basketPanel, added.body, 'basket' in errors)
    } else {
      status.className = 'status error'
      status.textContent =
        added?.status === 401
          ? 'Your session has ended; please log in again.'
          : `Not added: ${added ? messageOf(added) : 'no answer'}`
    }
  })

  const d = product.dimensions
  const specs = h(
    'dl',
    { class: 'specs' },
    h('dt', { text: 'Brand' }),
    h('dd', { text: product.brand }),
    h('dt', { text: 'Size' }),
    h('dd', { text: `${d.width_cm} × ${d.depth_cm} × ${d.height_cm} cm` }),
    h('dt', { text: 'Weight' }),
    h('dd', { text: `${d.weight_kg} kg` }),
    h('dt', { text: 'Category' }),
    h('dd', { text: product.category }),
  )

  if ('basket' in page && page.basket) fillBasketPanel(basketPanel, page.basket, false)
  else fillBasketPanel(basketPanel, null, 'basket' in page)

  show(
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      link('/', {}, 'Products'),
      ` / ${product.category}`,
    ),
    h(
      'section',
      { class: 'product', id: 'product', 'data-product-id': product.id },
      tile(product, 'big'),
      h(
        'div',
        {},
        h('span', { class: 'brandname', text: product.brand }),
        h('h1', { text: product.name }),
        h('p', { class: 'price', text: money(product.price_cents, product.currency) }),
        h('p', { text: product.description }),
        buy,
        status,
        specs,
      ),
    ),
    h(
      'div',
      { class: 'panels' },
      offersPanel(page, errors),
      basketPanel,
      recommendationsPanel(page, errors),
      reviewsPanel(page, errors),
    ),
    composition(page, res),
  )
}

/** The notice shown in place of a part the gateway could not get. */
function unavailable(part, errors) {
  const error = errors[part]
  return h(
    'div',
    { class: 'unavailable', 'data-part': part },
    h(
      'p',
      {},
      `${PART_LABELS[part]} ${part.endsWith('s') ? 'are' : 'is'} unavailable right now; the rest of the page is fine.`,
      error?.code ? h('small', { text: `The gateway says: ${error.code}` }) : null,
    ),
  )
}

function panel(id, title, note, ...body) {
  return h(
    'section',
    { class: 'panel', id, 'aria-labelledby': `${id}-title` },
    h(
      'header',
      {},
      h('h2', { id: `${id}-title`, text: title }),
      note ? h('p', { class: 'note', text: note }) : null,
    ),
    ...body,
  )
}

function offersPanel(page, errors) {
  if (!('promotions' in page)) return panel('offers', 'Offers', null, locked('member offers'))
  if (page.promotions === null) return panel('offers', 'Offers', null, unavailable('promotions', errors))
  const { customer_type: type, offers } = page.promotions
  const title = type === 'premium' ? 'Premium member offers' : 'Offers for you'
  return panel(
    'offers',
    title,
    null,
    h('p', {}, h('span', { class: `tag ${type ?? ''}`, id: 'customer-type', text: type ?? 'customer' })),
    offers.length === 0
      ? h('p', { class: 'locked', text: 'No offers on this product today.' })
      : h(
          'ul',
          { class: 'offers' },
          offers.map((o) =>
            h(
              'li',
              { class: `offer ${o.customer_type}`, 'data-offer': o.id },
              h('strong', { text: o.title }),
              h(
                'p',
                {},
                o.description,
                o.code ? [' Code ', h('span', { class: 'code', text: o.code })] : null,
              ),
            ),
          ),
        ),
  )
}

function fillBasketPanel(el, basket, failed) {
  const head = h('header', {}, h('h2', { id: 'basket-title', text: 'Your basket' }))
  if (basket === null) {
    el.replaceChildren(head, failed ? unavailable('basket', { basket: null }) : locked('your basket'))
    return
  }
  if (basket.items.length === 0) {
    el.replaceChildren(head, h('p', { class: 'locked', text: 'Nothing in it yet.' }))
    return
  }
  el.replaceChildren(
    head,
    h(
      'ul',
      { class: 'mini' },
      basket.items.map((item) =>
        h(
          'li',
          {},
          tile(item.product),
          h('span', { class: 'grow', text: item.product.name }),
          h('span', { text: `× ${item.quantity}` }),
        ),
      ),
    ),
    h(
      'p',
      { class: 'total' },
      h('span', { text: 'Total' }),
      h('span', { text: money(basket.total_cents, basket.currency) }),
    ),
    link('/basket', { class: 'button quiet' }, 'View basket'),
  )
}

function recommendationsPanel(page, errors) {
  const id = 'recommendations'
  if (!(id in page)) return panel(id, 'Recommended for you', null, locked('recommendations picked for you'))
  if (page.recommendations === null) return panel(id, 'Recommended for you', null, unavailable(id, errors))
  const { based_on: basis, items } = page.recommendations
  const note = basis.country
    ? `From what sells in ${basis.country} and your ${basis.past_orders} past orders`
    : null
  const wide = h('section', { class: 'panel wide', id, 'aria-labelledby': `${id}-title` })
  wide.append(
    h(
      'header',
      {},
      h('h2', { id: `${id}-title`, text: 'Recommended for you' }),
      note ? h('p', { class: 'note', text: note }) : null,
    ),
    h('ul', { class: 'grid recs' }, items.map(productCard)),
  )
  return wide
}

function reviewsPanel(page, errors) {
  const id = 'reviews'
  if (page.reviews === null || !(id in page)) return panel(id, 'Reviews', null, unavailable(id, errors))
  const r = page.reviews
  const note =
    r.country && r.from_country > 0
      ? `${r.from_country} from ${r.country} first, then the rest`
      : `${r.count} reviews from customers everywhere`
  const section = h('section', { class: 'panel wide', id, 'aria-labelledby': `${id}-title` })
  section.append(
    h(
      'header',
      {},
      h(
        'h2',
        { id: `${id}-title` },
        'Reviews ',
        r.average_rating === null ? null : h('span', { class: 'stars', text: stars(r.average_rating) }),
      ),
      h('p', { class: 'note', text: note }),
    ),
    h(
      'ul',
      { class: 'reviews' },
      r.reviews.map((review) =>
        h(
          'li',
          { class: 'review', 'data-country': review.country },
          h('strong', { text: review.title }),
          ' ',
          h('span', {
            class: 'stars',
            text: stars(review.rating),
            'aria-label': `${review.rating} out of 5`,
          }),
          h('div', { class: 'meta', text: `${review.author} · ${review.country} · ${review.date}` }),
          h('p', { text: review.body }),
        ),
      ),
    ),
  )
  return section
}

/** How the gateway put the page together: each part, and the X-Gatehouse-Completed header. */
function composition(page, res) {
  const errors = page._errors ?? {}
  const completed = res.headers.get('x-gatehouse-completed')
  const parts = Object.keys(PART_LABELS).map((part) => {
    if (!(part in page))
      return h('li', { class: 'part absent', title: 'not for anonymous visitors' }, PART_LABELS[part])
    if (page[part] === null)
      return h('li', { class: 'part failed', title: errors[part]?.message ?? '' }, PART_LABELS[part])
    return h('li', { class: 'part ok' }, PART_LABELS[part])
  })
  return h(
    'section',
    { class: 'composed', id: 'composition', 'data-completed': completed ?? '' },
    h(
      'p',
      {},
      `This page is one request, GET /api/products/${page.product.id} (${res.ms} ms): `,
      session.authenticated
        ? 'the gateway asked the services in parallel, each with an internal token for that service alone.'
        : 'you are not signed in, so the gateway asked only the public services, with no token.',
      completed === 'false'
        ? [' ', h('code', { text: 'X-Gatehouse-Completed: false' }), ' — some parts are missing.']
        : null,
    ),
    h('ul', { class: 'parts', 'aria-label': 'Parts of this page' }, parts),
  )
}
