/**
 * The admin API's route table: every route as a method and a path template in Kong's style
 * (`/services/{service}`), what it is for, its parameters, the zod schema its body is checked with
 * (the very object the handler or the loader uses), its answers and its handler. dispatch.ts serves
 * from it and openapi.ts describes it, so the two cannot drift apart: a route is served only when it
 * is here, and then it is in the document (`GET /openapi.json`, docs/admin-openapi.json).
 *
 * Built once per plugin registry: the credential routes (`/key-auths`, `/jwts`, ...) come from the
 * plugins that own those credentials (entity-routes.ts).
 */
import { declarativeSchemaFor } from '../config/load.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import { loadConfig, showConfig } from './config.ts'
import { entityRoutes, entityShapes } from './entity-routes.ts'
import { explain, explainBody } from './explain.ts'
import { sendJson } from './http.ts'
import { identityRoutes } from './identity-routes.ts'
import { listInternalKeys, rotateInternalKey, sendInternalJwks } from './internal-tokens.ts'
import { YAML_TYPES } from './media-type.ts'
import { buildOpenApi, type OpenApiDocument } from './openapi.ts'
import { cacheEntry, flushProxyCache } from './proxy-cache.ts'
import { createRevocation, listRevocations, revocationBody } from './revocations.ts'
import { type AdminRoute, type AdminRouteTable, type JsonSchema, ref } from './route-types.ts'
import { keyRevocationBody, listSigningKeys, revokeSigningKey } from './signing-keys.ts'
import { handleStatsStream, STATS_STREAM_PATH } from './stats-stream.ts'
import { sendMetrics, sendNodeInfo, sendReadiness, sendStatus } from './status.ts'

export type { AdminEnv, AdminHandler } from './http.ts'
export type { AdminRoute, AdminRouteTable } from './route-types.ts'

const JSON_OBJECT: JsonSchema = { type: 'object' }
const CHECKS: JsonSchema = {
  type: 'object',
  description: 'Each dependency the node is configured with: `ok` or `unavailable`.',
  additionalProperties: { type: 'string' },
}
const LIST_OF = (items: JsonSchema): JsonSchema => ({
  type: 'object',
  properties: { data: { type: 'array', items } },
  required: ['data'],
})
const CONFIG_COUNTS: JsonSchema = {
  type: 'object',
  properties: Object.fromEntries(
    ['services', 'routes', 'consumers', 'plugins'].map((k) => [k, { type: 'integer', minimum: 0 }]),
  ),
}

const VERDICT: JsonSchema = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    id: { type: ['string', 'null'] },
    priority: { type: 'integer' },
    scope: {
      type: 'string',
      description: '`global`, or what the instance is attached to: `route`, `service`, `consumer`.',
    },
    verdict: { type: 'string', enum: ['passed', 'refused', 'answered', 'skipped', 'not_evaluated'] },
    status: { type: ['integer', 'null'] },
    code: { type: 'string' },
    reason: { type: ['string', 'null'] },
    message: { type: 'string' },
    why: { type: 'string' },
    notes: {
      type: 'object',
      description:
        'What the plugin found or would have done (rate-limit counts, the internal token’s claims, ...).',
    },
  },
  required: ['name', 'priority', 'scope', 'verdict'],
}
const EXPLANATION: JsonSchema = {
  type: 'object',
  properties: {
    request: {
      type: 'object',
      description:
        'The request explained; `sent` describes each header, cookie and query parameter without its value.',
    },
    route: { type: ['object', 'null'] },
    routing: { type: 'string' },
    plugins: { type: 'array', items: VERDICT },
    consumer: { type: ['object', 'null'] },
    credential: { type: ['object', 'null'] },
    caller: { type: ['object', 'null'] },
    outcome: {
      type: 'object',
      properties: { result: { type: 'string', enum: ['refused', 'answered', 'composed', 'forwarded'] } },
      required: ['result'],
    },
  },
  required: ['request', 'plugins', 'outcome'],
}

