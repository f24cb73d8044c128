/** The console's pages, in the navigation's order; those not built yet say what they will hold. */
export interface Page {
  readonly id: string
  readonly title: string
  /** What a page that is not built yet will show, and the admin API that has it meanwhile. */
  readonly coming?: { readonly what: string; readonly meanwhile: readonly string[] }
}

export const PAGES: readonly Page[] = [
  { id: 'overview', title: 'Overview' },
  {
    id: 'entities',
    title: 'Entities',
    coming: {
      what: 'Services, routes, plugins, consumers and their credentials: lists with search and tags, details, the plugins that apply to a route in order; in DB mode, creating, editing and deleting them.',
      meanwhile: ['GET /services', 'GET /routes', 'GET /plugins', 'GET /consumers', 'GET /key-auths'],
    },
  },
  {
    id: 'upstreams',
    title: 'Upstreams',
    coming: {
      what: 'Upstreams and their targets: health, weights and recent failures.',
      meanwhile: ['GET /upstreams', 'GET /upstreams/{name}/health'],
    },
  },
  { id: 'identity', title: 'Identity' },
  { id: 'refused', title: 'Why was this refused?' },
]
