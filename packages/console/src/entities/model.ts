/**
 * The entity kinds the Entities page shows, read from the admin API's own OpenAPI document rather than
 * listed here: services, routes, consumers, plugins and one kind per credential the node's plugins
 * define, each with the schema its writes are validated with (for the form's fields) and the path that
 * creates one under a consumer.
 */
import { AdminError, adminGet, authHeaders, errorOf } from '../api.ts'

/** A JSON Schema as the document gives it (only what the form reads). */
export interface Schema {
  readonly type?: string | readonly string[]
  readonly enum?: readonly unknown[]
  readonly items?: Schema
  readonly properties?: Readonly<Record<string, Schema>>
  readonly required?: readonly string[]
  readonly description?: string
  readonly default?: unknown
  readonly $ref?: string
  readonly anyOf?: readonly Schema[]
  readonly oneOf?: readonly Schema[]
}

export interface Kind {
  /** The collection's path segment: `services`, `key-auths`. */
  readonly collection: string
  /** Its key in a declarative file: `services`, `keyauth_credentials`. */
  readonly type: string
  readonly title: string
  readonly credential: boolean
  /** The write schema (`ServiceWrite`), with $refs resolved one level. */
  readonly write: Schema | null
  /** `/consumers/{consumer}/key-auth`-style path that creates one under a consumer (credentials). */
  readonly underConsumer: string | null
}

export interface Entity {
  readonly id: string
  readonly tags?: readonly string[] | null
  readonly [field: string]: unknown
}

export interface PageOf<T> {
  readonly data: readonly T[]
  readonly next: string | null
  readonly offset?: string
}

const TITLES: Readonly<Record<string, string>> = {
  services: 'Services',
  routes: 'Routes',
  consumers: 'Consumers',
  plugins: 'Plugins',
}

interface OpenApi {
  readonly paths: Readonly<
    Record<string, Readonly<Record<string, { tags?: string[]; requestBody?: unknown; responses?: unknown }>>>
  >
  readonly components: { readonly schemas: Readonly<Record<string, Schema>> }
}

function refName(schema: unknown): string | null {
  const ref = (schema as Schema | undefined)?.$ref
  return ref === undefined ? null : ref.slice(ref.lastIndexOf('/') + 1)
}

/** `KeyauthCredential` → `keyauth_credentials`: the declarative file's list (config/load.ts). */
function typeOf(component: string): string {
  return `${component.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()}s`
}

export async function loadKinds(token: string | null): Promise<readonly Kind[]> {
  const doc = await adminGet<OpenApi>('/openapi.json', token)
  const schemas = doc.components.schemas
  const resolve = (s: Schema | undefined): Schema | null => {
    if (s === undefined) return null
    const name = refName(s)
    return name === null ? s : (schemas[name] ?? null)
  }
  const kinds: Kind[] = []
  for (const [path, ops] of Object.entries(doc.paths)) {
    const m = /^\/([a-z-]+)$/.exec(path)
    const tags = ops.get?.tags ?? []
    const credential = tags.includes('Credentials')
    if (m === null || !(credential || m[1]! in TITLES)) continue
    const page = (ops.get?.responses as Record<string, { content?: Record<string, { schema?: Schema }> }>)?.[
      '200'
    ]?.content?.['application/json']?.schema
    const component = refName(page?.properties?.data?.items)
    if (component === null) continue
    const writeName = `${component}Write`
    const underConsumer =
      Object.entries(doc.paths).find(
        ([p, o]) =>
          p.startsWith('/consumers/{consumer}/') &&
          !p.slice('/consumers/{consumer}/'.length).includes('/') &&
          refName(
            (o.post?.requestBody as { content?: Record<string, { schema?: Schema }> } | undefined)?.content?.[
              'application/json'
            ]?.schema,
          ) === writeName,
      )?.[0] ?? null
    kinds.push({
      collection: m[1]!,
      type: typeOf(component),
      title: TITLES[m[1]!] ?? m[1]!,
      credential,
      write: resolve(schemas[writeName]),
      underConsumer: credential ? underConsumer : null,
    })
  }
  const order = (k: Kind) => (k.collection in TITLES ? Object.keys(TITLES).indexOf(k.collection) : 10)
  return kinds.sort((a, b) => order(a) - order(b) || a.collection.localeCompare(b.collection))
}

