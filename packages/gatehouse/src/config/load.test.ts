import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { load, registry, withService } from '../../test/harness/config.ts'
import { loadConfigObject } from './load.ts'
import type { GatewayConfig } from './model.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const KONG_FILE = `
_format_version: "3.0"
_transform: true
_comment: a Kong 3.x DB-less file
services:
- name: orders
  url: http://orders.internal:8080/v1
  routes:
  - name: orders-api
    paths: [/orders]
    methods: [GET, POST]
    plugins:
    - name: request-id
      config: { header_name: X-Trace-ID }
  plugins:
  - name: request-id
- name: users
  host: Users.Internal
routes:
- name: users-api
  service: users
  paths: [/users]
  hosts: [API.Example.com]
consumers:
- username: alice
  custom_id: u-1
  plugins:
  - name: request-id
plugins:
- name: request-id
  route: users-api
- name: request-id
  service: { name: users }
  consumer: alice
- name: request-id
`

describe('loading a valid Kong declarative file', () => {
  it('fills in the references of nested and top-level entities', () => {
    const config = load(KONG_FILE)
    const [orders, users] = config.services
    assert.equal(orders?.name, 'orders')
    assert.equal(users?.name, 'users')
    assert.equal(users.host, 'users.internal')

    const route = (name: string) => config.routes.find((r) => r.name === name)!
    assert.deepEqual(route('orders-api').service, { id: orders.id })
    assert.deepEqual(route('users-api').service, { id: users.id })
    assert.deepEqual(route('users-api').hosts, ['api.example.com'])

    const alice = config.consumers[0]!
    assert.equal(alice.username, 'alice')
    assert.equal(alice.custom_id, 'u-1')

    const scopes = config.plugins.map((p) => ({
      service: p.service?.id ?? null,
      route: p.route?.id ?? null,
      consumer: p.consumer?.id ?? null,
    }))
    assert.deepEqual(scopes, [
      { service: orders.id, route: null, consumer: null },
      { service: null, route: route('orders-api').id, consumer: null },
      { service: null, route: null, consumer: alice.id },
      { service: null, route: route('users-api').id, consumer: null },
      { service: users.id, route: null, consumer: alice.id },
      { service: null, route: null, consumer: null },
    ])
    const routePlugin = config.plugins[1]!
    assert.deepEqual(routePlugin.config, { header_name: 'X-Trace-ID', echo_downstream: true })
  })

  it('gives every entity a stable id: the same input gets the same ids on every load', () => {
    const ids = (c: GatewayConfig) =>
      [...c.services, ...c.routes, ...c.consumers, ...c.plugins].map((e) => e.id)
    const first = ids(load(KONG_FILE, {}, 1_700_000_000))
    const second = ids(load(KONG_FILE, {}, 1_800_000_000))
    assert.deepEqual(first, second)
    for (const id of first) assert.match(id, UUID)
    assert.equal(new Set(first).size, first.length)
  })

  it('derives different ids from different names, and keeps an id written in the file', () => {
    const one = load(withService(''))
    const other = load(withService('').replace('name: orders', 'name: billing'))
    assert.notEqual(one.services[0]!.id, other.services[0]!.id)

    const id = '0b4a2f3e-8d1c-4e6f-9a7b-5c3d2e1f0a9b'
    const explicit = load(withService(`  id: ${id}\n`))
    assert.equal(explicit.services[0]!.id, id)
  })

  it('expands a service url into protocol, host, port and path', () => {
    const config = load(`_format_version: "3.0"
services:
- { name: bare, url: "http://bare.internal" }
- { name: slash, url: "http://slash.internal/" }
- { name: tls, url: "https://tls.internal" }
- { name: full, url: "https://Full.Internal:8443/v1/api" }
`)
    const summary = config.services.map(({ name, protocol, host, port, path }) => ({
      name,
      protocol,
      host,
      port,
      path,
    }))
    assert.deepEqual(summary, [
      { name: 'bare', protocol: 'http', host: 'bare.internal', port: 80, path: null },
      { name: 'slash', protocol: 'http', host: 'slash.internal', port: 80, path: '/' },
      { name: 'tls', protocol: 'https', host: 'tls.internal', port: 443, path: null },
      { name: 'full', protocol: 'https', host: 'full.internal', port: 8443, path: '/v1/api' },
    ])
  })

  it("applies Kong's defaults to services, routes and plugins, and Gatehouse's to its own sections", () => {
    const config = load(`_format_version: "3.0"
