/** The console's pages, in the navigation's order; those not built yet say what they will hold. */
export interface Page {
  readonly id: string
  readonly title: string
  /** What a page that is not built yet will show, and the admin API that has it meanwhile. */
  readonly coming?: { readonly what: string; readonly meanwhile: readonly string[] }
}

export const PAGES: readonly Page[] = [
  { id: 'overview', title: 'Overview' },
  { id: 'entities', title: 'Entities' },
  { id: 'upstreams', title: 'Upstreams' },
  {
    id: 'identity',
    title: 'Identity',
    coming: {
      what: "The identity provider's users and clients, its signing keys and the internal-token keys (rotate, withdraw), and revocations.",
      meanwhile: [
        'gatehouse users list',
        'GET /signing-keys',
        'GET /internal-tokens/keys',
        'POST /revocations',
      ],
    },
  },
  {
    id: 'refused',
    title: 'Why was this refused?',
    coming: {
      what: "Pick a route, paste a token or an API key, and see each plugin's verdict in order with its stable reason code, without anything being forwarded upstream.",
      meanwhile: ['the access log: its reason field', 'docs/errors.md'],
    },
  },
]
