/**
 * The admin API's OpenAPI 3.1 document against real gateways: it validates with a maintained OpenAPI
 * parser, sits behind the same guards as every admin route, names exactly the routes of the route
 * table, and every operation it names answers on the real admin API (DB-less for the reads and node
 * routes, DB mode on SQLite for the writes) with something other than "no such route", with ids of
 * entities the test made; a path the document lacks is 404. Bodies its schemas describe are refused
 * with the same 400 as before the table existed.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import SwaggerParser from '@apidevtools/swagger-parser'
import { adminRoutes } from '../../src/admin/routes.ts'
import { admin, dbModeConfig } from '../db-mode/support.ts'
import { registry } from '../harness/config.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

const TOKEN = 'openapi-test-admin-token-0123456789abcdef'
const AUTH = { authorization: `Bearer ${TOKEN}` }
const JWT_SECRET = 'a-jwt-secret-of-more-than-32-bytes-0123456789'
const API_KEY = 'openapi-test-api-key-0001'
const PASSWORD = 'openapi-test-password-0001'

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document, read field by field
type Doc = any

interface Operation {
  readonly method: string
  readonly path: string
  readonly dbMode: boolean
  /** Served while the identity provider is enabled (`x-gatehouse-identity`), else 404 naming the setting. */
  readonly identity: boolean
}

function operations(doc: Doc): Operation[] {
  const out: Operation[] = []
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Doc>>))
    for (const method of METHODS)
      if (item[method])
        out.push({
          method: method.toUpperCase(),
          path,
          dbMode: item[method]['x-gatehouse-db-mode'] === true,
          identity: item[method]['x-gatehouse-identity'] === true,
        })
  return out
}

/** The path with each `{param}` replaced by the id `value` gives for it, knowing the segments before. */
function fill(path: string, value: (param: string, before: string) => string): string {
  return path.replace(/\{([a-z_]+)\}/g, (_, name: string, at: number) =>
    encodeURIComponent(value(name, path.slice(0, at))),
  )
}

/** A matcher for the document's templates, to tell which made-up paths it does not name. */
function templates(doc: Doc): RegExp[] {
  return Object.keys(doc.paths).map(
    (p) => new RegExp(`^${p.replace(/\{[a-z_]+\}/g, '[^/]+').replaceAll('.', '\\.')}$`),
  )
}

