/**
 * The admin API as an OpenAPI 3.1 document, built from the route table (routes.ts) alone: every route
 * with its parameters, its body's JSON Schema (zod 4's draft 2020-12 output of the very schema that
 * checks it, as the client writes it: `io: 'input'`, so a field with a default is optional), its
 * answers, and the errors it and the guards before it may give in the one envelope (errors/respond.ts).
 * Served at `GET /openapi.json` and written to docs/admin-openapi.json by `npm run docs`.
 *
 * Deterministic (no dates, no host): the server URL is relative, so the document is the same on every
 * node and in the repository. Nothing in it comes from the running configuration, so it holds no secret.
 */
import { ERROR_CODES, type GatehouseErrorCode } from '../errors/errors.ts'
import { bodySchema, entitySchema, pluginConfigSchema } from './openapi-schemas.ts'
import { type AdminRoute, type AdminRouteTable, type JsonSchema, type RouteBody, ref } from './route-types.ts'

export type OpenApiDocument = Readonly<Record<string, unknown>>

/** Refusals of the guards every request passes (server.ts), in the order they run. */
const GUARD_ERRORS: readonly GatehouseErrorCode[] = [
  'GH_ERR_ADMIN_HOST_NOT_ALLOWED',
  'GH_ERR_ADMIN_CROSS_SITE',
  'GH_ERR_ADMIN_FORBIDDEN',
  'GH_ERR_ADMIN_UNAUTHORIZED',
]
const WRITE_ERRORS: readonly GatehouseErrorCode[] = [
  'GH_ERR_ADMIN_UNSUPPORTED_MEDIA_TYPE',
  'GH_ERR_ADMIN_BODY_TOO_LARGE',
]

const ERROR_ENVELOPE: JsonSchema = {
  type: 'object',
  description:
    'The one error envelope of the gateway and the admin API. Some answers add fields: an entity write’s `name`, `fields` and `flattened_errors` (Kong’s), `POST /config`’s `flattened_errors`, `/status/ready`’s `checks`.',
  properties: {
    message: { type: 'string', description: 'What was wrong, in words (Kong’s wording where Kong has one).' },
    code: {
      type: 'string',
      pattern: '^GH_ERR_[A-Z]+(_[A-Z]+)+$',
      description: 'The stable code (docs/errors.md).',
    },
    error: { type: 'string', description: 'The status text.' },
    statusCode: { type: 'integer' },
    request_id: { type: 'string' },
  },
  required: ['message', 'code', 'error', 'statusCode'],
}

const REVOCATION: JsonSchema = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: ['subject', 'session', 'grant', 'profile', 'jwks', 'key'] },
    id: { type: 'string' },
    revoked_at: { type: 'integer', description: 'Unix time, seconds.' },
    expires_at: { type: 'integer', description: 'Unix time, seconds: when the revocation is forgotten.' },
    reason: { type: ['string', 'null'] },
  },
  required: ['kind', 'id', 'revoked_at', 'expires_at', 'reason'],
}

const INFO_DESCRIPTION = [
  'Kong’s admin API, as Gatehouse serves it on `admin.listen`. Every request passes four checks first:',
  'its `Host` (421), cross-site requests (403), the admin token or a loopback client (401, 403) and the',
  'media type of a write’s body (415); see docs/admin-api.md. Every `GET` is also answered to `HEAD`;',
  'Kong’s entity paths answer `OPTIONS` with what they allow. Operations marked `x-gatehouse-db-mode`',
  'are served when entities are kept in the database; a DB-less node answers them 405. Operations marked',
  '`x-gatehouse-identity` are served while the built-in identity provider is enabled (`identity.enabled`);',
  'otherwise they answer 404 `GH_ERR_ADMIN_NOT_FOUND` naming the setting.',
].join(' ')

export function buildOpenApi(table: AdminRouteTable, version: string): OpenApiDocument {
  const schemas: Record<string, JsonSchema> = { ErrorEnvelope: ERROR_ENVELOPE, Revocation: REVOCATION }
  schemas.EntityReference = {
    type: 'object',
    properties: { id: { type: 'string', format: 'uuid' } },
    required: ['id'],
  }
  for (const shape of table.entities) schemas[shape.name] = entitySchema(shape)
  const bodies = new Map<string, RouteBody>()
  const paths: Record<string, Record<string, unknown>> = {}
  const tags: string[] = []
  const errorResponses: Record<string, unknown> = {}
  for (const route of table.routes) {
    if (route.body) addBody(schemas, bodies, route.body)
    if (!tags.includes(route.tag)) tags.push(route.tag)
    paths[route.path] ??= {}
    paths[route.path]![route.method.toLowerCase()] = operation(route, errorResponses)
  }
  return {
    openapi: '3.1.1',
    info: { title: 'Gatehouse admin API', version, description: INFO_DESCRIPTION },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/', description: 'The admin listener this document was read from.' }],
    security: [{ adminToken: [] }, { kongAdminToken: [] }, {}],
    tags: tags.map((name) => ({ name })),
    paths,
    components: {
      schemas,
      responses: errorResponses,
      securitySchemes: {
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            '`admin.token` (or GATEHOUSE_ADMIN_TOKEN), compared in constant time. Without one configured, only loopback clients are served, without a token.',
        },
        kongAdminToken: {
          type: 'apiKey',
          in: 'header',
          name: 'Kong-Admin-Token',
          description: 'The same token in Kong’s header.',
        },
      },
    },
  }
}

