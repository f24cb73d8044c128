/**
 * Seeds for the recommendations service: each user's past orders (product ids) and what sells best in
 * each country. Recommendations are computed from the caller's country and subject in the internal
 * token, never from a call to the users service.
 */

export const ORDER_HISTORY: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'u-alice': ['p-01', 'p-05', 'p-06', 'p-24'],
  'u-bob': ['p-11', 'p-18', 'p-19'],
  'u-chloe': ['p-14', 'p-26'],
  'u-dieter': ['p-03', 'p-16'],
})

export const BESTSELLERS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  GB: ['p-10', 'p-29', 'p-02', 'p-07', 'p-24', 'p-15', 'p-09'],
  US: ['p-12', 'p-21', 'p-16', 'p-25', 'p-13', 'p-20', 'p-30'],
  DE: ['p-03', 'p-13', 'p-23', 'p-17', 'p-14', 'p-08'],
  FR: ['p-04', 'p-06', 'p-23', 'p-26', 'p-10', 'p-14'],
})

/** For callers whose country is unknown or has no list of its own. */
export const GLOBAL_BESTSELLERS: readonly string[] = Object.freeze([
  'p-21',
  'p-01',
  'p-12',
  'p-16',
  'p-07',
  'p-26',
])
