/**
 * The read-only entity endpoints of the admin API, against a real gateway: Kong's shapes, lookups by id
 * and by name, nested lists, pagination, tag filters, and 405 for every write (this node is DB-less).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { Pki } from '../tls/support.ts'

interface Page {
  data: Record<string, unknown>[]
  next: string | null
  offset?: string
}
interface Envelope {
  message: string
  code: string
  error: string
  statusCode: number
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const PAGED = Array.from({ length: 7 }, (_, i) => `paged-${i}`)

const config = {
  _format_version: '3.0',
  services: [
    {
      name: 'orders',
      url: 'http://127.0.0.1:9/v1',
      tags: ['shop', 'core'],
      routes: [{ name: 'orders-list', paths: ['/orders'], tags: ['shop'] }],
      plugins: [{ name: 'request-id' }],
    },
    {
      name: 'users',
      host: 'users.internal',
      port: 8080,
      tags: ['shop'],
      routes: [
        {
          name: 'users-route',
          paths: ['/users'],
          methods: ['GET'],
          plugins: [{ name: 'request-id', config: { header_name: 'X-Trace-ID' } }],
        },
      ],
    },
    ...PAGED.map((name, i) => ({
      name,
      url: `http://paged-${i}.internal`,
      tags: i % 2 === 0 ? ['paged', 'even'] : ['paged'],
    })),
  ],
  routes: [{ name: 'top-level', paths: ['/top'], service: 'users' }],
  consumers: [
    { username: 'alice', custom_id: 'u-1', tags: ['staff'] },
    // Listed first on purpose: its custom_id equals a later consumer's username and must not shadow it.
    { username: 'carol', custom_id: 'bob' },
    { username: 'bob' },
  ],
  plugins: [{ name: 'request-id', consumer: 'alice', config: { echo_downstream: false } }],
}

describe('the admin entity endpoints in DB-less mode', () => {
  let gh: GatehouseProcess
  const get = async <T = Page>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> => {
    const res = await gh.admin(path, init)
    const text = await res.text()
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T }
  }
  const list = async (path: string) => {
    const { status, body } = await get(path)
    assert.equal(status, 200, JSON.stringify(body))
    return body
  }
  const byName = async (type: string, name: string) => {
    const { data } = await list(`/${type}`)
    const found = data.find((e) => e.name === name || e.username === name)
    assert.ok(found, `${type} ${name} is listed`)
    return found
  }
  const assertNotFound = async (path: string) => {
    const { status, body } = await get<Envelope>(path)
    assert.equal(status, 404, path)
    assert.deepEqual(body, {
      message: 'Not found',
      code: 'GH_ERR_ADMIN_NOT_FOUND',
      error: 'Not Found',
      statusCode: 404,
    })
  }

  before(async () => {
    gh = await startGatehouse({ config })
  })
  after(async () => {
    await gh.stop()
  })

  it("lists services in Kong's shape, with defaults filled in", async () => {
    const res = await gh.admin('/services')
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    const page = (await res.json()) as Page
    assert.equal(page.next, null)
    assert.equal(page.data.length, 2 + PAGED.length)
    const orders = page.data.find((s) => s.name === 'orders')!
    assert.match(String(orders.id), UUID)
    const { id: _id, created_at, updated_at, ...rest } = orders
    assert.equal(typeof created_at, 'number')
    assert.equal(updated_at, created_at)
    assert.ok(Math.abs((created_at as number) - Date.now() / 1000) < 60, 'created_at is in seconds')
    assert.deepEqual(rest, {
      name: 'orders',
      protocol: 'http',
      host: '127.0.0.1',
      port: 9,
      path: '/v1',
      retries: 5,
      connect_timeout: 60_000,
      write_timeout: 60_000,
      read_timeout: 60_000,
      enabled: true,
      tls_verify: true,
      tls_verify_depth: null,
      ca_certificates: null,
      client_certificate: null,
      websocket_upgrade: false,
      tags: ['shop', 'core'],
    })
    const users = page.data.find((s) => s.name === 'users')!
    assert.equal(users.host, 'users.internal')
    assert.equal(users.port, 8080)
    assert.equal(users.path, null)
    assert.equal(users.protocol, 'http')
  })

  it('lists routes with their service as {id} and Kong route defaults', async () => {
    const orders = await byName('services', 'orders')
    const users = await byName('services', 'users')
    const { data } = await list('/routes')
    assert.deepEqual(data.map((r) => r.name).sort(), ['orders-list', 'top-level', 'users-route'])
    const route = data.find((r) => r.name === 'orders-list')!
    assert.match(String(route.id), UUID)
    assert.deepEqual(route.service, { id: orders.id })
    assert.deepEqual(data.find((r) => r.name === 'top-level')!.service, { id: users.id })
    for (const [field, value] of Object.entries({
      paths: ['/orders'],
      methods: null,
      hosts: null,
      headers: null,
      protocols: ['http', 'https'],
      strip_path: true,
      preserve_host: false,
      regex_priority: 0,
      path_handling: 'v0',
      https_redirect_status_code: 426,
      request_buffering: true,
      response_buffering: true,
      tags: ['shop'],
    })) {
      assert.deepEqual(route[field], value, `route.${field}`)
    }
    assert.deepEqual(data.find((r) => r.name === 'users-route')!.methods, ['GET'])
  })

  it("lists plugins with their config's defaults applied and scopes as {id} or null", async () => {
    const orders = await byName('services', 'orders')
    const route = (await list('/routes')).data.find((r) => r.name === 'users-route')!
    const alice = await byName('consumers', 'alice')
    const { data } = await list('/plugins')
    assert.equal(data.length, 3)
    for (const p of data) {
      assert.equal(p.name, 'request-id')
      assert.match(String(p.id), UUID)
      assert.equal(p.enabled, true)
      assert.equal(p.instance_name, null)
      assert.deepEqual(p.protocols, ['http', 'https'])
    }
    const scoped = (kind: string, id: unknown) =>
      data.find((p) => (p[kind] as { id: string } | null)?.id === id)!
    const onService = scoped('service', orders.id)
    assert.deepEqual(onService.config, { header_name: 'X-Request-ID', echo_downstream: true })
    assert.equal(onService.route, null)
    assert.equal(onService.consumer, null)
    const onRoute = scoped('route', route.id)
    assert.deepEqual(onRoute.config, { header_name: 'X-Trace-ID', echo_downstream: true })
    assert.equal(onRoute.service, null)
    const onConsumer = scoped('consumer', alice.id)
    assert.deepEqual(onConsumer.config, { header_name: 'X-Request-ID', echo_downstream: false })
    assert.equal(onConsumer.service, null)
    assert.equal(onConsumer.route, null)
  })

  it('lists consumers with username, custom_id and tags', async () => {
    const { data } = await list('/consumers')
    assert.deepEqual(
      data.map(({ username, custom_id, tags }) => ({ username, custom_id, tags })),
      [
        { username: 'alice', custom_id: 'u-1', tags: ['staff'] },
        { username: 'carol', custom_id: 'bob', tags: null },
        { username: 'bob', custom_id: null, tags: null },
      ],
    )
    for (const c of data) assert.match(String(c.id), UUID)
  })

  it('gets one entity by id and by its name, the same object as in the list', async () => {
    for (const [type, key] of [
      ['services', 'orders'],
      ['routes', 'users-route'],
      ['consumers', 'alice'],
    ] as const) {
      const listed =
        type === 'routes'
          ? (await list('/routes')).data.find((r) => r.name === key)!
          : await byName(type, key)
      assert.deepEqual((await get(`/${type}/${key}`)).body, listed, `/${type}/${key}`)
      assert.deepEqual((await get(`/${type}/${listed.id}`)).body, listed, `/${type}/{id}`)
      assert.deepEqual(
        (await get(`/${type}/${String(listed.id).toUpperCase()}`)).body,
        listed,
        'upper-case id',
      )
    }
    const plugin = (await list('/plugins')).data[0]!
    assert.deepEqual((await get(`/plugins/${plugin.id}`)).body, plugin)
  })

  it("finds a consumer by username before another consumer's equal custom_id", async () => {
    const { body } = await get<Record<string, unknown>>('/consumers/bob')
    assert.equal(body.username, 'bob')
    const { body: byCustomId } = await get<Record<string, unknown>>('/consumers/u-1')
    assert.equal(byCustomId.username, 'alice')
  })

  it('answers 404 with the JSON envelope for unknown entities and unknown nested paths', async () => {
    await assertNotFound('/services/nope')
    await assertNotFound('/services/00000000-0000-4000-8000-000000000000')
    await assertNotFound('/routes/nope')
    await assertNotFound('/consumers/nobody')
    await assertNotFound('/plugins/request-id') // a plugin is found by id or instance_name, not its name
    await assertNotFound('/services/nope/routes')
    await assertNotFound('/routes/nope/service')
    await assertNotFound('/consumers/nobody/plugins')
    await assertNotFound('/services/orders/consumers')
    await assertNotFound('/no-such-resource')
  })

  it('lists the routes and plugins of a service, the service and plugins of a route, the plugins of a consumer', async () => {
    const orders = await byName('services', 'orders')
    const users = await byName('services', 'users')
    const routes = (await list('/routes')).data
    const plugins = (await list('/plugins')).data
    const usersRoute = routes.find((r) => r.name === 'users-route')!
    const alice = await byName('consumers', 'alice')

    const usersRoutes = await list('/services/users/routes')
    assert.deepEqual(usersRoutes.data.map((r) => r.name).sort(), ['top-level', 'users-route'])
    assert.equal(usersRoutes.next, null)
    assert.deepEqual((await list(`/services/${orders.id}/routes`)).data, [
      routes.find((r) => r.name === 'orders-list'),
    ])
    assert.deepEqual(
      (await list('/services/orders/plugins')).data,
      plugins.filter((p) => (p.service as { id: string } | null)?.id === orders.id),
    )
    assert.deepEqual((await list('/services/users/plugins')).data, [])
    assert.deepEqual((await get('/routes/users-route/service')).body, users)
    assert.deepEqual((await get(`/routes/${usersRoute.id}/service`)).body, users)
    assert.deepEqual(
      (await list('/routes/users-route/plugins')).data,
      plugins.filter((p) => (p.route as { id: string } | null)?.id === usersRoute.id),
    )
    const alicePlugins = (await list('/consumers/alice/plugins')).data
    assert.equal(alicePlugins.length, 1)
    assert.deepEqual(alicePlugins[0]!.consumer, { id: alice.id })
    assert.deepEqual((await list('/consumers/bob/plugins')).data, [])
  })

  it('pages with size and offset; following next yields every entity exactly once', async () => {
    const all = (await list('/services')).data.map((s) => s.name)
    const seen: unknown[] = []
    let path: string | null = '/services?size=3'
    let pages = 0
    while (path !== null) {
      const page: Page = await list(path)
      assert.ok(page.data.length <= 3)
      if (page.next !== null) {
        assert.equal(page.data.length, 3)
        assert.equal(typeof page.offset, 'string')
        assert.match(page.next, /^\/services\?/)
      }
      seen.push(...page.data.map((s) => s.name))
      path = page.next
      pages++
    }
    assert.equal(pages, Math.ceil(all.length / 3))
    assert.deepEqual(seen, all)
    assert.equal(new Set(seen).size, seen.length)

    const nested = await list('/services/users/routes?size=1')
    assert.equal(nested.data.length, 1)
    assert.match(nested.next ?? '', /^\/services\/users\/routes\?/)
    const second = await list(nested.next!)
    assert.equal(second.next, null)
    assert.notDeepEqual(second.data, nested.data)
  })

  it('refuses a size outside 1..1000 and an offset it did not issue with 400', async () => {
    for (const query of ['size=0', 'size=1001', 'size=abc', 'size=1.5', 'offset=!!!', 'offset=bm9wZQ']) {
      const { status, body } = await get<Envelope>(`/services?${query}`)
      assert.equal(status, 400, query)
      assert.equal(body.code, 'GH_ERR_ADMIN_BAD_REQUEST', query)
      assert.equal(body.statusCode, 400)
    }
    assert.equal(
      (await get<Envelope>('/services?size=0')).body.message,
      'size must be an integer between 1 and 1000',
    )
    assert.equal((await get('/services?size=1000')).status, 200)
    assert.equal((await get('/services?size=1')).status, 200)
  })

  it("filters by tags: 'a,b' needs all of them, 'a/b' any of them", async () => {
    const names = async (query: string) => (await list(`/services?${query}`)).data.map((s) => s.name)
    assert.deepEqual(await names('tags=shop,core'), ['orders'])
    assert.deepEqual(await names('tags=shop'), ['orders', 'users'])
    assert.deepEqual(await names('tags=core/even'), ['orders', 'paged-0', 'paged-2', 'paged-4', 'paged-6'])
    assert.deepEqual(await names('tags=nothing'), [])
    assert.deepEqual(
      (await list('/routes?tags=shop')).data.map((r) => r.name),
      ['orders-list'],
    )
    assert.deepEqual(
      (await list('/consumers?tags=staff')).data.map((c) => c.username),
      ['alice'],
    )
    const mixed = await get<Envelope>('/services?tags=a,b/c')
    assert.equal(mixed.status, 400)
    assert.equal(mixed.body.code, 'GH_ERR_ADMIN_BAD_REQUEST')
  })

  it('keeps the tag filter in the next link, so paging a filtered list yields exactly its entities', async () => {
    const seen: unknown[] = []
    let path: string | null = '/services?tags=paged&size=2'
    while (path !== null) {
      const page: Page = await list(path)
      seen.push(...page.data.map((s) => s.name))
      path = page.next
    }
    assert.deepEqual(seen, PAGED)
  })

  it("answers every write with 405 and Kong's DB-less message", async () => {
    const verbs = { POST: 'create', PUT: 'create or update', PATCH: 'update', DELETE: 'remove' }
    const paths: [string, string][] = [
      ['/services', 'services'],
      ['/services/orders', 'services'],
      ['/routes', 'routes'],
      ['/routes/users-route', 'routes'],
      ['/consumers', 'consumers'],
      ['/consumers/alice', 'consumers'],
      ['/plugins', 'plugins'],
      ['/plugins/enabled', 'plugins'],
      ['/services/orders/routes', 'routes'],
      ['/services/orders/plugins', 'plugins'],
      ['/routes/users-route/service', 'services'],
      ['/routes/users-route/plugins', 'plugins'],
      ['/consumers/alice/plugins', 'plugins'],
    ]
    for (const [path, type] of paths) {
      for (const [method, verb] of Object.entries(verbs)) {
        const res = await gh.admin(path, {
          method,
          headers: { 'content-type': 'application/json' },
          ...(method === 'DELETE' ? {} : { body: JSON.stringify({ name: 'x' }) }),
        })
        const body = (await res.json()) as Envelope
        assert.equal(res.status, 405, `${method} ${path}`)
        assert.equal(body.message, `cannot ${verb} '${type}' entities when not using a database`)
        assert.equal(body.code, 'GH_ERR_ADMIN_METHOD_NOT_ALLOWED')
        assert.equal(res.headers.get('allow'), 'GET, HEAD, OPTIONS')
      }
    }
    assert.equal((await list('/services')).data.length, 2 + PAGED.length, 'nothing changed')
  })

  it('lists the plugins this node can run at /plugins/enabled', async () => {
    const { status, body } = await get<{ enabled_plugins: string[] }>('/plugins/enabled')
    assert.equal(status, 200)
    assert.ok(body.enabled_plugins.includes('request-id'))
    assert.deepEqual(body.enabled_plugins, [...body.enabled_plugins].sort())
  })

  it('answers a malformed path escape with 400, not a server error', async () => {
    const { status, body } = await get<Envelope>('/services/%E0%A4%A')
    assert.equal(status, 400)
    assert.equal(body.code, 'GH_ERR_ADMIN_BAD_REQUEST')
  })

  it('answers a request target that is not a URL with 400 and keeps serving', async () => {
    const { hostname, port } = new URL(gh.adminUrl)
    const head = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write('GET http://[bad HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
      )
      let received = ''
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        received += chunk
      })
      socket.on('end', () => resolve(received.split('\r\n')[0] ?? ''))
      socket.on('error', reject)
    })
    assert.equal(head, 'HTTP/1.1 400 Bad Request')
    assert.equal((await gh.admin('/status')).status, 200)
  })
})

describe('secrets in plugin configs', () => {
  let gh: GatehouseProcess
  before(async () => {
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [{ name: 'web', url: 'http://127.0.0.1:9', routes: [{ name: 'web', paths: ['/'] }] }],
        plugins: [
          {
            name: 'session',
            config: {
              issuer: 'http://127.0.0.1:9/auth',
              client_id: 'shop-web',
              client_secret: '{vault://env/shop-web-secret}',
              secret: 'a-cookie-key-written-in-the-file-0123456789',
              optional: true,
            },
          },
        ],
      },
      env: { SHOP_WEB_SECRET: 'the-client-secret-from-the-environment' },
    })
  })
  after(async () => {
    await gh?.stop()
  })

  it('shows a vault-read value as its reference and a secret written in the file as [redacted]', async () => {
    const list = (await (await gh.admin('/plugins')).json()) as Page
    const config = list.data[0]!.config as Record<string, unknown>
    assert.equal(config.client_secret, '{vault://env/shop-web-secret}')
    assert.equal(config.secret, '[redacted]')
    assert.equal(config.client_id, 'shop-web')
    const one = await (await gh.admin(`/plugins/${list.data[0]!.id as string}`)).text()
    const nested = await (await gh.admin('/services/web/plugins')).text()
    for (const text of [JSON.stringify(list), one, nested]) {
      assert.ok(!text.includes('the-client-secret-from-the-environment'))
      assert.ok(!text.includes('a-cookie-key-written-in-the-file'))
    }
  })
})

describe('the private key of a service’s client certificate', () => {
  let gh: GatehouseProcess
  const pki = new Pki()
  const client = pki.issue('client', { subject: '/CN=gatehouse-client' })
  before(async () => {
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'pem',
            url: 'https://127.0.0.1:9',
            client_certificate: { cert: client.cert, key: readFileSync(client.key, 'utf8') },
            routes: [{ name: 'pem', paths: ['/pem'] }],
          },
          {
            name: 'file',
            url: 'https://127.0.0.1:9',
            client_certificate: { cert: client.cert, key: client.key },
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    pki.remove()
  })

  it('is shown as [redacted] when written as PEM, as its path when it is a file, and never as PEM', async () => {
    const list = (await (await gh.admin('/services')).json()) as Page
    const keyOf = (name: string) =>
      (list.data.find((s) => s.name === name)!.client_certificate as { key: string }).key
    assert.equal(keyOf('pem'), '[redacted]')
    assert.equal(keyOf('file'), client.key)
    for (const path of ['/services', '/services/pem', '/routes/pem/service']) {
      const text = await (await gh.admin(path)).text()
      assert.ok(!text.includes('PRIVATE KEY'), `${path} shows a private key`)
    }
  })
})
