/**
 * The demo catalog: 30 products in six categories. The catalog service serves it; recommendations,
 * promotions and the basket read the same seed for names and prices (each keeps its own copy in a real
 * shop). Images are emoji on a coloured tile, so the page needs no external asset.
 */

export type Category = 'kitchen' | 'home' | 'office' | 'outdoors' | 'audio' | 'travel'

export interface Product {
  readonly id: string
  readonly name: string
  readonly brand: string
  readonly category: Category
  readonly description: string
  /** Centimetres and kilograms. */
  readonly dimensions: {
    readonly width_cm: number
    readonly depth_cm: number
    readonly height_cm: number
    readonly weight_kg: number
  }
  /** Euro cents. */
  readonly price_cents: number
  readonly currency: 'EUR'
  readonly image: { readonly emoji: string; readonly background: string }
}

type Row = [
  id: string,
  name: string,
  brand: string,
  category: Category,
  emoji: string,
  background: string,
  priceCents: number,
  dimensions: [w: number, d: number, h: number, kg: number],
  description: string,
]

// biome-ignore format: one product per row reads as a table
const ROWS: Row[] = [
  ['p-01', 'Pour-over coffee kettle', 'Hearth & Co', 'kitchen', '☕', '#f6e7d8', 5900, [28, 14, 20, 0.9],
    'A 1-litre gooseneck kettle in brushed steel with a built-in thermometer, for a slow, even pour.'],
  ['p-02', 'Cast-iron skillet 26 cm', 'Hearth & Co', 'kitchen', '🍳', '#ece4dc', 4500, [44, 27, 6, 2.6],
    'Pre-seasoned cast iron that goes from hob to oven to table, and lasts a lifetime.'],
  ['p-03', 'Chef’s knife 20 cm', 'Ostwald', 'kitchen', '🔪', '#e6ecef', 8900, [33, 5, 2, 0.22],
    'Forged from one piece of stainless steel, balanced at the bolster, sharpened to 15 degrees.'],
  ['p-04', 'Stoneware mixing bowls (set of 3)', 'Kiln Street', 'kitchen', '🥣', '#f3ede4', 3900, [26, 26, 14, 2.1],
    'Nesting bowls of 1, 2 and 3 litres with a reactive glaze; dishwasher and microwave safe.'],
  ['p-05', 'Sourdough starter kit', 'Crumb Lab', 'kitchen', '🍞', '#f7edd9', 2900, [22, 15, 18, 0.8],
    'A glass jar, a banneton, a lame and a dried 40-year-old starter, with a week-by-week guide.'],
  ['p-06', 'Linen throw blanket', 'Northfold', 'home', '🧣', '#e9efe6', 7900, [130, 170, 1, 0.9],
    'Stonewashed European linen, soft from the first use and cool in summer.'],
  ['p-07', 'Ceramic table lamp', 'Kiln Street', 'home', '💡', '#f8f1dc', 9900, [24, 24, 42, 2.4],
    'A hand-thrown base with a cotton shade and a dimmable warm LED bulb included.'],
  ['p-08', 'Indoor herb garden', 'Greenhouse Nine', 'home', '🌿', '#e2f0e1', 6900, [40, 14, 30, 1.8],
    'Three pots, a grow light on a timer and seeds for basil, parsley and thyme.'],
  ['p-09', 'Wool slippers', 'Northfold', 'home', '🧦', '#efe7f0', 3500, [28, 11, 9, 0.4],
    'Boiled wool uppers with a natural rubber sole; warm, breathable and washable.'],
  ['p-10', 'Scented soy candle', 'Ember & Wick', 'home', '🕯️', '#f6e9e1', 2400, [8, 8, 10, 0.35],
    'Cedar, fig and black pepper; about 45 hours of clean burn from a cotton wick.'],
  ['p-11', 'Mechanical keyboard', 'Keystone', 'office', '⌨️', '#e4e8f3', 12900, [36, 13, 4, 0.95],
    'A 75 % layout with hot-swappable tactile switches, PBT keycaps and USB-C.'],
  ['p-12', 'Ergonomic office chair', 'Posture Works', 'office', '🪑', '#e7ebee', 34900, [66, 66, 118, 18.5],
    'Adjustable lumbar support, seat depth and 4D armrests, with a breathable mesh back.'],
  ['p-13', 'Standing desk frame', 'Posture Works', 'office', '🗄️', '#e9ecef', 42900, [140, 70, 125, 31],
    'Dual motors lift from 62 to 127 cm in twelve seconds; four memory presets.'],
  ['p-14', 'Fountain pen', 'Ostwald', 'office', '🖋️', '#ebe6f2', 6400, [14, 1.4, 1.4, 0.03],
    'A steel medium nib, a piston filler and a resin barrel that shows the ink level.'],
  ['p-15', 'Dotted notebook A5', 'Paperwright', 'office', '📓', '#f1efe6', 1800, [15, 2, 21, 0.3],
    '240 numbered pages of 100 g/m² paper that takes fountain pen ink without bleeding.'],
  ['p-16', 'Two-person tent', 'Summit Line', 'outdoors', '⛺', '#e0ecf0', 27900, [210, 130, 105, 2.1],
    'A freestanding three-season tent with two doors and a pitch time under five minutes.'],
  ['p-17', 'Down sleeping bag', 'Summit Line', 'outdoors', '🛌', '#e3e8f4', 23900, [80, 210, 5, 0.95],
    '750-fill responsibly sourced down, comfortable to −5 °C, packs to the size of a melon.'],
  ['p-18', 'Trail running shoes', 'Ridgeback', 'outdoors', '👟', '#efe9e2', 13900, [30, 11, 12, 0.58],
    'A grippy lug outsole, a rock plate and a 6 mm drop for long days on rough ground.'],
  ['p-19', 'Insulated water bottle', 'Ridgeback', 'outdoors', '🧴', '#e0eeec', 3200, [8, 8, 26, 0.42],
    'Keeps drinks cold for 24 hours or hot for 12; leakproof lid with a carry loop.'],
  ['p-20', 'Folding camp stove', 'Summit Line', 'outdoors', '🔥', '#f6e3dc', 5900, [12, 12, 8, 0.3],
    'Boils a litre in three and a half minutes on a standard gas canister.'],
  ['p-21', 'Noise-cancelling headphones', 'Soundmere', 'audio', '🎧', '#e6e4f1', 29900, [18, 8, 20, 0.25],
    'Adaptive noise cancelling, 35 hours of battery and a case that folds flat.'],
  ['p-22', 'Bookshelf speakers (pair)', 'Soundmere', 'audio', '🔊', '#ebe7e2', 34900, [16, 22, 27, 9.2],
    'Powered speakers with a 13 cm woofer, Bluetooth, optical and a phono input.'],
  ['p-23', 'Turntable', 'Groove & Grain', 'audio', '📀', '#efe8df', 39900, [42, 35, 12, 5.4],
    'Belt drive, a carbon tonearm and a pre-mounted cartridge; plays 33 and 45.'],
  ['p-24', 'Portable radio', 'Groove & Grain', 'audio', '📻', '#f3e6d9', 8900, [22, 7, 13, 0.9],
    'FM and DAB+ with a rechargeable battery, a wooden cabinet and a warm, full sound.'],
  ['p-25', 'Wireless earbuds', 'Soundmere', 'audio', '🎵', '#e3ebf2', 14900, [6, 5, 3, 0.05],
    'Small, light and water resistant, with eight hours per charge and 24 more in the case.'],
  ['p-26', 'Carry-on suitcase', 'Wayfarer', 'travel', '🧳', '#e8e9ee', 24900, [40, 20, 55, 3.2],
    'Polycarbonate shell, quiet spinner wheels and a compression pad; fits most cabin limits.'],
  ['p-27', 'Travel adapter', 'Wayfarer', 'travel', '🔌', '#eeeeea', 2900, [7, 5, 6, 0.15],
    'Works in 150 countries, with two USB-C ports and one USB-A port.'],
  ['p-28', 'Packing cubes (set of 4)', 'Wayfarer', 'travel', '📦', '#ece6dc', 3400, [36, 26, 10, 0.4],
    'Ripstop nylon cubes with mesh tops, from shoes to socks.'],
  ['p-29', 'Merino travel scarf', 'Northfold', 'travel', '🧣', '#efe3e3', 5400, [180, 35, 0.5, 0.15],
    'Fine merino that packs small, never itches and keeps you warm on a cold train.'],
  ['p-30', 'Compact camera', 'Lumen', 'travel', '📷', '#e5e8ea', 54900, [11, 4, 6, 0.3],
    'A one-inch sensor, a 24–100 mm zoom and a grip that fits in a jacket pocket.'],
]

export const PRODUCTS: readonly Product[] = Object.freeze(
  ROWS.map(([id, name, brand, category, emoji, background, price_cents, [w, d, h, kg], description]) =>
    Object.freeze({
      id,
      name,
      brand,
      category,
      description,
      dimensions: Object.freeze({ width_cm: w, depth_cm: d, height_cm: h, weight_kg: kg }),
      price_cents,
      currency: 'EUR' as const,
      image: Object.freeze({ emoji, background }),
    }),
  ),
)

const BY_ID: ReadonlyMap<string, Product> = new Map(PRODUCTS.map((p) => [p.id, p]))

export function productById(id: string): Product | undefined {
  return BY_ID.get(id)
}

/** What other services show of a product: no description or dimensions. */
export function summary(
  p: Product,
): Pick<Product, 'id' | 'name' | 'brand' | 'category' | 'price_cents' | 'currency' | 'image'> {
  return {
    id: p.id,
    name: p.name,
    brand: p.brand,
    category: p.category,
    price_cents: p.price_cents,
    currency: p.currency,
    image: p.image,
  }
}