/** The routes of the node itself, its configuration, keys, revocations and caches. */
function nodeRoutes(registry: PluginRegistry): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/',
      tag: 'Node',
      summary: 'This node: version, plugins, listeners',
      responses: {
        200: { description: 'Node information, in the shape of Kong’s `GET /`.', schema: JSON_OBJECT },
      },
      handle: sendNodeInfo,
    },
    {
      method: 'GET',
      path: '/status',
      tag: 'Node',
      summary: 'Liveness: connections, requests, memory, configuration hash, store reachability',
      description: 'Also served, without the token, by the status listener (`admin.status_listen`).',
      responses: { 200: { description: 'The node serves.', schema: JSON_OBJECT } },
      handle: sendStatus,
    },
    {
      method: 'GET',
      path: '/status/ready',
      tag: 'Node',
      summary: 'Readiness: whether this node should get traffic',
      description:
        '503 while shutting down or while the store or Redis does not answer; `checks` says which.',
      responses: {
        200: {
          description: 'Ready.',
          schema: { type: 'object', properties: { message: { const: 'ready' }, checks: CHECKS } },
        },
      },
      errors: ['GH_ERR_SERVER_SHUTTING_DOWN', 'GH_ERR_STATUS_NOT_READY'],
      handle: sendReadiness,
    },
    {
      method: 'GET',
      path: '/metrics',
      tag: 'Node',
      summary: 'Prometheus metrics (text exposition format)',
      responses: { 200: { description: 'The metrics.', media: 'text/plain' } },
      handle: sendMetrics,
    },
    {
      method: 'GET',
      path: STATS_STREAM_PATH,
      tag: 'Node',
      summary: "Live traffic as server-sent events: the last 15 minutes, then each second's numbers",
      description:
        'One `history` event on connect, then a `second` event per second (requests, p50/p99 and status classes per route, summed over the workers), and `end` when the gateway stops. Read it with fetch() and the token: EventSource cannot send a header. docs/console.md has the format.',
      responses: { 200: { description: 'The event stream.', media: 'text/event-stream' } },
      handle: handleStatsStream,
    },
    {
      method: 'GET',
      path: '/openapi.json',
      tag: 'Node',
      summary: 'This document: the admin API as OpenAPI 3.1',
      responses: { 200: { description: 'The OpenAPI document.', schema: JSON_OBJECT } },
      handle: (ctx, a) => sendJson(a.res, 200, openApiFor(ctx.registry, ctx.version)),
    },
    {
      method: 'GET',
      path: '/config',
      tag: 'Configuration',
      summary: 'The running configuration: hash, source and entity counts',
      responses: {
        200: {
          description: 'The running configuration.',
          schema: {
            type: 'object',
            properties: {
              config_hash: { type: 'string' },
              source: { type: 'string' },
              entities: CONFIG_COUNTS,
            },
          },
        },
      },
      handle: showConfig,
    },
    {
      method: 'POST',
      path: '/config',
      tag: 'Configuration',
      summary: 'Load a declarative configuration (DB-less reload)',
      description:
        'Kong’s DB-less reload: the body is a whole declarative configuration, as JSON (also wrapped as `{"config": "<YAML or JSON text>"}`) or YAML. It is checked completely before it replaces the running one; an invalid one changes nothing. A DB-mode node answers 405: its entities are written one by one, or replaced with `gatehouse config import`.',
      query: [
        {
          name: 'check_hash',
          description: '`1`: answer 304 without loading when the document is the one running.',
          schema: { type: 'string', enum: ['0', '1'] },
        },
      ],
      body: {
        schema: declarativeSchemaFor(registry),
        name: 'DeclarativeConfig',
        required: true,
        media: ['application/json', ...YAML_TYPES],
        description: 'The declarative configuration (Kong’s format 3.0 and Gatehouse’s sections).',
      },
      responses: {
        201: {
          description: 'Loaded and serving.',
          schema: {
            type: 'object',
            properties: {
              message: { type: 'string' },
              config_hash: { type: 'string' },
              entities: CONFIG_COUNTS,
            },
          },
        },
        304: { description: 'With `check_hash=1`: the document is the one running; nothing was done.' },
      },
      errors: [
        'GH_ERR_CONFIG_INVALID',
        'GH_ERR_CONFIG_UNREADABLE',
        'GH_ERR_ADMIN_BAD_REQUEST',
        'GH_ERR_ADMIN_METHOD_NOT_ALLOWED',
        'GH_ERR_ADMIN_BUSY',
        'GH_ERR_STORE_UNAVAILABLE',
      ],
      handle: loadConfig,
    },
    ...entityRoutes(registry),
    {
      method: 'GET',
      path: '/revocations',
      tag: 'Revocations',
      summary: 'The most recent revocations, newest first',
      query: [
        {
          name: 'limit',
          description: 'How many. Default: 100.',
          schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      ],
      responses: {
        200: {
          description: 'The revocations, and whether this node is in step with Redis.',
          schema: { ...LIST_OF(ref('Revocation')), additionalProperties: true },
        },
      },
      errors: ['GH_ERR_ADMIN_BAD_REQUEST'],
      handle: listRevocations,
    },
    {
      method: 'POST',
      path: '/revocations',
      tag: 'Revocations',
      summary: 'Revoke a subject, session, grant, profile, JWKS or key',
      description:
        'Every node refuses what is revoked within a second when the configuration has a top-level `redis`; this node only without one.',
      body: { schema: revocationBody, name: 'RevocationRequest', required: true },
      responses: {
        201: {
          description: 'Revoked.',
          schema: { type: 'object', properties: { data: ref('Revocation') }, required: ['data'] },
        },
      },
      errors: ['GH_ERR_ADMIN_BAD_REQUEST', 'GH_ERR_REVOCATION_UNAVAILABLE'],
      handle: createRevocation,
    },
    {
      method: 'GET',
      path: '/signing-keys',
      tag: 'Signing keys',
      summary: 'Every signing key this node knows (never key material)',
      description: 'The identity provider’s keys and the internal-token keys, with kind, alg and state.',
      responses: { 200: { description: 'The keys.', schema: LIST_OF(JSON_OBJECT) } },
      handle: listSigningKeys,
    },
    {
      method: 'POST',
      path: '/signing-keys/{kid}/revoke',
      tag: 'Signing keys',
      summary: 'Withdraw a signing key now, on every node',
      params: { kid: 'The key id (1-256 printable ASCII characters).' },
      body: { schema: keyRevocationBody, name: 'KeyRevocationRequest', required: false },
      responses: { 201: { description: 'Withdrawn; what was done.', schema: { type: 'object' } } },
      errors: ['GH_ERR_ADMIN_BAD_REQUEST', 'GH_ERR_KEY_NOT_FOUND', 'GH_ERR_REVOCATION_UNAVAILABLE'],
      handle: revokeSigningKey,
    },
    {
      method: 'POST',
      path: '/explain',
      tag: 'Explain',
      summary: 'Why was this refused? A dry run of a request through a route’s plugins',
      description:
        'Name a route (id or name) or describe a request (method, host, path: matched by the router), with the headers and query parameters a client would send. The answer lists the route’s plugins in the order their access phase runs, each `passed`, `refused` (status, code, reason: as the access log’s error_code and error_detail), `answered`, `skipped` (and why) or `not_evaluated`; the consumer and caller they resolved; and the outcome: `forwarded` to a service, `composed`, `answered` by a plugin, or `refused` with status, headers and body. A dry run of the plugins’ own code: nothing is forwarded, counted (rate-limiting reads its counters), signed (internal-token says what it would mint), stored, refreshed or set. What was sent is described, never echoed.',
      body: { schema: explainBody, name: 'ExplainRequest', required: true },
      responses: { 200: { description: 'The explanation, whatever the outcome.', schema: EXPLANATION } },
      errors: ['GH_ERR_ADMIN_BAD_REQUEST', 'GH_ERR_ADMIN_NOT_FOUND'],
      handle: explain,
    },
    ...identityRoutes(),
    {
      method: 'GET',
      path: '/internal-tokens/jwks.json',
      tag: 'Internal tokens',
      summary: 'The public JWKS of the internal-token keys',
      responses: { 200: { description: 'The JWK set.', media: 'application/jwk-set+json' } },
      handle: sendInternalJwks,
    },
    {
      method: 'GET',
      path: '/internal-tokens/keys',
      tag: 'Internal tokens',
      summary: 'The internal-token keys: kid, alg, state and schedule (never private material)',
      responses: { 200: { description: 'The keys.', schema: LIST_OF(JSON_OBJECT) } },
      handle: listInternalKeys,
    },
    {
      method: 'POST',
      path: '/internal-tokens/keys/rotate',
      tag: 'Internal tokens',
      summary: 'Rotate now: a new key signs at once',
      description: 'The old key stays published until the tokens it signed have expired.',
      responses: { 201: { description: 'Rotated; the keys now.', schema: LIST_OF(JSON_OBJECT) } },
      handle: rotateInternalKey,
    },
    {
      method: 'DELETE',
      path: '/proxy-cache',
      tag: 'Proxy cache',
      summary: 'Empty every proxy-cache store of this node',
      responses: { 204: { description: 'Emptied.' } },
      handle: flushProxyCache,
    },
    ...cacheEntryRoutes('/proxy-cache/{key}', {}),
    ...cacheEntryRoutes('/proxy-cache/{plugin}/caches/{key}', {
      plugin: 'The proxy-cache plugin instance (id).',
    }),
  ]
}