async function call(gh: GatehouseProcess, method: string, path: string, body?: unknown) {
  const res = await gh.admin(path, {
    method,
    headers: { ...AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    // A live stream (GET /stats/stream) never ends: its answer is the status and the first event.
    const reader = res.body!.getReader()
    const first = await reader.read()
    await reader.cancel()
    return {
      status: res.status,
      code: undefined,
      message: undefined,
      text: new TextDecoder().decode(first.value),
    }
  }
  const text = await res.text()
  let json: { code?: string; message?: string } = {}
  try {
    json = text === '' ? {} : JSON.parse(text)
  } catch {
    // /metrics is text
  }
  return { status: res.status, code: json.code, message: json.message, text }
}

/**
 * Reads first, then writes, deletes last: plugins and credentials before routes, routes before services
 * and consumers, so no delete takes away the parent a later request names.
 */
function sweepOrder(ops: Operation[]): Operation[] {
  const rank = (o: Operation) => ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'].indexOf(o.method)
  const last = (o: Operation) =>
    ['route', 'service', 'consumer'].indexOf(/\{([a-z_]+)\}$/.exec(o.path)?.[1] ?? '')
  return [...ops].sort((a, b) => rank(a) - rank(b) || last(a) - last(b))
}

describe('the admin API’s OpenAPI document, DB-less', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  let doc: Doc

  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        admin: { token: TOKEN },
        services: [
          {
            name: 'orders',
            url: upstream.url,
            routes: [{ name: 'orders-route', paths: ['/orders'], plugins: [{ name: 'request-id' }] }],
            plugins: [{ name: 'proxy-cache', config: { strategy: 'memory' } }],
          },
          { name: 'pooled', host: 'pool' },
        ],
        consumers: [
          {
            username: 'alice',
            plugins: [{ name: 'request-id', config: { echo_downstream: false } }],
            keyauth_credentials: [{ key: API_KEY }],
            basicauth_credentials: [{ username: 'alice', password: PASSWORD }],
            hmacauth_credentials: [{ username: 'alice-hmac' }],
            jwt_secrets: [{ key: 'alice-jwt', secret: JWT_SECRET }],
            acls: [{ group: 'staff' }],
          },
        ],
        upstreams: [
          {
            name: 'pool',
            healthchecks: { passive: { unhealthy: { http_failures: 1 } } },
            targets: [{ target: `127.0.0.1:${upstream.port}` }],
          },
        ],
      },
    })
    const res = await gh.admin('/openapi.json', { headers: AUTH })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    doc = await res.json()
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  it('is an OpenAPI 3.1 document that @apidevtools/swagger-parser validates', async () => {
    assert.match(doc.openapi, /^3\.1\./)
    await SwaggerParser.validate(structuredClone(doc))
    assert.deepEqual(doc.servers, [
      { url: '/', description: 'The admin listener this document was read from.' },
    ])
    assert.equal(doc.components.securitySchemes.adminToken.scheme, 'bearer')
    assert.ok(doc.components.schemas.ErrorEnvelope.required.includes('code'))
  })

  it('names exactly the routes of the route table', () => {
    const served = adminRoutes(registry).map((r) => `${r.method} ${r.path}`)
    const named = operations(doc).map((o) => `${o.method} ${o.path}`)
    assert.deepEqual(named.toSorted(), served.toSorted())
    assert.equal(new Set(named).size, named.length)
  })

  it('is refused without the admin token and from another site, like every admin route', async () => {
    const anonymous = await gh.admin('/openapi.json')
    assert.equal(anonymous.status, 401)
    assert.equal(((await anonymous.json()) as { code: string }).code, 'GH_ERR_ADMIN_UNAUTHORIZED')
    const crossSite = await gh.admin('/openapi.json', {
      headers: { ...AUTH, origin: 'https://evil.example' },
    })
    assert.equal(crossSite.status, 403)
    assert.equal(((await crossSite.json()) as { code: string }).code, 'GH_ERR_ADMIN_CROSS_SITE')
  })

  it('holds no secret of the configuration and no example values', () => {
    const text = JSON.stringify(doc)
    for (const secret of [TOKEN, JWT_SECRET, API_KEY, PASSWORD]) assert.ok(!text.includes(secret))
    assert.ok(!/"examples?":/.test(text), 'no example values')
  })

  it('every operation answers on a DB-less node: reads and node routes are served, DB-mode writes are 405', async () => {
    const ids = await entityIds(gh)
    const cache = async () => {
      const res = await gh.proxy('/orders/cached')
      await res.arrayBuffer()
      return res.headers.get('x-cache-key')!
    }
    ids.key = await cache()
    assert.match(ids.key, /^[0-9a-f]{64}$/)
    const value = byContext(ids)
    const refused: string[] = []
    for (const op of sweepOrder(operations(doc))) {
      if (op.path.startsWith('/proxy-cache') && op.method === 'DELETE') await cache()
      const path = fill(op.path, value)
      const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : {}
      const answer = await call(gh, op.method, path, body)
      const what = `${op.method} ${path}: ${answer.status} ${answer.code ?? ''} ${answer.message ?? ''}`
      if (op.identity) {
        // This node runs no identity provider: the route is known, and says which setting it needs.
        assert.equal(answer.status, 404, what)
        assert.match(answer.message ?? '', /\(identity\.enabled: false\)/, what)
      } else if (answer.code === 'GH_ERR_ADMIN_NOT_FOUND') refused.push(what)
      else if (op.dbMode) {
        assert.equal(answer.status, 405, what)
        assert.match(answer.message ?? '', /when not using a database$/, what)
      } else assert.notEqual(answer.status, 405, what)
    }
    assert.deepEqual(refused, [], 'operations the document names but the node does not serve')
  })

  it('answers 404 for every path the document does not name', async () => {
    const known = templates(doc)
    const unknown = ['/nope', '/openapi', '/openapi.json/x', '/services/orders/nope', '/consumers/alice/nope']
    for (const op of operations(doc)) unknown.push(`${fill(op.path, () => 'x')}/not-a-route`)
    const checked = unknown.filter((p) => !known.some((t) => t.test(p)))
    assert.ok(checked.length > 50, 'most made-up paths are not in the document')
    for (const path of checked) {
      const answer = await call(gh, 'GET', path)
      assert.equal(answer.status, 404, path)
      assert.equal(answer.code, 'GH_ERR_ADMIN_NOT_FOUND', path)
    }
  })

  it('answers a method a path does not list with 405 and the methods the document lists as Allow', async () => {
    const ids = { ...(await entityIds(gh)), key: '0'.repeat(64) }
    const byPath = new Map<string, Set<string>>()
    for (const op of operations(doc))
      if (!op.dbMode) byPath.set(op.path, (byPath.get(op.path) ?? new Set()).add(op.method))
    for (const [template, listed] of byPath) {
      const path = fill(template, byContext(ids))
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => !listed.has(m))) {
        const res = await gh.admin(path, { method, headers: AUTH })
        const what = `${method} ${path}`
        assert.equal(res.status, 405, what)
        assert.equal(((await res.json()) as { code: string }).code, 'GH_ERR_ADMIN_METHOD_NOT_ALLOWED', what)
        const allow = (res.headers.get('allow') ?? '')
          .split(', ')
          .filter((m) => m !== 'HEAD' && m !== 'OPTIONS')
        assert.deepEqual(allow.toSorted(), [...listed].toSorted(), what)
      }
    }
  })

  it('refuses a body its zod schema refuses with the same 400 as before', async () => {
    const refusals: [string, unknown, string][] = [
      [
        '/revocations',
        { subject: 'u-1', session: 's-1' },
        'name exactly one of subject, session, grant, profile, jwks or key',
      ],
      ['/revocations', { subject: '' }, 'subject: must not be empty'],
      ['/revocations', { subject: 'u-1', ttl: 1.5 }, 'ttl: must be a whole number of seconds'],
      ['/revocations', { subject: 'u-1', extra: true }, 'Unrecognized key: "extra"'],
      ['/signing-keys/some-kid/revoke', { ttl: 'soon' }, 'ttl: must be a whole number of seconds'],
      ['/signing-keys/some-kid/revoke', { reason: 'x', kid: 'y' }, 'Unrecognized key: "kid"'],
    ]
    for (const [path, body, message] of refusals) {
      const answer = await call(gh, 'POST', path, body)
      assert.deepEqual(
        { status: answer.status, code: answer.code, message: answer.message },
        { status: 400, code: 'GH_ERR_ADMIN_BAD_REQUEST', message },
        `${path} ${JSON.stringify(body)}`,
      )
    }
    // The document says so too: the body component is the schema that refused.
    const revocation = doc.components.schemas.RevocationRequest
    assert.equal(revocation.additionalProperties, false)
    assert.equal(revocation.properties.subject.minLength, 1)
    assert.equal(revocation.properties.ttl.type, 'integer')
  })
})