function addBody(schemas: Record<string, JsonSchema>, bodies: Map<string, RouteBody>, body: RouteBody): void {
  const seen = bodies.get(body.name)
  if (seen !== undefined) {
    // Two routes naming one component must mean one body; anything else is a mistake in the table.
    if (seen.schema !== body.schema || seen.partial !== body.partial)
      throw new TypeError(`admin route table: body '${body.name}' names two different schemas`)
    return
  }
  bodies.set(body.name, body)
  schemas[body.name] = bodySchema(body)
  for (const [name, schema] of body.pluginConfigs ?? [])
    schemas[`PluginConfig.${name}`] ??= pluginConfigSchema(schema)
}

function operation(route: AdminRoute, errorResponses: Record<string, unknown>): Record<string, unknown> {
  const parameters = [
    ...Object.entries(route.params ?? {}).map(([name, description]) => ({
      name,
      in: 'path',
      required: true,
      description,
      schema: { type: 'string', minLength: 1 },
    })),
    ...(route.query ?? []).map((q) => ({
      name: q.name,
      in: 'query',
      required: false,
      description: q.description,
      schema: q.schema,
    })),
  ]
  const description = [
    route.dbMode
      ? 'DB mode only: a DB-less node answers 405 (Kong’s `cannot … when not using a database`).'
      : '',
    route.identity
      ? 'Served while the identity provider is enabled; otherwise 404 naming `identity.enabled`.'
      : '',
    route.description ?? '',
  ]
    .filter((t) => t !== '')
    .join(' ')
  return {
    operationId: operationId(route),
    summary: route.summary,
    ...(description ? { description } : {}),
    tags: [route.tag],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body ? { requestBody: requestBody(route.body) } : {}),
    responses: responses(route, errorResponses),
    ...(route.dbMode ? { 'x-gatehouse-db-mode': true } : {}),
    ...(route.identity ? { 'x-gatehouse-identity': true } : {}),
  }
}

function operationId(route: AdminRoute): string {
  const words = route.path
    .split('/')
    .filter((s) => s !== '')
    .map((s) => (s.startsWith('{') ? `By${pascal(s.slice(1, -1))}` : pascal(s)))
  return `${route.method.toLowerCase()}${words.length > 0 ? words.join('') : 'Root'}`
}

function pascal(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')
}

function requestBody(body: RouteBody): Record<string, unknown> {
  const media = body.media ?? ['application/json']
  return {
    required: body.required,
    ...(body.description ? { description: body.description } : {}),
    content: Object.fromEntries(media.map((m) => [m, { schema: ref(body.name) }])),
  }
}

function responses(route: AdminRoute, errorResponses: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [status, r] of Object.entries(route.responses)) {
    const content =
      r.media !== undefined
        ? { [r.media]: { schema: { type: 'string' } } }
        : r.schema !== undefined
          ? { 'application/json': { schema: r.schema } }
          : undefined
    out[status] = { description: r.description, ...(content ? { content } : {}) }
  }
  const codes = new Set<GatehouseErrorCode>([...GUARD_ERRORS, ...(route.errors ?? [])])
  if (route.method !== 'GET') for (const c of WRITE_ERRORS) codes.add(c)
  if (route.params !== undefined) codes.add('GH_ERR_ADMIN_BAD_REQUEST')
  if (route.dbMode) codes.add('GH_ERR_ADMIN_METHOD_NOT_ALLOWED')
  if (route.identity) codes.add('GH_ERR_ADMIN_NOT_FOUND')
  const byStatus = new Map<number, GatehouseErrorCode[]>()
  for (const code of codes) {
    const status = ERROR_CODES[code].status
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  for (const status of [...byStatus.keys()].sort((a, b) => a - b)) {
    const list = byStatus.get(status)!
    // Shared answers live once in components.responses, named by their codes.
    const name = list.join('.')
    errorResponses[name] ??= {
      description: list.map((c) => `\`${c}\`: ${ERROR_CODES[c].summary}`).join(' '),
      content: {
        'application/json': {
          schema: { allOf: [ref('ErrorEnvelope'), { properties: { code: { enum: list } } }] },
        },
      },
    }
    out[String(status)] = { $ref: `#/components/responses/${name}` }
  }
  return out
}
