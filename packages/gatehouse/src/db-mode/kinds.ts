/**
 * The kinds of entity DB mode keeps, in the order a declarative document lists them: services, routes,
 * consumers, plugins, then each credential list the plugins define. One table describes, per kind, what
 * the admin API and the store need: its paths, how a path key finds it, what it refers to, and which of
 * its values must be unique (Kong's endpoint_key, foreign and unique fields).
 */
import type { PluginRegistry } from '../plugins/registry.ts'
import type { CredentialDefinition } from '../plugins/types.ts'

export interface EntityKind {
  /** The declarative list and the stored type: `services`, ..., `keyauth_credentials`. */
  readonly type: string
  /** The admin API collection: `/services`, `/key-auths`. */
  readonly collection: string
  /** Its name under a parent's path: `/services/{s}/routes`, `/consumers/{c}/key-auth`. */
  readonly nested: string
  /** Fields a path key that is not an id is matched against, in order (Kong's endpoint_key). */
  readonly endpointKeys: readonly string[]
  /** Reference fields (`{ id }` once stored) → the type they refer to. */
  readonly foreign: Readonly<Record<string, string>>
  /** Fields unique across the type. */
  readonly unique: readonly string[]
  /** Fields unique among one consumer's entities. */
  readonly uniquePerConsumer: readonly string[]
  /** The endpoint key is a secret (an API key): never quoted in a message. */
  readonly secretKey: boolean
  /** Fields of a declarative file that nest other entities; the admin API writes those separately. */
  readonly nestedLists: readonly string[]
  /** The field whose value is the stored `name` (unique per type in the database). */
  readonly nameField: string | null
  /** Set for credentials: the definition of the plugin that owns them. */
  readonly credential: CredentialDefinition | null
}

const kindsByRegistry = new WeakMap<PluginRegistry, readonly EntityKind[]>()

export function entityKinds(registry: PluginRegistry): readonly EntityKind[] {
  let kinds = kindsByRegistry.get(registry)
  if (kinds) return kinds
  const credentials = registry.credentialDefinitions()
  const base = { uniquePerConsumer: [], secretKey: false, credential: null }
  kinds = Object.freeze([
    {
      ...base,
      type: 'services',
      collection: 'services',
      nested: 'services',
      endpointKeys: ['name'],
      foreign: {},
      unique: ['name'],
      nestedLists: ['routes', 'plugins'],
      nameField: 'name',
    },
    {
      ...base,
      type: 'routes',
      collection: 'routes',
      nested: 'routes',
      endpointKeys: ['name'],
      foreign: { service: 'services' },
      unique: ['name'],
      nestedLists: ['plugins'],
      nameField: 'name',
    },
    {
      ...base,
      type: 'consumers',
      collection: 'consumers',
      nested: 'consumers',
      endpointKeys: ['username', 'custom_id'],
      foreign: {},
      unique: ['username', 'custom_id'],
      nestedLists: ['plugins', ...credentials.map((d) => d.name)],
      nameField: 'username',
    },
    {
      ...base,
      type: 'plugins',
      collection: 'plugins',
      nested: 'plugins',
      endpointKeys: ['instance_name'],
      foreign: { service: 'services', route: 'routes', consumer: 'consumers' },
      unique: ['instance_name'],
      nestedLists: [],
      nameField: 'instance_name',
    },
    ...credentials.map(
      (def): EntityKind => ({
        type: def.name,
        collection: def.adminCollection,
        nested: def.adminNested,
        endpointKeys: def.endpointKey === null ? [] : [def.endpointKey],
        foreign: { consumer: 'consumers' },
        unique: def.unique,
        uniquePerConsumer: def.uniquePerConsumer ?? [],
        secretKey: def.endpointKeyIsSecret === true,
        nestedLists: [],
        nameField: null,
        credential: def,
      }),
    ),
  ])
  kindsByRegistry.set(registry, kinds)
  return kinds
}

export function kindOf(kinds: readonly EntityKind[], type: string): EntityKind {
  const kind = kinds.find((k) => k.type === type)
  if (!kind) throw new TypeError(`unknown entity type '${type}'`)
  return kind
}

/** The field of `child` that refers to `parent` (a route's `service`), or undefined when it has none. */
export function parentField(child: EntityKind, parent: EntityKind): string | undefined {
  return Object.entries(child.foreign).find(([, type]) => type === parent.type)?.[0]
}