/** The id for a parameter: a plugin of the route or consumer the path is under, else the proxy-cache one. */
function byContext(ids: Record<string, string>): (param: string, before: string) => string {
  return (param, before) => {
    if (param !== 'plugin') return ids[param]!
    if (before.startsWith('/routes/')) return ids.routePlugin!
    if (before.startsWith('/consumers/')) return ids.consumerPlugin!
    return ids.cachePlugin!
  }
}

/** The ids (or names) a path parameter takes, read from the node's own answers. */
async function entityIds(gh: GatehouseProcess): Promise<Record<string, string>> {
  const first = async (path: string, where: (e: Record<string, unknown>) => boolean = () => true) => {
    const res = await gh.admin(path, { headers: AUTH })
    const page = (await res.json()) as { data: Record<string, unknown>[] }
    const hit = page.data.find(where)
    assert.ok(hit, `nothing at ${path}`)
    return hit.id as string
  }
  const keys = (await (await gh.admin('/signing-keys', { headers: AUTH })).json()) as {
    data: { kid: string }[]
  }
  assert.ok(keys.data.length > 0, 'a signing key to name')
  return {
    service: await first('/services'),
    route: await first('/routes'),
    consumer: await first('/consumers'),
    cachePlugin: await first('/plugins', (p) => p.name === 'proxy-cache'),
    routePlugin: await first('/plugins', (p) => p.route !== null),
    consumerPlugin: await first('/plugins', (p) => p.consumer !== null),
    acl: await first('/acls'),
    basic_auth: await first('/basic-auths'),
    hmac_auth: await first('/hmac-auths'),
    jwt: await first('/jwts'),
    key_auth: await first('/key-auths'),
    upstream: await first('/upstreams'),
    target: await first('/upstreams/pool/targets'),
    kid: keys.data[0]!.kid,
  }
}

