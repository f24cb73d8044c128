/**
 * Protocols as the proxy serves them (issue 15): routes and services take http, https, ws and wss
 * (issue 13), and say so for Kong's other protocols; a plugin's `protocols` keeps what the proxy serves, so a decK dump (which
 * writes Kong's default `[grpc, grpcs, http, https]` on every plugin) loads and shows `[http, https]`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { load, problems, withService } from '../../test/harness/config.ts'

const plugin = (protocols: string) =>
  withService(`plugins:\n- { name: request-id, protocols: ${protocols} }\n`)

describe('protocols', () => {
  it('keeps http and https of a plugin written as decK dumps it, and defaults to them', () => {
    assert.deepEqual(load(plugin('[grpc, grpcs, http, https]')).plugins[0]!.protocols, [
      'grpc',
      'grpcs',
      'http',
      'https',
    ])
    assert.deepEqual(load(plugin('[https, http, https]')).plugins[0]!.protocols, ['https', 'http'])
    assert.deepEqual(load(withService('plugins:\n- name: request-id\n')).plugins[0]!.protocols, [
      'http',
      'https',
    ])
  })

  it("refuses a protocol plugins never take (Kong's stream protocols)", () => {
    assert.deepEqual(problems(plugin('[http, tcp]')), [
      "gatehouse.yaml: plugins[0].protocols[1]: expected one of http, https, grpc, grpcs, ws, wss (Kong's stream protocols tcp, tls, udp are not served)",
    ])
  })

  it('warns that a plugin listing only one protocol still runs for every request of its scope, as in Kong', () => {
    const config = load(plugin('[https, https]'))
    assert.deepEqual(config.plugins[0]!.protocols, ['https'])
    assert.deepEqual(config.notices, [
      "plugins[0].protocols: lists only https, but a plugin runs for every request of its scope whatever its protocol (as in Kong); limit the route's protocols instead",
    ])
    assert.deepEqual(load(plugin('[http, https]')).notices, [])
    assert.deepEqual(load(plugin('[grpc, grpcs]')).notices, [])
  })

  it("refuses Kong's other protocols on routes and services by name, and anything else as unknown", () => {
    assert.deepEqual(
      problems(
        withService(`  protocol: grpcs
routes:
- { name: r, service: orders, paths: [/r], protocols: [tcp, http, ftp] }
`),
      ),
      [
        "gatehouse.yaml: routes[0].protocols[0]: 'tcp' routes are not supported yet; use http or https",
        'gatehouse.yaml: routes[0].protocols[2]: expected one of http, https, ws, wss, grpc, grpcs',
        // grpcs is a protocol now: beside withService's url, it is one of both given
        'gatehouse.yaml: services[0].url: set either url or protocol/host/port/path, not both',
      ],
    )
  })

  it('takes ws and wss routes alone, never mixed with http or https on one route (as in Kong)', () => {
    const routes = (protocols: string) =>
      withService(`routes:\n- { name: r, service: orders, paths: [/r], protocols: ${protocols} }\n`)
    assert.deepEqual(load(routes('[ws, wss]')).routes[0]!.protocols, ['ws', 'wss'])
    assert.deepEqual(problems(routes('[http, ws]')), [
      'gatehouse.yaml: routes[0].protocols: ws and wss cannot be combined with http or https on one route (as in Kong); use two routes',
    ])
  })

  it("takes grpc and grpcs routes and services by Kong's rules", () => {
    const routes = (route: string) => withService(`routes:\n- { name: r, service: orders, ${route} }\n`)
    const route = load(routes('paths: [/pkg.Svc/], protocols: [grpc, grpcs]')).routes[0]!
    assert.deepEqual([route.protocols, route.strip_path], [['grpc', 'grpcs'], false])
    assert.deepEqual(problems(routes('paths: [/p], protocols: [grpc, http]')), [
      'gatehouse.yaml: routes[0].protocols: grpc and grpcs cannot be combined with other protocols on one route (as in Kong); use two routes',
    ])
    assert.deepEqual(problems(routes('paths: [/p], methods: [POST], strip_path: true, protocols: [grpc]')), [
      "gatehouse.yaml: routes[0].methods: cannot set 'methods' when 'protocols' is 'grpc' or 'grpcs'",
      "gatehouse.yaml: routes[0].strip_path: cannot set 'strip_path' when 'protocols' is 'grpc' or 'grpcs'",
    ])
    const service = (lines: string) => load(`_format_version: "3.0"\nservices:\n- name: rpc\n${lines}`)
    const grpcs = service('  url: grpcs://rpc.internal\n').services[0]!
    assert.deepEqual([grpcs.protocol, grpcs.port, grpcs.grpc], ['https', 443, true])
    assert.deepEqual(
      problems('_format_version: "3.0"\nservices:\n- { name: rpc, url: "grpc://rpc.internal/v1" }\n'),
      ["gatehouse.yaml: services[0].path: must not be set when the protocol is 'grpc' (as in Kong)"],
    )
  })

  it('reads ws and wss services as http and https to the upstream, with websocket_upgrade on', () => {
    const service = (lines: string) => load(`_format_version: "3.0"\nservices:\n- name: chat\n${lines}`)
    const wss = service('  url: wss://chat.internal/socket\n').services[0]!
    assert.deepEqual(
      [wss.protocol, wss.port, wss.path, wss.websocket_upgrade],
      ['https', 443, '/socket', true],
    )
    const ws = service('  protocol: ws\n  host: chat\n').services[0]!
    assert.deepEqual([ws.protocol, ws.port, ws.websocket_upgrade], ['http', 80, true])
    const plain = service('  url: http://chat\n').services[0]!
    assert.equal(plain.websocket_upgrade, false)
  })
})
