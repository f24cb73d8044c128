/** The product list and the basket. */
import { api, loginHref, messageOf, session, setBasketCount } from './api.js'
import { h, link, locked, money, problem, productCard, show, tile } from './dom.js'

export async function productList() {
  document.title = 'Gatehouse Shop'
  const res = await api('/api/products')
  if (!res.ok) return show(problem('The catalog is unavailable', messageOf(res)))
  const { products, categories } = res.body
  let chosen = null
  const grid = h('ul', { class: 'grid', id: 'products' })
  const chips = h('div', { class: 'chips', role: 'group', 'aria-label': 'Categories' })
  const fill = () => {
    grid.replaceChildren(...products.filter((p) => chosen === null || p.category === chosen).map(productCard))
    for (const chip of chips.children)
      chip.setAttribute('aria-pressed', String(chip.dataset.category === (chosen ?? '')))
  }
  for (const category of ['', ...categories]) {
    const chip = h(
      'button',
      { class: 'chip', type: 'button', 'data-category': category },
      category || 'Everything',
    )
    chip.addEventListener('click', () => {
      chosen = category || null
      fill()
    })
    chips.append(chip)
  }
  fill()
  show(
    h('h1', { text: 'Products' }),
    h(
      'p',
      { class: 'lead' },
      `${products.length} things we like, served by the catalog service through the gateway.`,
    ),
    chips,
    grid,
  )
}

/**
 * The basket needs a session. Signed out (or the session ended meanwhile), the browser goes to sign in and
 * comes back here, as the gateway does for a page load of /basket (`replace`: Back does not return to a
 * page that would only send it away again).
 */
export async function basketPage() {
  document.title = 'Your basket · Gatehouse Shop'
  const heading = h('h1', { text: 'Your basket' })
  if (!session.authenticated) return signIn(heading)
  const res = await api('/api/basket')
  if (res.status === 401) return signIn(heading)
  if (!res.ok) return show(heading, problem('The basket is unavailable', messageOf(res)))
  renderBasket(heading, res.body)
}

function signIn(heading) {
  show(heading, h('div', { class: 'empty' }, locked('your basket')))
  location.replace(loginHref())
}

function renderBasket(heading, basket) {
  setBasketCount(basket.count)
  if (basket.items.length === 0)
    return show(
      heading,
      h('div', { class: 'empty' }, 'Your basket is empty. ', link('/', {}, 'Browse the products')),
    )
  const lines = basket.items.map((item) => {
    const remove = h(
      'button',
      { type: 'button', class: 'quiet', 'aria-label': `Remove ${item.product.name}` },
      'Remove',
    )
    remove.addEventListener('click', async () => {
      remove.disabled = true
      const res = await api(`/api/basket/items/${encodeURIComponent(item.id)}`, { method: 'DELETE' })
      if (res.ok) renderBasket(heading, res.body)
      else remove.disabled = false
    })
    return h(
      'li',
      { class: 'line', 'data-item': item.id },
      tile(item.product),
      h(
        'div',
        {},
        link(`/products/${item.product.id}`, {}, item.product.name),
        h('div', { class: 'brandname', text: `${item.quantity} × ${money(item.product.price_cents)}` }),
      ),
      h('span', { class: 'price', text: money(item.line_total_cents) }),
      remove,
    )
  })
  show(
    heading,
    h('ul', { class: 'lines', id: 'basket-lines' }, lines),
    h(
      'p',
      { class: 'total' },
      h('span', { text: `${basket.count} ${basket.count === 1 ? 'item' : 'items'}` }),
      h('span', { id: 'basket-total', text: money(basket.total_cents) }),
    ),
    orderForm(heading),
  )
}

/**
 * Placing the order. The gateway requires a second factor within 10 minutes for it (step-up): without
 * one, it answers 401 insufficient_user_authentication with a `login` link that asks the identity
 * provider for it; the browser follows it and comes back here to place the order with the stronger
 * session.
 */
function orderForm(heading) {
  const status = h('p', { class: 'status', role: 'status', id: 'order-status' })
  const button = h('button', { type: 'submit', id: 'place-order' }, 'Place order')
  const form = h('form', { class: 'order', 'aria-label': 'Place the order' }, button, status)
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    button.disabled = true
    status.className = 'status'
    status.textContent = 'Placing your order…'
    const res = await api('/api/orders', { method: 'POST', body: '{}' })
    if (res.status === 201) {
      setBasketCount(0)
      return show(
        heading,
        h(
          'p',
          { class: 'status', role: 'status', id: 'order-placed' },
          `Thank you: order ${res.body.id} is placed.`,
        ),
        link('/', {}, 'Back to the products'),
      )
    }
    if (res.status === 401 && res.body?.error === 'insufficient_user_authentication' && res.body.login) {
      status.textContent = 'Placing an order needs a second sign-in step. Taking you there…'
      return location.assign(`${res.body.login}&return_to=${encodeURIComponent(location.pathname)}`)
    }
    if (res.status === 401) return signIn(heading)
    button.disabled = false
    status.className = 'status error'
    status.textContent = messageOf(res)
  })
  return form
}