function cacheEntryRoutes(path: string, params: Record<string, string>): AdminRoute[] {
  const shared = {
    path,
    tag: 'Proxy cache',
    params: { ...params, key: 'The cache key (64 hex digits, the `X-Cache-Key` header).' },
    errors: ['GH_ERR_ADMIN_NOT_FOUND'] as const,
    handle: cacheEntry,
  }
  return [
    {
      ...shared,
      method: 'GET',
      summary: 'A cached response',
      responses: { 200: { description: 'The entry, in Kong’s shape.', schema: JSON_OBJECT } },
    },
    {
      ...shared,
      method: 'DELETE',
      summary: 'Purge a cached response',
      responses: { 204: { description: 'Purged.' } },
    },
  ]
}

const tables = new WeakMap<PluginRegistry, AdminRouteTable>()

/** The route table for this registry, built once. */
export function adminRouteTable(registry: PluginRegistry): AdminRouteTable {
  let table = tables.get(registry)
  if (!table) {
    table = { routes: Object.freeze(nodeRoutes(registry)), entities: entityShapes(registry) }
    tables.set(registry, table)
  }
  return table
}

export function adminRoutes(registry: PluginRegistry): readonly AdminRoute[] {
  return adminRouteTable(registry).routes
}

const documents = new WeakMap<PluginRegistry, Map<string, OpenApiDocument>>()

/** The OpenAPI document of the table, built once per registry and version. */
export function openApiFor(registry: PluginRegistry, version: string): OpenApiDocument {
  const byVersion = documents.get(registry) ?? new Map<string, OpenApiDocument>()
  documents.set(registry, byVersion)
  const document = byVersion.get(version) ?? buildOpenApi(adminRouteTable(registry), version)
  byVersion.set(version, document)
  return document
}
