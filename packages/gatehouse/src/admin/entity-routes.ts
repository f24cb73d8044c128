/**
 * The route table's entity routes, made from the entity kinds DB mode keeps (db-mode/kinds.ts: services,
 * routes, consumers, plugins and each plugin's credentials) and Kong's upstreams: for each kind its
 * collection, its entities by id or endpoint key, and the same under each parent it refers to
 * (`/services/{service}/routes`, `/consumers/{consumer}/key-auth`), reads everywhere and writes in DB
 * mode. A write's body is the loader's own schema of the entity in a declarative file
 * (config/load.ts's declarativeSchemaFor), less the nested lists the admin API writes separately.
 */
import type { z } from 'zod'
import { declarativeSchemaFor } from '../config/load.ts'
import { IGNORED_KEYS } from '../config/schema/root.ts'
import { type EntityKind, entityKinds, parentField } from '../db-mode/kinds.ts'
import type { GatehouseErrorCode } from '../errors/errors.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import type { CredentialDefinition } from '../plugins/types.ts'
import { listCredentials, showCredential } from './credentials.ts'
import { showEffectivePlugins } from './effective-plugins.ts'
import {
  type EntityType,
  listChildren,
  listEntities,
  setTargetHealth,
  showChild,
  showEnabledPlugins,
  showEntity,
  showRouteService,
  showTarget,
  showUpstreamHealth,
} from './entities.ts'
import type { AdminHandler } from './http.ts'
import { type AdminMethod, type AdminRoute, type EntityShape, type JsonSchema, ref } from './route-types.ts'
import { writeEntity } from './writes.ts'

/** How a kind appears in paths and in the document. */
interface KindDoc {
  readonly kind: EntityKind
  /** Component name of the entity as shown: `Service`, `KeyauthCredential`. */
  readonly name: string
  /** Its path parameter: `service`, `key_auth`. */
  readonly param: string
  /** Words for it: `service`, `key-auth credential`. */
  readonly noun: string
  readonly tag: string
}

const PAGE_QUERY = [
  {
    name: 'size',
    description: 'Entities per page. Default: 100.',
    schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
  },
  {
    name: 'offset',
    description: 'Where the page starts: the `offset` of the previous page.',
    schema: { type: 'string' },
  },
  {
    name: 'tags',
    description: 'Only entities with these tags: `a,b` all of them, `a/b` any of them.',
    schema: { type: 'string' },
  },
] as const

const WRITE_ERRORS: readonly GatehouseErrorCode[] = [
  'GH_ERR_CONFIG_INVALID',
  'GH_ERR_ADMIN_BAD_REQUEST',
  'GH_ERR_ADMIN_CONFLICT',
  'GH_ERR_ADMIN_NOT_FOUND',
  'GH_ERR_ADMIN_BUSY',
  'GH_ERR_STORE_UNAVAILABLE',
]