describe('the admin API’s OpenAPI document, DB mode on SQLite', () => {
  let gh: GatehouseProcess
  let doc: Doc
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-openapi-'))

  before(async () => {
    gh = await startGatehouse({ config: dbModeConfig({ sqlite: { path: join(dir, 'gatehouse.db') } }) })
    doc = await (await gh.admin('/openapi.json')).json()
  })
  after(async () => {
    await gh?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('is the same document as on a DB-less node: the table does not depend on the mode', () => {
    const named = operations(doc).map((o) => `${o.method} ${o.path}`)
    assert.deepEqual(
      named.toSorted(),
      adminRoutes(registry)
        .map((r) => `${r.method} ${r.path}`)
        .toSorted(),
    )
  })

  it('every DB-mode write it names is served, with the entities the test made', async () => {
    const made = async (path: string, body: object) => {
      const answer = await admin(gh, 'POST', path, body)
      assert.equal(answer.status, 201, `${path}: ${JSON.stringify(answer.body)}`)
      return answer.body.id as string
    }
    const ids: Record<string, string> = {
      service: await made('/services', { name: 'orders', url: 'http://127.0.0.1:9' }),
    }
    ids.route = await made('/services/orders/routes', { name: 'orders-route', paths: ['/orders'] })
    ids.consumer = await made('/consumers', { username: 'alice' })
    ids.servicePlugin = await made('/services/orders/plugins', { name: 'request-id' })
    ids.routePlugin = await made('/routes/orders-route/plugins', { name: 'request-id' })
    ids.consumerPlugin = await made('/consumers/alice/plugins', { name: 'request-id' })
    ids.key_auth = await made('/consumers/alice/key-auth', {})
    ids.basic_auth = await made('/consumers/alice/basic-auth', { username: 'alice', password: PASSWORD })
    ids.hmac_auth = await made('/consumers/alice/hmac-auth', { username: 'alice-hmac' })
    ids.jwt = await made('/consumers/alice/jwt', {})
    ids.acl = await made('/consumers/alice/acls', { group: 'staff' })
    const value = (param: string, before: string) => {
      if (param !== 'plugin') return ids[param]!
      if (before.startsWith('/routes/')) return ids.routePlugin!
      if (before.startsWith('/consumers/')) return ids.consumerPlugin!
      return ids.servicePlugin!
    }
    const writes = operations(doc).filter((o) => o.dbMode)
    assert.ok(writes.length > 40)
    const refused: string[] = []
    for (const op of sweepOrder(writes)) {
      const path = fill(op.path, value)
      const answer = await admin(gh, op.method, path, op.method === 'DELETE' ? undefined : {})
      const what = `${op.method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`
      if (answer.body?.code === 'GH_ERR_ADMIN_NOT_FOUND') refused.push(what)
      else assert.notEqual(answer.status, 405, what)
    }
    assert.deepEqual(refused, [], 'writes the document names but the node does not serve')
  })

  it('refuses an entity its schema refuses with the loader’s 400, as before', async () => {
    const answer = await admin(gh, 'POST', '/services', { name: 'bad', url: 'ftp://x' })
    assert.equal(answer.status, 400)
    assert.equal(answer.body.code, 'GH_ERR_CONFIG_INVALID')
    assert.equal(
      answer.body.message,
      'schema violation (url: expected an http://, https://, ws://, wss://, grpc:// or grpcs:// URL)',
    )
    assert.deepEqual(answer.body.fields, {
      url: 'expected an http://, https://, ws://, wss://, grpc:// or grpcs:// URL',
    })
    const nested = await admin(gh, 'POST', '/services', { name: 'nested', url: 'http://x', routes: [] })
    assert.equal(nested.status, 400)
    assert.equal(
      nested.body.message,
      'schema violation (routes: nested entities are written through their own endpoints)',
    )
    assert.equal(
      doc.components.schemas.ServiceWrite.properties.routes,
      undefined,
      'nor does the document offer it',
    )
  })
})
