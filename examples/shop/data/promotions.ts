/**
 * Offers by customer type. The promotions service picks those for the caller's `customer_type` claim
 * (from the users service, through the gateway's enrichment) and, on a product page, those that apply
 * to the product's category.
 */
import type { Category } from './products.ts'
import type { CustomerType } from './users.ts'

export interface Offer {
  readonly id: string
  readonly customer_type: CustomerType
  readonly title: string
  readonly description: string
  /** Null: applies to every category. */
  readonly category: Category | null
  readonly discount_percent: number | null
  readonly code: string | null
}

export const OFFERS: readonly Offer[] = Object.freeze([
  {
    id: 'premium-delivery',
    customer_type: 'premium',
    title: 'Free next-day delivery',
    description: 'Premium members get every order delivered the next working day, free.',
    category: null,
    discount_percent: null,
    code: null,
  },
  {
    id: 'premium-early-access',
    customer_type: 'premium',
    title: 'Early access to the winter sale',
    description: 'Shop the sale 48 hours before everyone else.',
    category: null,
    discount_percent: null,
    code: 'EARLYBIRD',
  },
  {
    id: 'premium-kitchen',
    customer_type: 'premium',
    title: '20 % off kitchen',
    description: 'Premium members save a fifth on everything for the kitchen this month.',
    category: 'kitchen',
    discount_percent: 20,
    code: 'PREMIUM-KITCHEN',
  },
  {
    id: 'premium-audio',
    customer_type: 'premium',
    title: '15 % off audio',
    description: 'Headphones, speakers and turntables, 15 % off for premium members.',
    category: 'audio',
    discount_percent: 15,
    code: 'PREMIUM-AUDIO',
  },
  {
    id: 'premium-outdoors',
    customer_type: 'premium',
    title: '15 % off outdoors',
    description: 'Tents, bags and shoes for the season, 15 % off for premium members.',
    category: 'outdoors',
    discount_percent: 15,
    code: 'PREMIUM-OUTDOORS',
  },
  {
    id: 'premium-home',
    customer_type: 'premium',
    title: '20 % off home',
    description: 'Lamps, throws and candles, a fifth off for premium members.',
    category: 'home',
    discount_percent: 20,
    code: 'PREMIUM-HOME',
  },
  {
    id: 'standard-delivery',
    customer_type: 'standard',
    title: 'Free delivery over €50',
    description: 'Orders over €50 ship free in 3–5 working days.',
    category: null,
    discount_percent: null,
    code: null,
  },
  {
    id: 'standard-upgrade',
    customer_type: 'standard',
    title: 'Go premium: first month free',
    description: 'Next-day delivery, early access and member prices. Cancel any time.',
    category: null,
    discount_percent: null,
    code: 'TRYPREMIUM',
  },
  {
    id: 'standard-kitchen',
    customer_type: 'standard',
    title: '10 % off kitchen',
    description: 'Save 10 % on cookware and bakeware this month.',
    category: 'kitchen',
    discount_percent: 10,
    code: 'KITCHEN10',
  },
  {
    id: 'standard-office',
    customer_type: 'standard',
    title: '10 % off office',
    description: 'Chairs, desks and stationery, 10 % off.',
    category: 'office',
    discount_percent: 10,
    code: 'OFFICE10',
  },
  {
    id: 'standard-travel',
    customer_type: 'standard',
    title: '5 % off travel',
    description: 'Luggage and travel gear, 5 % off.',
    category: 'travel',
    discount_percent: 5,
    code: 'TRAVEL5',
  },
])