function pascal(words: string): string {
  return words
    .split(/[_-]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')
}

function describeKind(kind: EntityKind): KindDoc {
  const singular = kind.collection.replace(/s$/, '')
  const def = kind.credential
  return {
    kind,
    name: def === null ? pascal(singular) : pascal(kind.type.replace(/s$/, '')),
    param: singular.replaceAll('-', '_'),
    noun: def === null ? singular : `${singular} credential`,
    tag: def === null ? pascal(kind.collection) : 'Credentials',
  }
}

/** What a path parameter of the kind names: its id, or the fields Kong's endpoint_key matches. */
function paramText(d: KindDoc): string {
  const keys = d.kind.endpointKeys.map((k) => `\`${k}\``)
  const by = keys.length === 0 ? 'id' : `id or ${keys.join(' or ')}`
  return `The ${d.noun}'s ${by}.`
}

function page(items: JsonSchema): JsonSchema {
  return {
    type: 'object',
    properties: {
      data: { type: 'array', items },
      next: { type: ['string', 'null'], description: 'The path of the next page; null on the last.' },
      offset: { type: 'string', description: 'The `offset` of the next page, when there is one.' },
    },
    required: ['data', 'next'],
  }
}

/** The schema of one entity in a declarative file's top-level list `type`. */
function elementOf(registry: PluginRegistry, type: string): z.ZodType {
  const list = (declarativeSchemaFor(registry).shape as Record<string, z.ZodType>)[type]
  const array = (list as z.ZodOptional<z.ZodArray<z.ZodType>>).unwrap()
  return array.element
}

export function entityRoutes(registry: PluginRegistry): AdminRoute[] {
  const docs = entityKinds(registry).map(describeKind)
  const pluginConfigs = new Map(registry.all().map((p) => [p.name, p.schema as z.ZodType]))
  const routes: AdminRoute[] = []
  for (const d of docs) {
    const { kind } = d
    const element = elementOf(registry, kind.type)
    const body = (partial: boolean) => ({
      schema: element,
      name: `${d.name}${partial ? 'Patch' : 'Write'}`,
      required: !partial,
      omit: kind.nestedLists,
      partial,
      ...(kind.type === 'plugins' ? { pluginConfigs } : {}),
    })
    const def = kind.credential
    const item = `/${kind.collection}/{${d.param}}`
    const params = { [d.param]: paramText(d) }
    const read = (path: string, summary: string, handle: AdminHandler, more: Partial<AdminRoute> = {}) =>
      routes.push({
        method: 'GET',
        path,
        summary,
        tag: d.tag,
        entity: kind.type,
        handle,
        ...more,
      } as AdminRoute)
    const writes = (collection: string, under: Readonly<Record<string, string>>, parent?: KindDoc) => {
      const parentTarget = parent && { kind: parent.kind, param: parent.param }
      const within = parent ? ` of the ${parent.noun}` : ''
      routes.push({
        method: 'POST',
        path: collection,
        tag: d.tag,
        summary: `Create a ${d.noun}${within}`,
        params: under,
        body: body(false),
        responses: { 201: { description: 'Created; the entity as shown.', schema: ref(d.name) } },
        errors: WRITE_ERRORS,
        dbMode: true,
        entity: kind.type,
        handle: writeEntity({ kind, parent: parentTarget }),
      })
      const one = `${collection}/{${d.param}}`
      const oneParams = { ...under, ...params }
      const verbs: [AdminMethod, string, number][] = [
        ['PUT', `Create or replace a ${d.noun}${within}`, 200],
        ['PATCH', `Update a ${d.noun}${within}`, 200],
        ['DELETE', `Delete a ${d.noun}${within}`, 204],
      ]
      for (const [method, summary, status] of verbs)
        routes.push({
          method,
          path: one,
          tag: d.tag,
          summary,
          params: oneParams,
          ...(method === 'DELETE' ? {} : { body: body(method === 'PATCH') }),
          responses:
            status === 204
              ? { 204: { description: 'Deleted (also when there was nothing to delete).' } }
              : { 200: { description: 'The entity as shown.', schema: ref(d.name) } },
          errors: method === 'DELETE' ? [...WRITE_ERRORS, 'GH_ERR_ADMIN_REFERENCED'] : WRITE_ERRORS,
          dbMode: true,
          entity: kind.type,
          handle: writeEntity({ kind, param: d.param, parent: parentTarget }),
        })
    }

    read(
      `/${kind.collection}`,
      `List ${kind.collection}`,
      def ? listCredentials(def, false) : listEntities(kind.type as EntityType),
      {
        query: PAGE_QUERY,
        responses: { 200: { description: 'One page.', schema: page(ref(d.name)) } },
        errors: ['GH_ERR_ADMIN_BAD_REQUEST'],
      },
    )
    read(
      item,
      `Show a ${d.noun}`,
      def ? showCredential(def, d.param) : showEntity(kind.type as EntityType, d.param),
      {
        params,
        responses: { 200: { description: 'The entity.', schema: ref(d.name) } },
        errors: ['GH_ERR_ADMIN_NOT_FOUND'],
      },
    )
    if (def)
      read(
        `${item}/consumer`,
        `Show the consumer of a ${d.noun}`,
        showCredential(def, d.param, { ofConsumer: true }),
        {
          params,
          responses: { 200: { description: 'The consumer.', schema: ref('Consumer') } },
          errors: ['GH_ERR_ADMIN_NOT_FOUND'],
        },
      )
    writes(`/${kind.collection}`, {})

    for (const parent of docs) {
      if (parent === d || parentField(kind, parent.kind) === undefined) continue
      const under = { [parent.param]: paramText(parent) }
      const collection = `/${parent.kind.collection}/{${parent.param}}/${kind.nested}`
      read(collection, `List the ${kind.collection} of a ${parent.noun}`, nestedList(def, parent, kind), {
        params: under,
        query: PAGE_QUERY,
        responses: { 200: { description: 'One page.', schema: page(ref(d.name)) } },
        errors: ['GH_ERR_ADMIN_BAD_REQUEST', 'GH_ERR_ADMIN_NOT_FOUND'],
      })
      read(`${collection}/{${d.param}}`, `Show a ${d.noun} of a ${parent.noun}`, nestedItem(def, parent, d), {
        params: { ...under, ...params },
        responses: { 200: { description: 'The entity.', schema: ref(d.name) } },
        errors: ['GH_ERR_ADMIN_NOT_FOUND'],
      })
      writes(collection, under, parent)
    }
  }
  routes.push(
    {
      method: 'GET',
      path: '/plugins/enabled',
      tag: 'Plugins',
      summary: 'The plugins this node can run',
      entity: 'plugins',
      responses: {
        200: {
          description: 'Their names, sorted.',
          schema: {
            type: 'object',
            properties: { enabled_plugins: { type: 'array', items: { type: 'string' } } },
          },
        },
      },
      handle: showEnabledPlugins,
    },
    {
      method: 'GET',
      path: '/routes/{route}/service',
      tag: 'Routes',
      summary: 'Show the service of a route',
      params: { route: "The route's id or `name`." },
      entity: 'services',
      responses: { 200: { description: 'The service.', schema: ref('Service') } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND'],
      handle: showRouteService,
    },
    {
      method: 'GET',
      path: '/routes/{route}/plugins/effective',
      tag: 'Routes',
      summary: 'The plugins that run on a route, in order',
      description:
        'From the chain the running configuration compiled for the route: one step per plugin name, sorted by priority (highest first) then name, as the proxy runs them. `instance` is the one that applies to callers without a consumer-scoped instance (Kong precedence: route+service, route, service, global); `consumer_scoped` lists those that replace it for their consumer. Disabled instances are left out.',
      params: { route: "The route's id or `name`." },
      entity: 'plugins',
      responses: {
        200: {
          description: 'The route and its plugins in the order they run.',
          schema: {
            type: 'object',
            properties: {
              route: { type: 'object' },
              data: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    order: { type: 'integer' },
                    name: { type: 'string' },
                    priority: { type: 'integer' },
                    band: { type: ['string', 'null'] },
                    instance: { type: ['object', 'null'] },
                    consumer_scoped: { type: 'array', items: { type: 'object' } },
                  },
                  required: ['order', 'name', 'priority', 'instance', 'consumer_scoped'],
                },
              },
            },
            required: ['route', 'data'],
          },
        },
      },
      errors: ['GH_ERR_ADMIN_NOT_FOUND'],
      handle: showEffectivePlugins,
    },
    ...upstreamRoutes(),
  )
  return routes
}