/** A write the admin API refused: its message, and each field's problem (`paths[0]` → message). */
export class WriteError extends AdminError {
  readonly fields: Readonly<Record<string, string>>

  constructor(base: AdminError, fields: Readonly<Record<string, string>>) {
    super(base.status, base.code, base.message)
    this.fields = fields
  }
}

/** POST, PUT, PATCH or DELETE on the admin API with a JSON body; the answer's JSON (null for 204). */
export async function adminWrite<T>(
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  path: string,
  token: string | null,
  body?: unknown,
): Promise<T | null> {
  const res = await fetch(path, {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...authHeaders(token),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    cache: 'no-store',
    credentials: 'omit',
  })
  if (res.ok) return res.status === 204 ? null : ((await res.json()) as T)
  const copy = res.clone()
  const base = await errorOf(res)
  let fields: Record<string, string> = {}
  try {
    const parsed = (await copy.json()) as { fields?: unknown }
    if (parsed.fields !== null && typeof parsed.fields === 'object')
      fields = parsed.fields as Record<string, string>
  } catch {
    // No envelope: the status line is the message.
  }
  throw new WriteError(base, fields)
}

/**
 * Whether this node takes entity writes, and if not the admin API's own reason: an OPTIONS on the
 * collection lists the methods it allows (POST only in DB mode); a DB-less node's refusal of a write
 * is answered before any body is read, so asking it changes nothing.
 */
export async function writeMode(
  token: string | null,
): Promise<{ readonly writable: true } | { readonly writable: false; readonly reason: string }> {
  const res = await fetch('/services', {
    method: 'OPTIONS',
    headers: authHeaders(token),
    cache: 'no-store',
    credentials: 'omit',
  })
  if (!res.ok) throw await errorOf(res)
  const allow = (res.headers.get('allow') ?? '').split(/,\s*/)
  if (allow.includes('POST')) return { writable: true }
  try {
    await adminWrite('POST', '/services', token, {})
    return { writable: false, reason: 'the admin API does not accept writes on this node' }
  } catch (err) {
    return { writable: false, reason: err instanceof Error ? err.message : String(err) }
  }
}

/** The label an entity goes by in lists: its name, username, key name or id. */
export function labelOf(e: Entity): string {
  for (const f of ['name', 'username', 'custom_id', 'group', 'key', 'target'])
    if (typeof e[f] === 'string' && e[f] !== '') return e[f] as string
  return e.id
}

/** A short line about an entity for its list row. */
export function summaryOf(kind: Kind, e: Entity): string {
  const list = (v: unknown) => (Array.isArray(v) ? v.join(', ') : '')
  const ref = (v: unknown) => (v !== null && typeof v === 'object' ? (v as { id?: string }).id : undefined)
  switch (kind.collection) {
    case 'services':
      return `${e.protocol}://${e.host}:${e.port}${e.path ?? ''}`
    case 'routes':
      return [list(e.methods), list(e.hosts), list(e.paths)].filter((s) => s !== '').join(' ')
    case 'plugins': {
      const at = ['route', 'service', 'consumer'].filter((f) => ref(e[f]) !== undefined)
      return `${e.enabled === false ? 'disabled, ' : ''}${at.length === 0 ? 'global' : at.join('+')}`
    }
    default:
      return ref(e.consumer) === undefined ? '' : `consumer ${ref(e.consumer)}`
  }
}

/** Whether an entity matches the search text: any string field (name, id, host, path…) contains it. */
export function matches(e: Entity, text: string): boolean {
  const q = text.trim().toLowerCase()
  if (q === '') return true
  const values = Object.values(e).flatMap((v) => (Array.isArray(v) ? v : [v]))
  return values.some(
    (v) => (typeof v === 'string' || typeof v === 'number') && String(v).toLowerCase().includes(q),
  )
}

/** Opens a location of the Entities page: `go('routes', id, 'edit')`. */
export function go(...parts: string[]): void {
  location.hash = `#/entities/${parts.map(encodeURIComponent).join('/')}`
}

export { AdminError }
