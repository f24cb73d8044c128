/**
 * A route's composition compiled at load (STYLE 11): each part with its service, its pool (acquired from
 * the upstream registry like any route's, so pools are shared and survive reloads), its request target
 * joined to the service path and split for substitution, and its audience as the array the token
 * source takes. A request only picks the parts the caller may see and renders their targets.
 */
import type { Composition, ServiceEntity } from '../config/model.ts'
import { joinUpstreamPath } from '../pipeline/upstream-request.ts'
import type { Upstream } from '../proxy/upstreams.ts'
import { compileTemplate, type PathTemplate } from './path-template.ts'

export interface PlannedPart {
  readonly name: string
  readonly service: ServiceEntity
  readonly upstream: Upstream
  /** Service path + part path (+ query), with `{capture}` placeholders. */
  readonly target: PathTemplate
  readonly audience: readonly string[]
  /** Milliseconds; never beyond the composition's timeout, and every part starts with the composition. */
  readonly timeout: number
  readonly required: boolean
  readonly public: boolean
}

export interface CompositionPlan {
  readonly timeout: number
  readonly parts: readonly PlannedPart[]
  /** The parts anonymous callers get. */
  readonly publicParts: readonly PlannedPart[]
}

export function planComposition(
  composition: Composition,
  services: ReadonlyMap<string, ServiceEntity>,
  acquire: (service: ServiceEntity) => Upstream,
): CompositionPlan {
  const parts = composition.parts.map((part): PlannedPart => {
    // The loader checked that the service exists.
    const service = services.get(part.service.id)!
    const q = part.path.indexOf('?')
    const path = q === -1 ? part.path : part.path.slice(0, q)
    const query = q === -1 ? '' : part.path.slice(q)
    return Object.freeze({
      name: part.name,
      service,
      upstream: acquire(service),
      target: compileTemplate(joinUpstreamPath(service.path, path, 'v0') + query),
      audience: Object.freeze([part.audience]),
      timeout: part.timeout,
      required: part.required,
      public: part.public,
    })
  })
  return Object.freeze({
    timeout: composition.timeout,
    parts: Object.freeze(parts),
    publicParts: Object.freeze(parts.filter((p) => p.public)),
  })
}