function nestedList(def: CredentialDefinition | null, parent: KindDoc, kind: EntityKind): AdminHandler {
  if (def) return listCredentials(def, true)
  return listChildren(parent.kind.type as EntityType, parent.param, kind.type as 'routes' | 'plugins')
}

function nestedItem(def: CredentialDefinition | null, parent: KindDoc, d: KindDoc): AdminHandler {
  if (def) return showCredential(def, d.param, { underConsumer: true })
  return showChild(parent.kind.type as EntityType, parent.param, d.kind.type as 'routes' | 'plugins', d.param)
}

/** Kong's upstreams and targets: read-only (declared in the file), and a target's health set by hand. */
function upstreamRoutes(): AdminRoute[] {
  const upstream = { upstream: "The upstream's id or `name`." }
  const target = { ...upstream, target: "The target's id or its `host:port`." }
  const shared = { tag: 'Upstreams' } as const
  const health = (healthy: boolean): AdminRoute => ({
    ...shared,
    method: 'POST',
    path: `/upstreams/{upstream}/targets/{target}/${healthy ? 'healthy' : 'unhealthy'}`,
    summary: `Mark a target ${healthy ? 'healthy' : 'unhealthy'} on this node`,
    params: target,
    responses: { 204: { description: 'Done.' } },
    errors: ['GH_ERR_ADMIN_NOT_FOUND'],
    handle: setTargetHealth(healthy),
  })
  return [
    {
      ...shared,
      method: 'GET',
      path: '/upstreams',
      summary: 'List upstreams',
      entity: 'upstreams',
      query: PAGE_QUERY,
      responses: { 200: { description: 'One page.', schema: page(ref('Upstream')) } },
      errors: ['GH_ERR_ADMIN_BAD_REQUEST'],
      handle: listEntities('upstreams'),
    },
    {
      ...shared,
      method: 'GET',
      path: '/upstreams/{upstream}',
      summary: 'Show an upstream',
      params: upstream,
      entity: 'upstreams',
      responses: { 200: { description: 'The upstream.', schema: ref('Upstream') } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND'],
      handle: showEntity('upstreams', 'upstream'),
    },
    {
      ...shared,
      method: 'GET',
      path: '/upstreams/{upstream}/targets',
      summary: 'List the targets of an upstream',
      params: upstream,
      entity: 'targets',
      query: PAGE_QUERY,
      responses: { 200: { description: 'One page.', schema: page(ref('Target')) } },
      errors: ['GH_ERR_ADMIN_BAD_REQUEST', 'GH_ERR_ADMIN_NOT_FOUND'],
      handle: listChildren('upstreams', 'upstream', 'targets'),
    },
    {
      ...shared,
      method: 'GET',
      path: '/upstreams/{upstream}/health',
      summary: "This node's view of the health of an upstream's targets",
      params: upstream,
      entity: 'targets',
      query: [
        {
          name: 'balancer_health',
          description: '`1`: the upstream’s own health instead of its targets’.',
          schema: { type: 'string' },
        },
      ],
      responses: { 200: { description: 'Each target with its health.', schema: { type: 'object' } } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND'],
      handle: showUpstreamHealth,
    },
    {
      ...shared,
      method: 'GET',
      path: '/upstreams/{upstream}/targets/{target}',
      summary: 'Show a target',
      params: target,
      entity: 'targets',
      responses: { 200: { description: 'The target.', schema: ref('Target') } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND'],
      handle: showTarget,
    },
    health(true),
    health(false),
  ]
}

/**
 * Each entity as the admin API shows it, for the document's components. A credential's definition
 * may leave fields out of what is shown (a basic-auth password hash): they are found by showing an
 * entity that has every field, so the document cannot list what is never shown.
 */
export function entityShapes(registry: PluginRegistry): EntityShape[] {
  const shapes: EntityShape[] = []
  for (const d of entityKinds(registry).map(describeKind)) {
    const { kind } = d
    const def = kind.credential
    shapes.push({
      name: d.name,
      schema: elementOf(registry, kind.type),
      omit: [
        ...kind.nestedLists,
        ...IGNORED_KEYS,
        ...(kind.type === 'services' ? ['url'] : []),
        ...(def ? hiddenFields(def) : []),
      ],
      references: Object.keys(kind.foreign),
      timestamps: def ? ['created_at'] : ['created_at', 'updated_at'],
      description: `A ${d.noun} as the admin API shows it: absent values are null, references are \`{ id }\`.`,
    })
  }
  for (const [name, type, references] of [
    ['Upstream', 'upstreams', []],
    ['Target', 'targets', ['upstream']],
  ] as const)
    shapes.push({
      name,
      schema: elementOf(registry, type),
      omit: [...IGNORED_KEYS, ...(type === 'upstreams' ? ['targets'] : [])],
      references,
      timestamps: ['created_at', 'updated_at'],
      description: `A ${name.toLowerCase()} as the admin API shows it: absent values are null.`,
    })
  return shapes
}

function hiddenFields(def: CredentialDefinition): string[] {
  if (def.present === undefined) return []
  const every = Object.fromEntries(Object.keys(def.fields).map((k) => [k, 'x']))
  const shown = def.present({ id: 'x', consumer: { id: 'x' }, tags: null, created_at: 0, ...every })
  return Object.keys(def.fields).filter((k) => !(k in shown))
}
