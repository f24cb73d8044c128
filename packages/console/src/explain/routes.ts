/**
 * What the refusal page needs to know about the routes: every route (GET /routes, page after page) with
 * the names key-auth reads a key from on it (GET /plugins: the route's, its service's and the global
 * instances), so the API-key field can offer the header or query name the route actually expects.
 */
import { adminGet } from '../api.ts'

export interface RouteEntry {
  readonly id: string
  readonly name: string | null
  readonly paths: readonly string[]
  readonly hosts: readonly string[]
  readonly methods: readonly string[]
  readonly service: string | null
  /** key-auth's key_names on this route, first the most specific instance's; [] without key-auth. */
  readonly keyNames: readonly string[]
}

interface Page<T> {
  readonly data: readonly T[]
  readonly next?: string | null
}
interface RawRoute {
  readonly id: string
  readonly name?: string | null
  readonly paths?: readonly string[] | null
  readonly hosts?: readonly string[] | null
  readonly methods?: readonly string[] | null
  readonly service?: { readonly id: string } | null
}
interface RawPlugin {
  readonly name: string
  readonly enabled?: boolean
  readonly route?: { readonly id: string } | null
  readonly service?: { readonly id: string } | null
  readonly config?: { readonly key_names?: readonly string[] }
}

/** Enough pages for any sane gateway; a bigger one still gets the first this many thousand. */
const MAX_PAGES = 20

async function all<T>(path: string, token: string | null, signal: AbortSignal): Promise<T[]> {
  const out: T[] = []
  let next: string | null = `${path}?size=1000`
  for (let i = 0; next !== null && i < MAX_PAGES; i++) {
    const page: Page<T> = await adminGet<Page<T>>(next, token, signal)
    out.push(...page.data)
    next = page.next ?? null
  }
  return out
}

export async function loadRoutes(token: string | null, signal: AbortSignal): Promise<RouteEntry[]> {
  const [routes, plugins] = await Promise.all([
    all<RawRoute>('/routes', token, signal),
    all<RawPlugin>('/plugins', token, signal),
  ])
  const keyAuth = plugins.filter((p) => p.name === 'key-auth' && p.enabled !== false)
  return routes
    .map((r) => {
      const service = r.service?.id ?? null
      // The most specific instance wins, as in the pipeline: the route's, the service's, the global one.
      const instance =
        keyAuth.find((p) => p.route?.id === r.id) ??
        keyAuth.find((p) => p.route == null && service !== null && p.service?.id === service) ??
        keyAuth.find((p) => p.route == null && p.service == null)
      return {
        id: r.id,
        name: r.name ?? null,
        paths: r.paths ?? [],
        hosts: r.hosts ?? [],
        methods: r.methods ?? [],
        service,
        keyNames: instance === undefined ? [] : (instance.config?.key_names ?? ['apikey']),
      }
    })
    .sort((a, b) => label(a).localeCompare(label(b)))
}

/** `orders — GET /orders (shop.example)` */
export function label(r: RouteEntry): string {
  const what = [r.methods.join(','), r.paths.join(' '), r.hosts.length > 0 ? `(${r.hosts.join(' ')})` : '']
    .filter((s) => s !== '')
    .join(' ')
  return `${r.name ?? r.id}${what === '' ? '' : ` — ${what}`}`
}

/** Whether `r` matches a search: every word in its name, id, paths, hosts or methods. */
export function matches(r: RouteEntry, search: string): boolean {
  const hay = [r.name ?? '', r.id, ...r.paths, ...r.hosts, ...r.methods].join(' ').toLowerCase()
  return search
    .toLowerCase()
    .split(/\s+/)
    .filter((w) => w !== '')
    .every((w) => hay.includes(w))
}
