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
  // Read (and forgotten) at every load of this page, so an intent left behind never fires later.
  const resume = orderToResume()
  const res = await api('/api/basket')
  if (res.status === 401) return signIn(heading)
  if (!res.ok) return show(heading, problem('The basket is unavailable', messageOf(res)))
  renderBasket(heading, res.body, resume)
}

function signIn(heading) {
  show(heading, h('div', { class: 'empty' }, locked('your basket')))
  location.replace(loginHref())
}

function renderBasket(heading, basket, resume = false) {
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
    orderForm(heading, resume),
  )
}

/**
 * Placing the order. The gateway requires a second factor within 10 minutes for it (step-up): without
 * one, it answers 401 insufficient_user_authentication with a `login` link that asks the identity
 * provider for it; the browser follows it and comes back here, and the order the person asked for is
 * placed with the stronger session, without a second press. That intent is kept in this tab's
 * sessionStorage, which no other site can write (a link or a return_to cannot place an order), for this
 * one return only and at most 10 minutes: a step-up that did not happen (cancelled at the provider) is
 * not asked again by itself, the button is back.
 */
const RESUME_ORDER = 'gatehouse-shop:order-after-step-up'
const RESUME_WITHIN_MS = 600_000

function orderToResume() {
  const at = Number(sessionStorage.getItem(RESUME_ORDER))
  sessionStorage.removeItem(RESUME_ORDER)
  return at > 0 && Date.now() - at < RESUME_WITHIN_MS
}

function orderForm(heading, resume) {
  const status = h('p', { class: 'status', role: 'status', id: 'order-status' })
  const button = h('button', { type: 'submit', id: 'place-order' }, 'Place order')
  const form = h('form', { class: 'order', 'aria-label': 'Place the order' }, button, status)
  let automatic = resume
  const place = async () => {
    const resumed = automatic
    automatic = false
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
    const stepUp = res.status === 401 && res.body?.error === 'insufficient_user_authentication'
    if (stepUp && res.body.login && !resumed) {
      status.textContent = 'Placing an order needs a second sign-in step. Taking you there…'
      sessionStorage.setItem(RESUME_ORDER, String(Date.now()))
      return location.assign(`${res.body.login}&return_to=${encodeURIComponent(location.pathname)}`)
    }
    if (res.status === 401 && !stepUp) return signIn(heading)
    button.disabled = false
    status.className = 'status error'
    status.textContent = stepUp
      ? 'The second sign-in step was not completed, so nothing was ordered. Press "Place order" to try again.'
      : messageOf(res)
  }
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    void place()
  })
  if (resume) queueMicrotask(place)
  return form
}
