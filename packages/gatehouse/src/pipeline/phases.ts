/**
 * The published priority ladder. A plugin's `priority` places it in the request pipeline; higher runs
 * first, ties are broken by name. The bands follow Kong's bundled priorities so a Kong user reads the
 * same order: tracing, then CORS (preflights must be answered before anyone asks for credentials),
 * authentication, authorisation, traffic control, transforms, caching, logging.
 */

export const PRIORITY_BANDS = {
  tracing: { min: 100_000, max: 199_999, examples: 'correlation-id 100001, request-id 100001' },
  'pre-auth': { min: 2_000, max: 99_999, examples: 'cors 2000' },
  authentication: {
    min: 1_000,
    max: 1_999,
    examples: 'session 1900, jwt 1450, key-auth 1250, basic-auth 1100, openid-connect 1050',
  },
  authorization: {
    min: 950,
    max: 999,
    examples: 'ip-restriction 990, request-size-limiting 951, acl 950',
  },
  traffic: { min: 900, max: 949, examples: 'rate-limiting 910' },
  transform: {
    min: 800,
    max: 899,
    examples: 'internal-token 890, request-transformer 801, response-transformer 800',
  },
  caching: { min: 100, max: 799, examples: 'proxy-cache 100' },
  // request-termination keeps Kong's priority 2: it answers after authentication, so it can be scoped
  // to a consumer, which is why it sits in this band although it logs nothing.
  logging: { min: 0, max: 99, examples: 'prometheus 13, http-log 12, request-termination 2' },
} as const

export type PriorityBand = keyof typeof PRIORITY_BANDS

/** Sort order of plugin instances: priority descending, then name. */
export function comparePlugins(
  a: { priority: number; name: string },
  b: { priority: number; name: string },
): number {
  return b.priority - a.priority || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
}
