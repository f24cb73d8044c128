/**
 * A route's `composition`, checked against the rest of the file and resolved: the route has no service
 * of its own, each part names an existing service, part names are unique, every `{capture}` in a part
 * path is a named capture of each of the route's paths (so it always has a value at request time), and
 * defaults are filled in (audience = the service's name, part timeout ≤ the composition's).
 */
import type { EntityIndex } from './entity-index.ts'
import type { Composition, CompositionPart, ServiceEntity } from './model.ts'
import { PLACEHOLDER, type RawComposition } from './schema/composition.ts'

export interface CompositionRoute {
  /** Key path of the route, e.g. `routes[2]`. */
  readonly at: string
  readonly name: string | null
  /** Whether the route belongs to a service: nested under one, or naming one. */
  readonly nested: boolean
  readonly hasService: boolean
  readonly paths: readonly string[] | null
}

export function normalizeComposition(
  raw: RawComposition,
  route: CompositionRoute,
  services: { readonly index: EntityIndex; readonly byId: ReadonlyMap<string, ServiceEntity> },
  issue: (path: string, message: string) => void,
): Composition {
  const at = `${route.at}.composition`
  const named = route.name !== null ? `route '${route.name}'` : 'this route'
  if (route.nested) {
    issue(
      at,
      `${named} is nested in a service, but a composition route answers from its parts: declare it under the top-level routes`,
    )
  } else if (route.hasService) {
    issue(
      `${route.at}.service`,
      `${named} has a composition, which answers from its parts: remove its service`,
    )
  }
  const captures = capturesOfEvery(route.paths ?? [])
  const seen = new Map<string, number>()
  const parts: CompositionPart[] = []
  for (const [i, part] of raw.parts.entries()) {
    const partAt = `${at}.parts[${i}]`
    const first = seen.get(part.name)
    if (first !== undefined)
      issue(`${partAt}.name`, `duplicate part name '${part.name}' (also at parts[${first}])`)
    else seen.set(part.name, i)
    for (const [, name] of part.path.matchAll(PLACEHOLDER)) {
      const missing = captures === null ? null : captures.missingIn(name!)
      if (missing !== null) issue(`${partAt}.path`, `'{${name}}' ${missing}`)
    }
    const id = services.index.resolve(part.service, `${partAt}.service`)
    const service = id !== undefined ? services.byId.get(id) : undefined
    parts.push({
      name: part.name,
      service: { id: id ?? '' },
      path: part.path,
      audience: part.audience ?? service?.name ?? service?.id ?? part.service,
      timeout: Math.min(part.timeout ?? raw.timeout, raw.timeout),
      required: part.required,
      public: part.public,
    })
  }
  return { timeout: raw.timeout, parts }
}

/**
 * The named captures each of the route's paths has; null when one does not compile (reported with the
 * path). `missingIn(name)` says why a name cannot be used, or null when every path captures it.
 */
function capturesOfEvery(paths: readonly string[]): { missingIn(name: string): string | null } | null {
  const perPath: { index: number; names: ReadonlySet<string> }[] = []
  for (const [index, p] of paths.entries()) {
    if (!p.startsWith('~')) {
      perPath.push({ index, names: new Set() })
      continue
    }
    let groups: Record<string, unknown> | undefined
    try {
      // The empty alternative always matches, and `groups` then lists every named group of the pattern.
      groups = new RegExp(`(?:${p.slice(1)})|`).exec('')?.groups
    } catch {
      return null
    }
    perPath.push({ index, names: new Set(Object.keys(groups ?? {})) })
  }
  return {
    missingIn(name) {
      if (perPath.length === 0)
        return "is not a named capture of the route's paths: the route has no paths; give it a regex path such as ~/api/products/(?<id>[^/]+)$"
      const without = perPath.find((p) => !p.names.has(name))
      if (without === undefined) return null
      return `is not a named capture of the route's paths[${without.index}]; name it there, e.g. (?<${name}>[^/]+)`
    },
  }
}
