/**
 * What an admin write does to the stored entities, as Kong 3.x does it: POST creates (a new random id
 * unless the body gives one), PUT creates or replaces by id or endpoint key (`PUT /services/orders`
 * names it), PATCH merges into the stored document (a plugin's `config` deeply; `null` unsets a field;
 * a service's `url` replaces its protocol, host, port and path), DELETE removes and answers 204 even when
 * there was nothing (a service with routes is refused; its plugins, a route's plugins and a consumer's
 * credentials and plugins go with it). A path under a parent (`/services/{s}/routes`) fixes the
 * reference to it; PATCH and DELETE there find only the parent's own entities.
 *
 * Unique values are checked here first, to answer 409 as Kong does; everything else — schema, references,
 * Kong's route rules, plugin configs — is the loader's, on the candidate this plan makes (writer.ts).
 */
import { randomUUID } from 'node:crypto'
import { GatehouseError } from '../errors/errors.ts'
import type { StoredEntity } from '../storage/store.ts'
import { type EntityKind, kindOf, parentField } from './kinds.ts'
import { EntityWriteError, referencedBy, uniqueViolation } from './write-error.ts'

type Doc = Record<string, unknown>

export type WriteMethod = 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface WriteRequest {
  readonly method: WriteMethod
  readonly kind: EntityKind
  /** The entity's id or endpoint key; absent for a POST to a collection. */
  readonly key?: string | undefined
  /** The entity whose path the request is under: `/services/{key}/routes`. */
  readonly parent?: { readonly kind: EntityKind; readonly key: string } | undefined
  /** The JSON body; null for DELETE. */
  readonly body: Doc | null
}

