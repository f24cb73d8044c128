import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { ConfigError, type GatehouseErrorCode } from '../errors/errors.ts'
import { createRegistry, loadBundledPlugins } from '../plugins/registry.ts'
import { loadConfigObject, loadConfigText } from './load.ts'
import type { GatewayConfig } from './model.ts'

const registry = await loadBundledPlugins()
const FILE = 'gatehouse.yaml'
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

function load(text: string, env: NodeJS.ProcessEnv = {}, nowSeconds = 1_700_000_000): GatewayConfig {
  return loadConfigText(text, FILE, { registry, env, nowSeconds })
}

/** The `FILE: path: message` lines of the ConfigError that loading `text` throws. */
function problems(
  text: string,
  env: NodeJS.ProcessEnv = {},
  code: GatehouseErrorCode = 'GH_ERR_CONFIG_INVALID',
): string[] {
  try {
    load(text, env)
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`)
    assert.equal(err.code, code)
    assert.equal(err.issues.length, err.message.split('\n').length)
    return err.message.split('\n')
  }
  assert.fail('expected the configuration to be rejected')
}

/** A file with one service `orders` and whatever YAML follows (indented as top-level keys). */
function withService(rest: string): string {
  return `_format_version: "3.0"
services:
- name: orders
  url: http://orders.internal:8080
${rest}`
}

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
    assert.deepEqual(plugin.protocols, ['http', 'https', 'grpc', 'grpcs'])
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

describe('reporting a problem as FILE: path: message', () => {
  it('rejects an unknown key and suggests the key that was probably meant', () => {
    assert.deepEqual(
      problems(withService('  routes:\n  - name: r\n    paths: [/a]\n    stirp_path: false\n')),
      ["gatehouse.yaml: services[0].routes[0].stirp_path: unknown key (did you mean 'strip_path'?)"],
    )
    assert.deepEqual(problems('_format_version: "3.0"\nservces: []\n'), [
      "gatehouse.yaml: servces: unknown key (did you mean 'services'?)",
    ])
    assert.deepEqual(problems('_format_version: "3.0"\nupstreams: []\n'), [
      'gatehouse.yaml: upstreams: unknown key',
    ])
  })

  it("suggests keys from a plugin's own schema inside its config", () => {
    assert.deepEqual(
      problems('_format_version: "3.0"\nplugins:\n- name: request-id\n  config: { header_nmae: X }\n'),
      ["gatehouse.yaml: plugins[0].config.header_nmae: unknown key (did you mean 'header_name'?)"],
    )
  })

  it('rejects a value of the wrong type, naming the expected and the received type', () => {
    assert.deepEqual(problems(withService('  retries: five\n')), [
      'gatehouse.yaml: services[0].retries: expected number, got string',
    ])
    assert.deepEqual(problems(withService('  retries: -1\n')), [
      'gatehouse.yaml: services[0].retries: expected number to be >=0',
    ])
  })

  it('requires _format_version', () => {
    assert.deepEqual(problems('services: []\n'), [
      'gatehouse.yaml: _format_version: is required: add `_format_version: "3.0"` at the top',
    ])
  })

  it('rejects a format version other than "3.0", and says to quote an unquoted 3.0', () => {
    assert.deepEqual(problems('_format_version: "2.1"\n'), [
      'gatehouse.yaml: _format_version: unsupported format version; expected "3.0" (Kong 3.x DB-less format)',
    ])
    assert.deepEqual(problems('_format_version: 3.0\n'), [
      'gatehouse.yaml: _format_version: must be the string "3.0" (quote it in YAML)',
    ])
  })

  it('rejects a document that is not a mapping', () => {
    assert.deepEqual(problems('- 1\n- 2\n'), [
      'gatehouse.yaml: expected a mapping with `_format_version: "3.0"` at the top',
    ])
  })

  it('rejects two services with the same name, once, naming both places', () => {
    assert.deepEqual(problems(withService('- name: orders\n  url: http://other.internal\n')), [
      "gatehouse.yaml: services[1].name: duplicate service name 'orders' (also at services[0])",
    ])
  })

  it('rejects two entities with the same id written in the file', () => {
    const id = '0b4a2f3e-8d1c-4e6f-9a7b-5c3d2e1f0a9b'
    assert.deepEqual(
      problems(
        `_format_version: "3.0"\nconsumers:\n- { id: ${id}, username: a }\n- { id: ${id}, username: b }\n`,
      ),
      [`gatehouse.yaml: consumers[1].id: duplicate consumer id '${id}' (also at consumers[0])`],
    )
  })

  it('rejects two routes with the same name, nested and top-level alike', () => {
    const text = withService(`  routes:
  - name: list
    paths: [/orders]
routes:
- name: list
  service: orders
  paths: [/list]
`)
    assert.deepEqual(problems(text), [
      "gatehouse.yaml: routes[0].name: duplicate route name 'list' (also at services[0].routes[0])",
    ])
  })

  it('rejects two consumers with the same username', () => {
    assert.deepEqual(problems('_format_version: "3.0"\nconsumers:\n- username: alice\n- username: alice\n'), [
      "gatehouse.yaml: consumers[1].username: duplicate consumer username 'alice' (also at consumers[0])",
    ])
  })

  it('rejects a route that names a service that does not exist', () => {
    assert.deepEqual(
      problems('_format_version: "3.0"\nroutes:\n- name: r\n  service: billing\n  paths: [/b]\n'),
      ["gatehouse.yaml: routes[0].service: no service with name or id 'billing'"],
    )
  })

  it('rejects plugins scoped to a route or consumer that does not exist, once each', () => {
    const text = withService(`plugins:
- name: request-id
  route: nowhere
- name: request-id
  consumer: nobody
`)
    assert.deepEqual(problems(text), [
      "gatehouse.yaml: plugins[0].route: no route with name or id 'nowhere'",
      "gatehouse.yaml: plugins[1].consumer: no consumer with name or id 'nobody'",
    ])
  })

  it('rejects a second instance of a plugin in the same scope', () => {
    const text = withService(
      '  plugins:\n  - name: request-id\nplugins:\n- name: request-id\n  service: orders\n',
    )
    assert.deepEqual(problems(text), [
      "gatehouse.yaml: plugins[0]: plugin 'request-id' is already configured for the same service/route/consumer at services[0].plugins[0]; one instance per scope",
    ])
  })

  it('rejects a plugin where its definition does not allow it, but not because a reference dangles', () => {
    const routeOnly = createRegistry([
      {
        name: 'route-only',
        version: '1.0.0',
        priority: 801,
        band: 'transform',
        description: 'Test plugin that may only be scoped to services and routes.',
        schema: z.strictObject({}),
        scopes: { global: false, consumer: false },
        create: () => ({}),
      },
    ])
    const text = `_format_version: "3.0"
consumers:
- username: alice
plugins:
- name: route-only
- name: route-only
  consumer: alice
- name: route-only
  route: nowhere
`
    assert.throws(
      () => loadConfigText(text, FILE, { registry: routeOnly, env: {} }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError)
        assert.deepEqual(err.message.split('\n'), [
          "gatehouse.yaml: plugins[0]: plugin 'route-only' cannot be global; scope it to a service or route",
          "gatehouse.yaml: plugins[1].consumer: plugin 'route-only' cannot be scoped to a consumer",
          "gatehouse.yaml: plugins[2].route: no route with name or id 'nowhere'",
        ])
        return true
      },
    )
  })

  it('rejects an unknown plugin and lists the plugins there are', () => {
    assert.deepEqual(problems('_format_version: "3.0"\nplugins:\n- name: jwtt\n'), [
      `gatehouse.yaml: plugins[0].name: unknown plugin 'jwtt' (available: ${registry.names().join(', ')})`,
    ])
  })

  it("reports a plugin's own config errors under the plugin's path", () => {
    const text = withService(`  plugins:
  - name: request-id
    config:
      header_name: "not a header"
      echo_downstream: "yes"
`)
    assert.deepEqual(problems(text), [
      'gatehouse.yaml: services[0].plugins[0].config.header_name: expected a header name',
      'gatehouse.yaml: services[0].plugins[0].config.echo_downstream: expected boolean, got string',
    ])
  })

  it('rejects a route that matches on nothing', () => {
    assert.deepEqual(problems(withService('  routes:\n  - name: r\n    strip_path: false\n')), [
      "gatehouse.yaml: services[0].routes[0]: must set one of 'methods', 'hosts', 'headers', 'paths'",
    ])
  })

  it('rejects an invalid regular expression in a path or header, with the reason only', () => {
    const text = withService(`  routes:
  - name: r
    paths: ["~/users/(\\\\d+"]
    headers:
      x-version: ["~*v[0-9"]
`)
    assert.deepEqual(problems(text), [
      'gatehouse.yaml: services[0].routes[0].paths[0]: invalid regular expression: Unterminated group',
      'gatehouse.yaml: services[0].routes[0].headers.x-version[0]: invalid regular expression: Unterminated character class',
    ])
  })

  it('rejects a prefix path with an invalid percent-escape, which no request could match', () => {
    assert.deepEqual(problems(withService('  routes:\n  - name: r\n    paths: ["/100%"]\n')), [
      "gatehouse.yaml: services[0].routes[0].paths[0]: invalid percent-encoding: '%' must be followed by two hex digits",
    ])
  })

  it('does not report a consequence of a problem already reported in the same entity', () => {
    // The only path is invalid, but the route is not also reported as matching on nothing.
    assert.deepEqual(problems(withService('  routes:\n  - name: r\n    paths: [orders]\n')), [
      'gatehouse.yaml: services[0].routes[0].paths[0]: must start with "/" (prefix) or "~" (regular expression)',
    ])
  })

  it('rejects url together with host (or protocol, port, path)', () => {
    assert.deepEqual(problems(withService('  host: elsewhere.internal\n')), [
      'gatehouse.yaml: services[0].url: set either url or protocol/host/port/path, not both',
    ])
  })

  it('rejects a service without host or url', () => {
    assert.deepEqual(problems('_format_version: "3.0"\nservices:\n- name: orders\n'), [
      'gatehouse.yaml: services[0].host: required (or give url)',
    ])
  })

  it('rejects a service protocol this version cannot proxy, such as grpc', () => {
    assert.deepEqual(
      problems('_format_version: "3.0"\nservices:\n- { name: rpc, protocol: grpc, host: rpc.internal }\n'),
      ["gatehouse.yaml: services[0].protocol: 'grpc' is not supported yet; use http or https"],
    )
    assert.deepEqual(
      problems('_format_version: "3.0"\nservices:\n- { name: rpc, url: "grpc://rpc.internal:9000" }\n'),
      ['gatehouse.yaml: services[0].url: expected an http:// or https:// URL'],
    )
    assert.deepEqual(problems(withService('  routes:\n  - { name: r, paths: [/r], protocols: [grpc] }\n')), [
      "gatehouse.yaml: services[0].routes[0].protocols: 'grpc' routes are not supported yet; use http/https",
    ])
  })

  it('reports every problem of a file together, schema and cross-entity alike', () => {
    const text = `_format_version: "3.0"
services:
- name: orders
  url: http://orders.internal
  routes:
  - name: list
    paths: [/orders]
    stirp_path: false
- name: orders
  url: http://other.internal
routes:
- name: users
  service: users
  paths: [/users]
plugins:
- name: jwtt
`
    assert.deepEqual(problems(text), [
      "gatehouse.yaml: services[0].routes[0].stirp_path: unknown key (did you mean 'strip_path'?)",
      `gatehouse.yaml: plugins[0].name: unknown plugin 'jwtt' (available: ${registry.names().join(', ')})`,
      "gatehouse.yaml: services[1].name: duplicate service name 'orders' (also at services[0])",
      "gatehouse.yaml: routes[0].service: no service with name or id 'users'",
    ])
  })
})

describe('vault references', () => {
  const hostFrom = (reference: string) =>
    withService('').replace('url: http://orders.internal:8080', `host: "${reference}"`)

  it('replaces {vault://env/NAME} with the environment variable NAME (upper-cased, dashes to underscores)', () => {
    const config = load(hostFrom('{vault://env/orders-host}'), { ORDERS_HOST: 'orders.internal' })
    assert.equal(config.services[0]!.host, 'orders.internal')
  })

  it('reads one field of a JSON variable with {vault://env/NAME/field}', () => {
    const config = load(hostFrom('{vault://env/upstreams/orders}'), {
      UPSTREAMS: JSON.stringify({ orders: 'orders.internal' }),
    })
    assert.equal(config.services[0]!.host, 'orders.internal')
  })

  it('names the missing variable, once', () => {
    assert.deepEqual(problems(hostFrom('{vault://env/orders-host}')), [
      'gatehouse.yaml: services[0].host: vault reference: environment variable ORDERS_HOST is not set',
    ])
  })

  it('names the missing field of a JSON variable, and a variable that is not JSON', () => {
    assert.deepEqual(problems(hostFrom('{vault://env/upstreams/orders}'), { UPSTREAMS: '{"users":"u"}' }), [
      "gatehouse.yaml: services[0].host: vault reference: UPSTREAMS has no string field 'orders'",
    ])
    assert.deepEqual(problems(hostFrom('{vault://env/upstreams/orders}'), { UPSTREAMS: 'orders.internal' }), [
      "gatehouse.yaml: services[0].host: vault reference: UPSTREAMS is not JSON, so it has no field 'orders'",
    ])
  })

  it('rejects a malformed reference and a vault other than env', () => {
    assert.deepEqual(problems(hostFrom('{vault://env/}')), [
      'gatehouse.yaml: services[0].host: malformed vault reference; expected {vault://env/NAME} or {vault://env/NAME/field}',
    ])
    assert.deepEqual(problems(hostFrom('{vault://aws/orders-host}')), [
      "gatehouse.yaml: services[0].host: vault 'aws' is not supported; use {vault://env/NAME}",
    ])
  })

  it('never puts a resolved secret in a message, whatever the message is about', () => {
    const secret = 'hunter2-correct-horse'
    const env = { SECRET: secret, PATTERN: `~/${secret}/(` }
    const lines = problems(
      withService(`  retries: "{vault://env/secret}"
  tags: ["{vault://env/secret}", "a b"]
routes:
- name: r
  service: "{vault://env/secret}"
  paths: ["{vault://env/pattern}"]
plugins:
- name: "{vault://env/secret}"
`),
      env,
    )
    assert.deepEqual(lines, [
      'gatehouse.yaml: services[0].retries: expected number, got string',
      'gatehouse.yaml: services[0].tags[1]: must not contain commas or spaces',
      `gatehouse.yaml: plugins[0].name: unknown plugin '{vault://env/secret}' (available: ${registry.names().join(', ')})`,
      "gatehouse.yaml: routes[0].service: no service with name or id '{vault://env/secret}'",
      'gatehouse.yaml: routes[0].paths[0]: invalid regular expression: Unterminated group',
    ])
    for (const line of lines) assert.ok(!line.includes(secret), line)
  })
})

describe('reading YAML', () => {
  it('reports a syntax error with its line and column', () => {
    const text = '_format_version: "3.0"\nservices:\n  - name: orders\n    url: [http://x\n'
    const [line, ...rest] = problems(text, {}, 'GH_ERR_CONFIG_UNREADABLE')
    assert.match(line!, /^gatehouse\.yaml: line \d+, column \d+: /)
    assert.equal(rest.length, 0)
  })

  it('points at the line that breaks the indentation', () => {
    const text = '_format_version: "3.0"\nservices:\n  - name: orders\n   url: http://x\n'
    assert.deepEqual(problems(text, {}, 'GH_ERR_CONFIG_UNREADABLE'), [
      'gatehouse.yaml: line 4, column 1: Sequence item without - indicator',
    ])
  })

  it('rejects a key given twice in one mapping', () => {
    const text = '_format_version: "3.0"\nservices:\n- name: orders\n  url: http://a\n  url: http://b\n'
    assert.deepEqual(problems(text, {}, 'GH_ERR_CONFIG_UNREADABLE'), [
      'gatehouse.yaml: line 5, column 3: Map keys must be unique',
    ])
  })

  it('accepts JSON, which is YAML too', () => {
    const config = load(JSON.stringify({ _format_version: '3.0', consumers: [{ username: 'alice' }] }))
    assert.equal(config.consumers[0]!.username, 'alice')
  })
})
