import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { z } from 'zod'
import { FILE, load, problems, registry, withService } from '../../test/harness/config.ts'
import { ConfigError } from '../errors/errors.ts'
import { createRegistry } from '../plugins/registry.ts'
import { loadConfigText } from './load.ts'

describe('reporting a problem as FILE: path: message', () => {
  it('rejects an unknown key and suggests the key that was probably meant', () => {
    assert.deepEqual(
      problems(withService('  routes:\n  - name: r\n    paths: [/a]\n    stirp_path: false\n')),
      ["gatehouse.yaml: services[0].routes[0].stirp_path: unknown key (did you mean 'strip_path'?)"],
    )
    assert.deepEqual(problems('_format_version: "3.0"\nservces: []\n'), [
      "gatehouse.yaml: servces: unknown key (did you mean 'services'?)",
    ])
    assert.deepEqual(problems('_format_version: "3.0"\ncertificates: []\n'), [
      'gatehouse.yaml: certificates: unknown key',
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

  it('rejects a format version Kong 3.x does not load, listing those it does, and says to quote an unquoted one', () => {
    assert.deepEqual(problems('_format_version: "2.2"\n'), [
      'gatehouse.yaml: _format_version: unsupported format version; expected one of "1.1", "2.1", "3.0" (Kong\'s declarative formats; "1.1" and "2.1" are upgraded to "3.0" on load)',
    ])
    assert.deepEqual(problems('_format_version: 3.0\n'), [
      'gatehouse.yaml: _format_version: must be a string such as "3.0" (quote it in YAML)',
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
      "gatehouse.yaml: plugins[1].consumer: no consumer with username or id 'nobody'",
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

  it('rejects a service protocol this version cannot proxy, such as tcp', () => {
    assert.deepEqual(
      problems('_format_version: "3.0"\nservices:\n- { name: rpc, protocol: tcp, host: rpc.internal }\n'),
      ["gatehouse.yaml: services[0].protocol: 'tcp' services are not supported yet; use http or https"],
    )
    assert.deepEqual(
      problems('_format_version: "3.0"\nservices:\n- { name: rpc, protocol: gopher, host: rpc.internal }\n'),
      ['gatehouse.yaml: services[0].protocol: expected one of http, https, ws, wss, grpc, grpcs'],
    )
    assert.deepEqual(
      problems('_format_version: "3.0"\nservices:\n- { name: rpc, url: "ftp://rpc.internal:9000" }\n'),
      [
        'gatehouse.yaml: services[0].url: expected an http://, https://, ws://, wss://, grpc:// or grpcs:// URL',
      ],
    )
    assert.deepEqual(
      problems(withService('  routes:\n  - { name: r, paths: [/r], protocols: [https, tcp] }\n')),
      [
        "gatehouse.yaml: services[0].routes[0].protocols[1]: 'tcp' routes are not supported yet; use http or https",
      ],
    )
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