export interface WritePlan {
  /** The candidate's entities; the written one is the last of its type. */
  readonly entities: readonly StoredEntity[]
  /** The created or changed entity, its document as written; null for a delete. */
  readonly focus: StoredEntity | null
  readonly remove: readonly { readonly type: string; readonly id: string }[]
  readonly status: 200 | 201 | 204
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The plan, or null when there is nothing to do (deleting what does not exist). */
export function planWrite(
  request: WriteRequest,
  entities: readonly StoredEntity[],
  kinds: readonly EntityKind[],
  now: number,
): WritePlan | null {
  const { kind, method } = request
  let fixed: { field: string; id: string } | null = null
  if (request.parent) {
    const parent = find(entities, request.parent.kind, request.parent.key)
    if (!parent) throw notFound()
    fixed = { field: parentField(kind, request.parent.kind)!, id: parent.entity.id }
  }
  const hit = request.key === undefined ? undefined : find(entities, kind, request.key)
  // Under a parent, PATCH and DELETE find only the parent's own; PUT takes any (and moves it, as Kong).
  const found =
    hit && (method === 'PUT' || fixed === null || refId(hit.entity.document[fixed.field]) === fixed.id)
      ? hit
      : undefined

  if (method === 'DELETE') return found ? planDelete(found.entity, entities, kinds) : null
  if (method === 'PATCH' && !found) throw notFound()

  const body = cleanBody(kind, request.body ?? {}, method)
  let id: string
  let document: Doc
  if (method === 'POST') {
    // An id that is not a UUID stays in the document, for the loader to refuse.
    const given = typeof body.id === 'string' && UUID.test(body.id) ? body.id.toLowerCase() : undefined
    id = given ?? randomUUID()
    if (entities.some((e) => e.type === kind.type && e.id === id))
      throw uniqueViolation(`{id="${id}"}`, { id })
    document = { ...body, ...(body.id === undefined || given !== undefined ? { id } : {}) }
  } else if (method === 'PATCH') {
    id = found!.entity.id
    document = merge(found!.entity.document, body, kind)
  } else {
    const key = request.key!
    id = found?.entity.id ?? (UUID.test(key) ? key.toLowerCase() : randomUUID())
    document = body
    const keyField = found ? found.field : UUID.test(key) ? null : (kind.endpointKeys[0] ?? undefined)
    if (keyField === undefined) throw notFound()
    if (keyField !== null) document[keyField] = key
  }
  if (fixed !== null) document[fixed.field] = { id: fixed.id }
  const { id: written = id, ...fields } = document
  const focus: StoredEntity = {
    type: kind.type,
    id,
    name: null,
    document: { id: method === 'POST' ? written : id, ...fields },
    created_at: found?.entity.created_at ?? now,
    updated_at: now,
  }
  checkUnique(focus, entities, kind, kinds)
  return {
    entities: [...entities.filter((e) => !(e.type === kind.type && e.id === id)), focus],
    focus,
    remove: [],
    status: method === 'POST' ? 201 : 200,
  }
}

function planDelete(
  target: StoredEntity,
  entities: readonly StoredEntity[],
  kinds: readonly EntityKind[],
): WritePlan {
  const remove = [target]
  for (const kind of kinds) {
    for (const [field, type] of Object.entries(kind.foreign)) {
      if (type !== target.type) continue
      const dependants = entities.filter(
        (e) => e.type === kind.type && refId(e.document[field]) === target.id,
      )
      // Kong: a route's service is a restricting foreign key; plugins and credentials cascade.
      if (dependants.length > 0 && kind.type === 'routes') throw referencedBy(target.type, kind.type)
      remove.push(...dependants)
    }
  }
  return {
    entities: entities.filter((e) => !remove.includes(e)),
    focus: null,
    remove: remove.map(({ type, id }) => ({ type, id })),
    status: 204,
  }
}

/** The entity a path key names: its id, else its endpoint keys in order (a username before a custom_id). */
export function find(
  entities: readonly StoredEntity[],
  kind: EntityKind,
  key: string,
): { entity: StoredEntity; field: string | null } | undefined {
  const list = entities.filter((e) => e.type === kind.type)
  if (UUID.test(key)) {
    const entity = list.find((e) => e.id === key.toLowerCase())
    if (entity) return { entity, field: null }
  }
  for (const field of kind.endpointKeys) {
    const entity = list.find((e) => e.document[field] === key)
    if (entity) return { entity, field }
  }
  return undefined
}

/**
 * The body as a document: timestamps dropped (a GET's answer can be sent back), `null` meaning unset
 * (dropped, or kept for PATCH to unset), nested entity lists refused (they have their own endpoints).
 */
function cleanBody(kind: EntityKind, body: Doc, method: WriteMethod): Doc {
  const nested = kind.nestedLists.filter((field) => field in body)
  if (nested.length > 0) {
    const fields = Object.fromEntries(
      nested.map((f) => [f, 'nested entities are written through their own endpoints']),
    )
    const list = nested.map((f) => `${f}: ${fields[f]}`).join('; ')
    throw new EntityWriteError('GH_ERR_CONFIG_INVALID', `schema violation (${list})`, {
      name: 'schema violation',
      fields,
      flattened_errors: nested.map((path) => ({ path, message: fields[path] })),
    })
  }
  const out: Doc = {}
  for (const [field, value] of Object.entries(body)) {
    if (field === 'created_at' || field === 'updated_at') continue
    if (value === null && method !== 'PATCH') continue
    out[field] = value
  }
  return out
}

/** PATCH: `changes` over `base`; `null` unsets; a plugin's config merges deeply; a url replaces its parts. */
function merge(base: Readonly<Doc>, changes: Doc, kind: EntityKind): Doc {
  const out: Doc = { ...base }
  if (kind.type === 'services' && changes.url !== undefined && changes.url !== null)
    for (const part of ['protocol', 'host', 'port', 'path']) delete out[part]
  for (const [field, value] of Object.entries(changes)) {
    if (value === null) delete out[field]
    else if (field === 'config' && isRecord(value) && isRecord(out[field]))
      out[field] = deepMerge(out[field], value)
    else out[field] = value
  }
  return out
}

function deepMerge(base: Doc, changes: Doc): Doc {
  const out: Doc = { ...base }
  for (const [field, value] of Object.entries(changes)) {
    if (value === null) delete out[field]
    else if (isRecord(value) && isRecord(out[field])) out[field] = deepMerge(out[field], value)
    else out[field] = value
  }
  return out
}

function checkUnique(
  focus: StoredEntity,
  entities: readonly StoredEntity[],
  kind: EntityKind,
  kinds: readonly EntityKind[],
): void {
  const others = entities.filter((e) => e.type === kind.type && e.id !== focus.id)
  const doc = focus.document
  for (const field of kind.unique) {
    const value = doc[field]
    if (typeof value !== 'string' || !others.some((e) => e.document[field] === value)) continue
    // An API key is not repeated back: it would tell a caller which keys exist.
    if (kind.secretKey && kind.endpointKeys.includes(field))
      throw uniqueViolation(field, { [field]: 'already exists' })
    throw uniqueViolation(`{${field}=${JSON.stringify(value)}}`, { [field]: value })
  }
  for (const field of kind.uniquePerConsumer) {
    const value = doc[field]
    const consumer = refId(doc.consumer)
    if (value === undefined || consumer === undefined) continue
    if (others.some((e) => refId(e.document.consumer) === consumer && e.document[field] === value))
      throw uniqueViolation(`{consumer={id="${consumer}"},${field}=${JSON.stringify(value)}}`, {
        consumer: { id: consumer },
        [field]: value,
      })
  }
  if (kind.type === 'plugins') checkPluginScope(focus, entities, kinds)
}

/** Kong's plugin cache key: one instance of a plugin per service, route and consumer. */
function checkPluginScope(
  focus: StoredEntity,
  entities: readonly StoredEntity[],
  kinds: readonly EntityKind[],
): void {
  const scope: Record<string, string | null> = {}
  for (const field of ['consumer', 'route', 'service']) {
    const ref = focus.document[field]
    if (ref === undefined) scope[field] = null
    else {
      const id = resolveReference(entities, kindOf(kinds, `${field}s`), ref)
      if (id === undefined) return // dangling: the loader says so
      scope[field] = id
    }
  }
  const twin = entities.find(
    (e) =>
      e.type === 'plugins' &&
      e.id !== focus.id &&
      e.document.name === focus.document.name &&
      Object.entries(scope).every(([field, id]) => (refId(e.document[field]) ?? null) === id),
  )
  if (twin === undefined) return
  const shown = (id: string | null) => (id === null ? 'null' : `{id="${id}"}`)
  throw uniqueViolation(
    `{consumer=${shown(scope.consumer!)},name=${JSON.stringify(focus.document.name)},route=${shown(scope.route!)},service=${shown(scope.service!)}}`,
    {
      consumer: scope.consumer === null ? null : { id: scope.consumer },
      name: focus.document.name,
      route: scope.route === null ? null : { id: scope.route },
      service: scope.service === null ? null : { id: scope.service },
    },
  )
}

/** The id a reference resolves to, as the loader resolves it (config/entity-index.ts). */
function resolveReference(
  entities: readonly StoredEntity[],
  kind: EntityKind,
  ref: unknown,
): string | undefined {
  const list = entities.filter((e) => e.type === kind.type)
  const by = (field: string, text: unknown) => list.find((e) => e.document[field] === text)?.id
  const byId = (text: unknown) => list.find((e) => e.id === text)?.id
  if (typeof ref === 'string') return by('name', ref) ?? by('username', ref) ?? byId(ref)
  if (!isRecord(ref)) return undefined
  if ('id' in ref) return byId(ref.id)
  if ('name' in ref) return by('name', ref.name)
  return by('username', ref.username)
}

function refId(value: unknown): string | undefined {
  return isRecord(value) && typeof value.id === 'string' ? value.id : undefined
}

function isRecord(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function notFound(): GatehouseError {
  return new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', 'Not found')
}