services:
- name: orders
  host: orders.internal
  routes:
  - name: all
    paths: [/]
    plugins:
    - name: request-id
`)
    const service = config.services[0]!
    assert.deepEqual(
      {
        protocol: service.protocol,
        port: service.port,
        path: service.path,
        retries: service.retries,
        connect_timeout: service.connect_timeout,
        write_timeout: service.write_timeout,
        read_timeout: service.read_timeout,
        enabled: service.enabled,
        tls_verify: service.tls_verify,
        tags: service.tags,
      },
      {
        protocol: 'http',
        port: 80,
        path: null,
        retries: 5,
        connect_timeout: 60_000,
        write_timeout: 60_000,
        read_timeout: 60_000,
        enabled: true,
        tls_verify: true,
        tags: null,
      },
    )
    const route = config.routes[0]!
    assert.deepEqual(
      {
        protocols: route.protocols,
        methods: route.methods,
        hosts: route.hosts,
        headers: route.headers,
        strip_path: route.strip_path,
        preserve_host: route.preserve_host,
        regex_priority: route.regex_priority,
        https_redirect_status_code: route.https_redirect_status_code,
        path_handling: route.path_handling,
        request_buffering: route.request_buffering,
        response_buffering: route.response_buffering,
      },
      {
        protocols: ['http', 'https'],
        methods: null,
        hosts: null,
        headers: null,
        strip_path: true,
        preserve_host: false,
        regex_priority: 0,
        https_redirect_status_code: 426,
        path_handling: 'v0',
        request_buffering: true,
        response_buffering: true,
      },
    )
    const plugin = config.plugins[0]!
    assert.equal(plugin.enabled, true)
    assert.deepEqual(plugin.protocols, ['http', 'https'])
    assert.equal(config.settings.proxy.listen, '0.0.0.0:8000')
    assert.equal(config.settings.admin.listen, '127.0.0.1:8001')
    assert.equal(config.settings.logging.level, 'info')
  })

  it('normalises route paths the way requests are normalised before matching', () => {
    const config = load(
      withService('  routes:\n  - name: r\n    paths: ["/%7Euser/./docs/../api", "~/a%2e"]\n'),
    )
    assert.deepEqual(config.routes[0]!.paths, ['/~user/api', '~/a%2e'])
  })

  it('loads a plain object (the admin API and JSON files) the same way', () => {
    const config = loadConfigObject(
      { _format_version: '3.0', services: [{ name: 'orders', url: 'http://orders.internal' }] },
      'POST /config',
      { registry, env: {} },
    )
    assert.equal(config.source, 'POST /config')
    assert.equal(config.services[0]!.host, 'orders.internal')
    assert.match(config.hash, /^[0-9a-f]{64}$/)
  })

  it('returns a deep-frozen configuration that cannot be changed by accident', () => {
    const config = load(KONG_FILE)
    for (const value of [
      config,
      config.settings,
      config.settings.proxy.trusted_ips,
      config.services,
      config.services[0],
      config.routes[0]!.paths,
      config.routes[0]!.service,
      config.plugins[1]!.config,
    ]) {
      assert.ok(Object.isFrozen(value))
    }
    assert.throws(() => {
      ;(config.services[0] as { host: string }).host = 'evil.example'
    }, TypeError)
    assert.throws(() => {
      ;(config.routes as unknown[]).push({})
    }, TypeError)
  })
})

describe('credential ids', () => {
  const file = (key: string) => `_format_version: "3.0"
consumers:
- username: alice
  keyauth_credentials: [{ key: ${key} }]
  jwt_secrets: [{ key: https://issuer.example, secret: ${'s'.repeat(32)} }]
`
  it('never derives a key-auth credential id from its key (a secret), and derives a jwt one from its key', () => {
    const a = load(file('first-secret-key-0123456789abcdef'))
    const b = load(file('other-secret-key-0123456789abcdef'))
    assert.equal(a.credentials.keyauth_credentials![0]!.id, b.credentials.keyauth_credentials![0]!.id)
    assert.equal(a.credentials.jwt_secrets![0]!.id, b.credentials.jwt_secrets![0]!.id)
    const moved = load(
      file('first-secret-key-0123456789abcdef').replace('https://issuer.example', 'https://other.example'),
    )
    assert.notEqual(moved.credentials.jwt_secrets![0]!.id, a.credentials.jwt_secrets![0]!.id)
  })
})
