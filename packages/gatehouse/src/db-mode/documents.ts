/**
 * Stored entities ↔ declarative documents. The store keeps each entity as the declarative document
 * that describes it, flat (a route names its service as `{ id }` instead of sitting inside it), so the
 * running configuration is always the configuration file's settings plus these documents, put through
 * the one loader (config/load.ts): what DB mode runs is checked exactly as a file is.
 *
 * What each document holds: services, consumers and credentials as the loader normalised them (a
 * service's url taken apart, a basic-auth password as its argon2id hash, a generated API key), values
 * that came through vault references written back as the references; routes and plugins as written
 * (a plugin's config keeps its vault references and leaves defaults to each load), with their
 * references replaced by the ids they resolved to, so renaming a service never detaches its routes.
 */
import { isDeepStrictEqual } from 'node:util'
import { type GatewayConfig, kongService, type ServiceEntity } from '../config/model.ts'
import type { StoredEntity } from '../storage/store.ts'
import type { EntityKind } from './kinds.ts'

type Doc = Record<string, unknown>

/** The document without its entity sections: what the configuration file keeps in DB mode. */
export function settingsOf(document: Doc, kinds: readonly EntityKind[]): Doc {
  const settings = { ...document }
  for (const kind of kinds) delete settings[kind.type]
  return settings
}

/** The entity sections a document declares (non-empty lists), in kind order. */
export function declaredSections(document: Doc, kinds: readonly EntityKind[]): string[] {
  return kinds.map((k) => k.type).filter((t) => Array.isArray(document[t]) && document[t].length > 0)
}

/**
 * Settings and entities as one declarative document, each entity in its type's top-level list in the
 * order given (so an issue's path, `services[3]`, is the fourth service of `entities`).
 */
export function assemble(
  settings: Doc,
  entities: readonly StoredEntity[],
  kinds: readonly EntityKind[],
): Doc {
  const doc: Doc = { ...settings }
  for (const kind of kinds) {
    const list = entities.filter((e) => e.type === kind.type).map((e) => e.document)
    if (list.length > 0) doc[kind.type] = list
  }
  return doc
}

/** The entities of one type in a loaded configuration. */
export function entitiesOf(config: GatewayConfig, type: string): readonly { readonly id: string }[] {
  switch (type) {
    case 'services':
    case 'routes':
    case 'consumers':
    case 'plugins':
      return config[type]
    default:
      return config.credentials[type] ?? []
  }
}

/**
 * The document to store for entity `id` of `kind`, which `config` loaded from `raw` (its document as
 * written, references and all).
 */
export function storedDocument(kind: EntityKind, config: GatewayConfig, id: string, raw: Doc): Doc {
  const entity = entitiesOf(config, kind.type).find((e) => e.id === id) as Doc | undefined
  if (entity === undefined) throw new Error(`${kind.type} ${id} is missing from the loaded configuration`)
  if (kind.type !== 'routes' && kind.type !== 'plugins') {
    const { created_at: _c, updated_at: _u, ...fields } = entity
    const document = kind.type === 'services' ? kongService(fields as unknown as ServiceEntity) : fields
    return withReferences(withoutNulls(document as Doc), config.vaultReferences) as Doc
  }
  // As written, but for the nested lists (stored apart), the references (now ids) and the keys Kong's
  // format lets a file carry for its reader (_comment, _ignore), which are not part of the entity.
  const {
    id: _id,
    name,
    plugins: _p,
    service: _s,
    route: _r,
    consumer: _c,
    _comment: _cm,
    _ignore: _ig,
    ...rest
  } = raw
  const doc: Doc = { id }
  if (name !== undefined) doc.name = name
  for (const field of Object.keys(kind.foreign)) {
    const ref = entity[field] as { id: string } | null
    if (ref) doc[field] = { id: ref.id }
  }
  return Object.assign(doc, rest)
}

/** The stored `name` of an entity document (unique per type in the database). */
export function storedName(kind: EntityKind, document: Doc): string | null {
  const value = kind.nameField === null ? undefined : document[kind.nameField]
  return typeof value === 'string' ? value : null
}

/**
 * The entities of a declarative document (nested or not) that `config` loaded from it, as stored
 * entities: the loader's lists are in file order (model.ts), so they pair with the document's entities
 * walked in the same order. Kept: created_at of ids already stored, and updated_at of unchanged ones.
 */
export function entitiesFromDocument(
  raw: Doc,
  config: GatewayConfig,
  kinds: readonly EntityKind[],
  previous: readonly StoredEntity[],
  now: number,
): StoredEntity[] {
  const list = (value: unknown) => (Array.isArray(value) ? (value as Doc[]) : [])
  const services = list(raw.services)
  const routes = [...services.flatMap((s) => list(s.routes)), ...list(raw.routes)]
  const consumers = list(raw.consumers)
  // normalize.ts collects plugins in this order: services', routes', consumers', then top-level ones.
  const plugins = [
    ...services.flatMap((s) => list(s.plugins)),
    ...routes.flatMap((r) => list(r.plugins)),
    ...consumers.flatMap((c) => list(c.plugins)),
    ...list(raw.plugins),
  ]
  const rawByType: Record<string, readonly Doc[]> = { services, routes, consumers, plugins }
  const before = new Map(previous.map((e) => [`${e.type}\0${e.id}`, e]))
  const out: StoredEntity[] = []
  for (const kind of kinds) {
    const loaded = entitiesOf(config, kind.type)
    const written = rawByType[kind.type]
    if (written !== undefined && written.length !== loaded.length)
      throw new Error(`${kind.type}: ${written.length} in the document, ${loaded.length} loaded`)
    for (const [i, entity] of loaded.entries()) {
      const source = written?.[i] ?? {}
      if (
        (source.id !== undefined && source.id !== entity.id) ||
        (kind.type === 'plugins' && source.name !== (entity as Doc).name)
      )
        throw new Error(`${kind.type}[${i}] does not pair with the loaded entity ${entity.id}`)
      const document = storedDocument(kind, config, entity.id, source)
      const old = before.get(`${kind.type}\0${entity.id}`)
      out.push({
        type: kind.type,
        id: entity.id,
        name: storedName(kind, document),
        document,
        created_at: old?.created_at ?? now,
        updated_at: old && isDeepStrictEqual(old.document, document) ? old.updated_at : now,
      })
    }
  }
  return out
}

/** The stored entities as a declarative document (`gatehouse config export`): flat lists, ids kept. */
export function exportDocument(entities: readonly StoredEntity[], kinds: readonly EntityKind[]): Doc {
  return assemble({ _format_version: '3.0' }, entities, kinds)
}

function withoutNulls(fields: Doc): Doc {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null && v !== undefined))
}

/** `value` with every string read through a vault reference replaced by the reference. */
function withReferences(value: unknown, references: ReadonlyMap<string, string>): unknown {
  if (typeof value === 'string') return references.get(value) ?? value
  if (Array.isArray(value)) return value.map((v) => withReferences(v, references))
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withReferences(v, references)]))
  return value
}
