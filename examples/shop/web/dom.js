/**
 * Building the page: elements from data (always as text, never parsed as HTML), prices, stars, and the
 * products' pictures: their emoji on their colour, or a drawing of their category where the browser
 * has no colour emoji font.
 */
import { loginHref } from './api.js'

const view = document.getElementById('view')

/** An element with properties (`class`, `text`, `on…` handlers, attributes) and children. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'class') el.className = value
    else if (key === 'text') el.textContent = value
    else if (key === 'style') Object.assign(el.style, value)
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value)
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    el.append(child instanceof Node ? child : String(child))
  }
  return el
}

export function money(cents, currency = 'EUR') {
  return new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(cents / 100)
}

export function stars(rating) {
  const full = Math.round(rating)
  return '★'.repeat(full) + '☆'.repeat(5 - full)
}

/** Line drawings per category (24×24, stroked), for browsers without a colour emoji font. */
const ICONS = {
  kitchen: [
    'M4 10h16v6a4 4 0 0 1-4 4H8a4 4 0 0 1-4-4z',
    'M2 10h20',
    'M9 3c0 1.5 1 1.5 1 3',
    'M14 3c0 1.5 1 1.5 1 3',
  ],
  home: ['M8 3h8l3 8H5z', 'M12 11v8', 'M8 21h8'],
  office: ['M6 3h11a1 1 0 0 1 1 1v16a1 1 0 0 1-1 1H6z', 'M9 3v18', 'M12 8h3', 'M12 12h3'],
  outdoors: ['M3 20l6-10 4 6 3-4 5 8z', 'M15 6a2 2 0 1 0 4 0a2 2 0 1 0-4 0'],
  audio: ['M4 15v-3a8 8 0 0 1 16 0v3', 'M4 15h3v5H5a1 1 0 0 1-1-1z', 'M20 15h-3v5h2a1 1 0 0 0 1-1z'],
  travel: [
    'M4 8h16v11a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1z',
    'M9 8V5a1 1 0 0 1 1-1h4a1 1 0 0 1 1 1v3',
    'M8 8v12',
    'M16 8v12',
  ],
}

/** Whether this browser draws emoji in colour (a machine without an emoji font draws empty boxes). */
const COLOUR_EMOJI = (() => {
  const canvas = document.createElement('canvas')
  canvas.width = canvas.height = 20
  const g = canvas.getContext('2d', { willReadFrequently: true })
  if (!g) return false
  g.textBaseline = 'top'
  g.font = '16px sans-serif'
  g.fillText('\u{1F3A7}', 0, 0)
  const px = g.getImageData(0, 0, 20, 20).data
  for (let i = 0; i < px.length; i += 4)
    if (px[i + 3] > 0 && (px[i] !== px[i + 1] || px[i + 1] !== px[i + 2])) return true
  return false
})()

function icon(category) {
  const NS = 'http://www.w3.org/2000/svg'
  const svg = document.createElementNS(NS, 'svg')
  svg.setAttribute('viewBox', '0 0 24 24')
  svg.setAttribute('class', 'icon')
  for (const d of ICONS[category] ?? ICONS.home) {
    const path = document.createElementNS(NS, 'path')
    path.setAttribute('d', d)
    svg.append(path)
  }
  return svg
}

/** A product's picture: its emoji on its colour, or the category's drawing where emoji do not show. */
export function tile(product, extra = '') {
  const image = product.image
  return h(
    'div',
    { class: `tile ${extra}`, style: { background: image.background }, 'aria-hidden': 'true' },
    COLOUR_EMOJI ? image.emoji : icon(product.category),
  )
}

export function link(href, props, ...children) {
  return h('a', { href, 'data-link': true, ...props }, ...children)
}

/** Replaces the view. */
export function show(...nodes) {
  view.replaceChildren(...nodes)
}

export function problem(title, detail) {
  return h(
    'div',
    { class: 'empty' },
    h('h1', { text: title }),
    h('p', { text: detail }),
    link('/', {}, 'Back to the products'),
  )
}

export function productCard(p) {
  return h(
    'li',
    {},
    link(
      `/products/${p.id}`,
      { class: 'card' },
      tile(p),
      h(
        'div',
        { class: 'body' },
        h('span', { class: 'brandname', text: p.brand }),
        h('span', { class: 'name', text: p.name }),
        p.reason ? h('span', { class: 'reason', text: p.reason }) : null,
        h('span', { class: 'price', text: money(p.price_cents, p.currency) }),
      ),
    ),
  )
}

/** The notice for a part anonymous visitors do not get. */
export function locked(what) {
  return h('p', { class: 'locked' }, h('a', { href: loginHref() }, 'Log in'), ` to see ${what}.`)
}
