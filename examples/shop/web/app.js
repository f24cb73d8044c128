/**
 * The store page: three views rendered from the gateway's API, with no framework and no build step.
 *
 *   /                 the products             GET /api/products                      (pages.js)
 *   /products/{id}    one product, composed    GET /api/products/{id}                 (product-page.js)
 *   /basket           the caller's basket      GET /api/basket, DELETE /api/basket/items/{id}
 *
 * This module shows who is signed in (and logs out: a form POST to /logout) and routes between the views.
 * The basket needs a session: opening it signed out goes to /login and back (the gateway redirects the
 * page load itself; pages.js does the same for a view opened from a link inside the page).
 */
import { loadSession, loginHref, refreshBasketCount, session, setBasketCount } from './api.js'
import { h, problem, show } from './dom.js'
import { basketPage, productList } from './pages.js'
import { productPage } from './product-page.js'

const view = document.getElementById('view')
const account = document.getElementById('account')

function renderAccount() {
  if (session.authenticated) {
    account.replaceChildren(
      h(
        'span',
        { class: 'who' },
        'Signed in as ',
        h('strong', { text: session.name ?? session.email ?? 'you' }),
      ),
      // A form POST with the session's CSRF token: the gateway logs out on POST only (a GET of /logout
      // shows a confirmation page), so no link or image on another site can sign anyone out.
      h(
        'form',
        { class: 'logout', method: 'post', action: '/logout' },
        h('input', { type: 'hidden', name: 'csrf_token', value: session.csrf_token ?? '' }),
        h('button', { class: 'quiet', type: 'submit', id: 'logout' }, 'Log out'),
      ),
    )
  } else {
    account.replaceChildren(h('a', { class: 'button', href: loginHref(), id: 'login' }, 'Log in'))
  }
}

async function route() {
  const path = location.pathname
  for (const a of document.querySelectorAll('.nav a')) {
    const here =
      a.getAttribute('href') === path || (path.startsWith('/products/') && a.getAttribute('href') === '/')
    if (here) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
  const product = /^\/products\/([A-Za-z0-9_-]+)$/.exec(path)
  try {
    if (path === '/') await productList()
    else if (product) await productPage(product[1])
    else if (path === '/basket') await basketPage()
    else show(problem('Page not found', 'There is nothing at this address.'))
  } catch (err) {
    show(problem('Something went wrong', String(err?.message ?? err)))
  }
  document.body.dataset.ready = 'true'
}

document.addEventListener('click', (event) => {
  const a = event.target.closest?.('a[data-link]')
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
    return
  event.preventDefault()
  if (a.pathname !== location.pathname) history.pushState(null, '', a.pathname)
  document.body.dataset.ready = 'false'
  route().then(() => {
    window.scrollTo(0, 0)
    view.focus({ preventScroll: true })
  })
})
window.addEventListener('popstate', route)

await loadSession()
renderAccount()
if (session.authenticated) refreshBasketCount()
else setBasketCount(0)
await route()
