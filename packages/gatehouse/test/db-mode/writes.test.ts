/**
 * Admin API writes in DB mode on one node (SQLite), against a real gateway: Kong's verbs and shapes,
 * writes taking effect on the proxy, refusals with the declarative loader's own messages (and nothing
 * written), Kong's 409 and foreign-key answers, secrets stored as the loader keeps them, concurrent
 * writes all kept, and the entities still there after a restart.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { SqliteStore } from '../../src/storage/sqlite.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { admin, dbModeConfig, fileIssues } from './support.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

describe('DB mode on one node (SQLite)', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-db-mode-'))
  const database = join(dir, 'gatehouse.db')
  const config = dbModeConfig({ sqlite: { path: database } })

  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({ config })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  /** The configuration the node runs: its hash and the entities version it was loaded from. */
  const running = async () =>
    (await admin(gh, 'GET', '/config')).body as { config_hash: string; source: string }

  it('keeps a gRPC service a gRPC service: shown, patched and stored with protocol grpc/grpcs', async () => {
    const created = await admin(gh, 'POST', '/services', { name: 'greeter', url: 'grpc://127.0.0.1:50051' })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    assert.equal(created.body.protocol, 'grpc')
    assert.equal('grpc' in created.body, false, "the model's own flag is not shown")
    // What a read shows can be sent back as it is (PATCH merges over the stored document).
    const patched = await admin(gh, 'PATCH', '/services/greeter', { tags: ['rpc'] })
    assert.equal(patched.status, 200, JSON.stringify(patched.body))
    assert.equal(patched.body.protocol, 'grpc')
    const tls = await admin(gh, 'PATCH', '/services/greeter', { protocol: 'grpcs', port: 50052 })
    assert.equal(tls.status, 200, JSON.stringify(tls.body))
    assert.equal((await admin(gh, 'GET', '/services/greeter')).body.protocol, 'grpcs')
    assert.equal((await admin(gh, 'DELETE', '/services/greeter')).status, 204)
  })

  it('creates a service and a route that answers on the proxy, reads them back in Kong shape, updates and deletes them', async () => {
    const service = await admin(gh, 'POST', '/services', { name: 'orders', url: `${upstream.url}/v1` })
    assert.equal(service.status, 201)
    assert.match(service.body.id, UUID)
    const { name, protocol, host, port, path, retries, enabled, created_at, updated_at } = service.body
    assert.deepEqual(
      { name, protocol, host, port, path, retries, enabled, same: created_at === updated_at },
      {
        name: 'orders',
        protocol: 'http',
        host: '127.0.0.1',
        port: upstream.port,
        path: '/v1',
        retries: 5,
        enabled: true,
        same: true,
      },
    )
    assert.equal(service.body.tags, null, 'absent values are null, as Kong shows them')
    const route = await admin(gh, 'POST', '/services/orders/routes', { name: 'orders', paths: ['/orders'] })
    assert.equal(route.status, 201)
    assert.deepEqual(route.body.service, { id: service.body.id })
    const proxied = await gh.proxy('/orders/42')
    assert.equal(proxied.status, 200)
    assert.equal(((await proxied.json()) as { url: string }).url, '/v1/42')
    assert.deepEqual((await admin(gh, 'GET', `/routes/${route.body.id}`)).body, route.body)
    assert.deepEqual((await admin(gh, 'GET', '/services/orders/routes')).body.data, [route.body])

    const patched = await admin(gh, 'PATCH', '/routes/orders', { paths: ['/shop/orders'], tags: ['shop'] })
    assert.equal(patched.status, 200)
    assert.deepEqual(
      { ...patched.body, updated_at: 0 },
      { ...route.body, paths: ['/shop/orders'], tags: ['shop'], updated_at: 0 },
    )
    assert.equal((await gh.proxy('/shop/orders')).status, 200)
    assert.equal((await gh.proxy('/orders')).status, 404)

    // PUT replaces: the url without a path leaves none; the id and created_at stay.
    const put = await admin(gh, 'PUT', '/services/orders', { url: upstream.url })
    assert.equal(put.status, 200)
    assert.equal(put.body.id, service.body.id)
    assert.equal(put.body.path, null)
    assert.equal(put.body.created_at, service.body.created_at)
    assert.equal(((await (await gh.proxy('/shop/orders/7')).json()) as { url: string }).url, '/7')

    const refused = await admin(gh, 'DELETE', '/services/orders')
    assert.equal(refused.status, 400)
    assert.equal(refused.body.code, 'GH_ERR_ADMIN_REFERENCED')
    assert.equal(refused.body.message, "an existing 'routes' entity references this 'services' entity")
    assert.deepEqual(refused.body.fields, { '@referenced_by': 'routes' })
    assert.equal((await admin(gh, 'GET', '/services/orders')).status, 200)

    assert.equal((await admin(gh, 'DELETE', '/routes/orders')).status, 204)
    assert.equal((await gh.proxy('/shop/orders')).status, 404)
    assert.equal((await admin(gh, 'DELETE', '/services/orders')).status, 204)
    assert.equal((await admin(gh, 'GET', '/services/orders')).status, 404)
    assert.equal((await admin(gh, 'DELETE', '/services/orders')).status, 204, 'Kong: deleting nothing is 204')
    assert.equal((await admin(gh, 'PATCH', '/services/orders', { retries: 1 })).status, 404)
  })

  it("refuses an invalid write with the declarative loader's own messages, each at its path in the entity, and writes nothing", async () => {
    assert.equal((await admin(gh, 'POST', '/services', { name: 'billing', url: upstream.url })).status, 201)
    const before = await running()
    const cases: { path: string; body: Record<string, unknown>; file: object; at: string }[] = [
      {
        path: '/services',
        body: { name: 'bad', url: 'ftp://files.internal', retries: -1 },
        file: { services: [{ name: 'bad', url: 'ftp://files.internal', retries: -1 }] },
        at: 'services[0]',
      },
      {
        path: '/services/billing/routes',
        body: { name: 'r', paths: ['/ok', '~(unclosed'], methods: ['get'] },
        file: {
          services: [
            {
              name: 'billing',
              url: upstream.url,
              routes: [{ name: 'r', paths: ['/ok', '~(unclosed'], methods: ['get'] }],
            },
          ],
        },
        at: 'services[0].routes[0]',
      },
      {
        path: '/plugins',
        body: { name: 'rate-limiting', service: 'billing', config: { minute: 'many', secnd: 1 } },
        file: {
          services: [{ name: 'billing', url: upstream.url }],
          plugins: [{ name: 'rate-limiting', service: 'billing', config: { minute: 'many', secnd: 1 } }],
        },
        at: 'plugins[0]',
      },
      {
        path: '/routes',
        body: { name: 'lost', paths: ['/lost'], service: 'nowhere' },
        file: { routes: [{ name: 'lost', paths: ['/lost'], service: 'nowhere' }] },
        at: 'routes[0]',
      },
      {
        path: '/consumers',
        body: { tags: ['a b'] },
        file: { consumers: [{ tags: ['a b'] }] },
        at: 'consumers[0]',
      },
    ]
    for (const c of cases) {
      const expected = fileIssues({ _format_version: '3.0', ...c.file }).map((i) => ({
        path: i.path.slice(c.at.length).replace(/^\./, ''),
        message: i.message,
      }))
      assert.ok(expected.length > 0, c.path)
      const answer = await admin(gh, 'POST', c.path, c.body)
      assert.equal(answer.status, 400, c.path)
      assert.equal(answer.body.code, 'GH_ERR_CONFIG_INVALID')
      assert.equal(answer.body.name, 'schema violation')
      assert.deepEqual(answer.body.flattened_errors, expected, c.path)
      const parts = expected.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`))
      assert.equal(
        answer.body.message,
        parts.length === 1
          ? `schema violation (${parts[0]})`
          : `${parts.length} schema violations (${parts.join('; ')})`,
      )
    }
    assert.deepEqual(await running(), before, 'nothing was written')
  })

  it('answers 409 for a taken name, username or API key, and for a second instance of a plugin in one scope', async () => {
    const taken = await admin(gh, 'POST', '/services', { name: 'billing', url: upstream.url })
    assert.equal(taken.status, 409)
    assert.equal(taken.body.code, 'GH_ERR_ADMIN_CONFLICT')
    assert.equal(taken.body.message, `UNIQUE violation detected on '{name="billing"}'`)
    assert.equal((await admin(gh, 'PUT', '/consumers/carol', {})).status, 200)
    assert.equal((await admin(gh, 'POST', '/consumers', { username: 'carol' })).status, 409)
    assert.equal(
      (await admin(gh, 'POST', '/consumers/carol/key-auth', { key: 'carol-key-0001' })).status,
      201,
    )
    const key = await admin(gh, 'POST', '/key-auths', {
      key: 'carol-key-0001',
      consumer: { username: 'carol' },
    })
    assert.equal(key.status, 409)
    assert.doesNotMatch(JSON.stringify(key.body), /carol-key-0001/, 'an API key is never repeated back')
    assert.equal((await admin(gh, 'POST', '/services/billing/plugins', { name: 'cors' })).status, 201)
    const twin = await admin(gh, 'POST', '/plugins', { name: 'cors', service: { name: 'billing' } })
    assert.equal(twin.status, 409)
    assert.match(
      twin.body.message,
      /^UNIQUE violation detected on '\{consumer=null,name="cors",route=null,service=\{id="/,
    )
  })

  it('stores a basic-auth password only as its argon2id hash and never shows it; a key-auth key opens the route', async () => {
    assert.equal(
      (await admin(gh, 'POST', '/services/billing/routes', { name: 'bills', paths: ['/bills'] })).status,
      201,
    )
    assert.equal((await admin(gh, 'POST', '/routes/bills/plugins', { name: 'key-auth' })).status, 201)
    assert.equal((await gh.proxy('/bills')).status, 401)
    assert.equal((await admin(gh, 'POST', '/consumers', { username: 'alice' })).status, 201)
    const basic = await admin(gh, 'POST', '/consumers/alice/basic-auth', {
      username: 'alice',
      password: 'correct horse',
    })
    assert.equal(basic.status, 201)
    assert.equal(basic.body.password, undefined)
    assert.equal((await admin(gh, 'GET', '/basic-auths/alice')).body.password, undefined)
    const key = await admin(gh, 'POST', '/consumers/alice/key-auth', {})
    assert.equal(key.status, 201)
    assert.match(key.body.key, /^[0-9a-f]{32}$/, 'a generated key is shown, as Kong shows it')
    assert.equal((await gh.proxy('/bills', { headers: { apikey: key.body.key } })).status, 200)

    const store = await SqliteStore.open(database)
    try {
      const stored = (await store.entities.snapshot()).entities
      const credential = stored.find((e) => e.type === 'basicauth_credentials')!
      assert.match(String(credential.document.password), /^\$argon2id\$/)
      assert.equal(
        stored.find((e) => e.type === 'keyauth_credentials' && e.id === key.body.id)?.document.key,
        key.body.key,
      )
    } finally {
      await store.close()
    }

    // Deleting a consumer deletes its credentials: the key no longer opens the route.
    assert.equal((await admin(gh, 'DELETE', '/consumers/alice')).status, 204)
    assert.deepEqual(
      (await admin(gh, 'GET', '/key-auths')).body.data.map((k: { key: string }) => k.key),
      ['carol-key-0001'],
    )
    assert.equal((await admin(gh, 'GET', '/basic-auths')).body.data.length, 0)
    assert.equal((await gh.proxy('/bills', { headers: { apikey: key.body.key } })).status, 401)
  })

  it('merges a PATCH into a plugin config and unsets a field with null', async () => {
    const plugin = await admin(gh, 'POST', '/routes/bills/plugins', {
      name: 'rate-limiting',
      instance_name: 'bills-limit',
      config: { minute: 100, hour: 1000 },
    })
    assert.equal(plugin.status, 201)
    const patched = await admin(gh, 'PATCH', '/plugins/bills-limit', { config: { minute: 50, hour: null } })
    assert.equal(patched.status, 200)
    assert.equal(patched.body.config.minute, 50)
    assert.equal(patched.body.config.hour ?? null, null)
    assert.equal(patched.body.id, plugin.body.id)
  })

  it('keeps every one of many concurrent writes', async () => {
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) => admin(gh, 'POST', '/consumers', { username: `crowd-${i}` })),
    )
    assert.deepEqual(
      answers.map((a) => a.status),
      answers.map(() => 201),
    )
    const names = (await admin(gh, 'GET', '/consumers?size=1000')).body.data.map(
      (c: { username: string }) => c.username,
    )
    for (let i = 0; i < 16; i++) assert.ok(names.includes(`crowd-${i}`), `crowd-${i}`)
  })

  it('refuses POST /config, which would replace one node’s entities only', async () => {
    const res = await admin(gh, 'POST', '/config', { _format_version: '3.0' })
    assert.equal(res.status, 405)
    assert.equal(res.body.code, 'GH_ERR_ADMIN_METHOD_NOT_ALLOWED')
  })

  it('serves the same entities after a restart', async () => {
    const services = (await admin(gh, 'GET', '/services')).body.data
    await gh.stop()
    gh = await startGatehouse({ config })
    assert.deepEqual((await admin(gh, 'GET', '/services')).body.data, services)
    assert.equal((await gh.proxy('/bills')).status, 401)
  })
})
