/**
 * Reviews for every product, from customers in GB, US, DE and FR: each product has at least one review
 * from GB and one from the US, so the reviews service's "your country first" shows on any page. Made
 * by a seeded generator, so every run (and every test) sees the same reviews.
 */
import { PRODUCTS } from './products.ts'

export interface Review {
  readonly id: string
  readonly product_id: string
  readonly author: string
  /** ISO 3166-1 alpha-2. */
  readonly country: string
  /** 1–5. */
  readonly rating: number
  readonly title: string
  readonly body: string
  /** YYYY-MM-DD. */
  readonly date: string
}

const AUTHORS: Readonly<Record<string, readonly string[]>> = {
  GB: ['Harriet from Leeds', 'Tom in Bristol', 'Priya, London', 'Callum (Glasgow)', 'Megan from Cardiff'],
  US: ['Jake in Austin', 'Maria, Chicago', 'Dev from Seattle', 'Kim (Boston)', 'Luis in Denver'],
  DE: ['Jonas aus Köln', 'Lena, Berlin', 'Matthias (München)', 'Sophie aus Hamburg'],
  FR: ['Camille, Lyon', 'Hugo à Paris', 'Inès (Bordeaux)', 'Théo, Nantes'],
}

const TEXTS: Readonly<Record<number, readonly [title: string, body: string][]>> = {
  5: [
    ['Exactly what I hoped for', 'Well made, arrived quickly and looks even better than the photos.'],
    ['Worth every cent', 'I use it every day. Solid, thoughtful details, no regrets at all.'],
    ['Brilliant', 'Bought one as a gift and immediately ordered another for myself.'],
    ['Five stars, easily', 'Quality you can feel the moment you unpack it.'],
  ],
  4: [
    ['Very good', 'Does the job well. Packaging could use less plastic, otherwise great.'],
    ['Happy with it', 'Good value for money; a little heavier than I expected.'],
    ['Nearly perfect', 'Lovely design. The instructions were thin but it was easy to figure out.'],
  ],
  3: [
    ['Fine, not amazing', 'It works, but for the price I expected a bit more polish.'],
    ['Okay', 'Does what it says. Delivery took a week longer than promised.'],
  ],
  2: [['Not for me', 'The quality is fine but it was smaller than I imagined. Returned it easily.']],
}

/** A small deterministic generator (mulberry32), so the seed is the same everywhere. */
function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function pick<T>(list: readonly T[], next: () => number): T {
  return list[Math.floor(next() * list.length)]!
}

function generate(): Review[] {
  const out: Review[] = []
  PRODUCTS.forEach((product, i) => {
    const next = random(1000 + i)
    const extra = ['DE', 'FR', 'GB', 'US', 'DE'].slice(0, 1 + (i % 4))
    for (const [n, country] of ['GB', 'US', ...extra].entries()) {
      const rating = pick([5, 5, 5, 4, 4, 4, 3, 2], next)
      const [title, body] = pick(TEXTS[rating]!, next)
      const month = 1 + Math.floor(next() * 12)
      const day = 1 + Math.floor(next() * 28)
      out.push({
        id: `r-${product.id.slice(2)}-${n + 1}`,
        product_id: product.id,
        author: pick(AUTHORS[country]!, next),
        country,
        rating,
        title,
        body,
        date: `2025-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
      })
    }
  })
  return out
}

export const REVIEWS: readonly Review[] = Object.freeze(generate().map((r) => Object.freeze(r)))
