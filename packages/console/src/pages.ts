/** The console's pages, in the navigation's order. */
export interface Page {
  readonly id: string
  readonly title: string
}

export const PAGES: readonly Page[] = [
  { id: 'overview', title: 'Overview' },
  { id: 'entities', title: 'Entities' },
  { id: 'upstreams', title: 'Upstreams' },
  { id: 'identity', title: 'Identity' },
  { id: 'refused', title: 'Why was this refused?' },
]
