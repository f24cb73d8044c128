/**
 * The `upstreams` and `targets` entities in a declarative file: Kong's defaults, nested and top-level
 * targets, and a precise `FILE: path: message` for every mistake, including what this version refuses.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { load, problems } from '../harness/config.ts'

const file = (upstreams: string, rest = '') => `_format_version: "3.0"\nupstreams:\n${upstreams}${rest}`

describe('upstreams in the declarative file', () => {
  it("fills in Kong's defaults and the target port, and links nested and top-level targets", () => {
    const config = load(
      file(
        '- name: Orders.Internal\n  targets:\n  - target: 10.0.0.1:8080\n  - target: orders-2.internal\n    weight: 0\n',
        'targets:\n- target: "[::1]:9000"\n  upstream: orders.internal\n',
      ),
    )
    const [upstream] = config.upstreams
    assert.equal(upstream!.name, 'orders.internal')
    assert.equal(upstream!.algorithm, 'round-robin')
    assert.equal(upstream!.slots, 10_000)
    assert.deepEqual(upstream!.healthchecks.active.healthy, {
      interval: 0,
      http_statuses: [200, 302],
      successes: 0,
    })
    assert.deepEqual(upstream!.healthchecks.passive.unhealthy, {
      http_statuses: [429, 500, 503],
      tcp_failures: 0,
      timeouts: 0,
      http_failures: 0,
    })
    assert.equal(upstream!.healthchecks.active.timeout, 1)
    assert.equal(upstream!.healthchecks.passive.half_open_after, 10)
    assert.deepEqual(
      config.targets.map((t) => [t.target, t.weight, t.upstream.id === upstream!.id]),
      [
        ['10.0.0.1:8080', 100, true],
        ['orders-2.internal:8000', 0, true],
        ['[::1]:9000', 100, true],
      ],
    )
  })

  it('rejects unknown keys, at every level, with a hint', () => {
    assert.deepEqual(
      problems(
        file(
          '- name: pool\n  algoritm: round-robin\n  healthchecks:\n    active:\n      healthy:\n        intervall: 1\n  targets:\n  - target: 10.0.0.1:80\n    wieght: 5\n',
        ),
      ),
      [
        "gatehouse.yaml: upstreams[0].healthchecks.active.healthy.intervall: unknown key (did you mean 'interval'?)",
        "gatehouse.yaml: upstreams[0].targets[0].wieght: unknown key (did you mean 'weight'?)",
        "gatehouse.yaml: upstreams[0].algoritm: unknown key (did you mean 'algorithm'?)",
      ],
    )
  })

  it('rejects a bad weight, a bad target address and a bad health-check value', () => {
    assert.deepEqual(
      problems(
        file(
          '- name: pool\n  healthchecks:\n    active:\n      unhealthy:\n        tcp_failures: 300\n    passive:\n      unhealthy:\n        http_statuses: [99]\n  targets:\n  - target: 10.0.0.1:80\n    weight: 70000\n  - target: 10.0.0.2:99999\n  - target: "::1"\n  - target: 10.0.0.3\n    weight: -1\n',
        ),
      ),
      [
        'gatehouse.yaml: upstreams[0].healthchecks.active.unhealthy.tcp_failures: expected number to be <=255',
        'gatehouse.yaml: upstreams[0].healthchecks.passive.unhealthy.http_statuses[0]: expected number to be >=100',
        'gatehouse.yaml: upstreams[0].targets[0].weight: expected number to be <=65535',
        'gatehouse.yaml: upstreams[0].targets[1].target: expected HOST:PORT (a host name, an IPv4 address or an [IPv6] address, port 1..65535)',
        'gatehouse.yaml: upstreams[0].targets[2].target: expected HOST:PORT (a host name, an IPv4 address or an [IPv6] address, port 1..65535)',
        'gatehouse.yaml: upstreams[0].targets[3].weight: expected number to be >=0',
      ],
    )
  })

  it('rejects a duplicate target (the default port counts), a duplicate upstream and a dangling reference', () => {
    assert.deepEqual(
      problems(
        file(
          '- name: pool\n  targets:\n  - target: 10.0.0.1:8000\n  - target: 10.0.0.1\n- name: POOL\n',
          'targets:\n- target: 10.0.0.9:80\n  upstream: nowhere\n- target: 10.0.0.8:80\n',
        ),
      ),
      [
        "gatehouse.yaml: upstreams[1].name: duplicate upstream name 'pool' (also at upstreams[0])",
        "gatehouse.yaml: upstreams[0].targets[1].target: duplicate target '10.0.0.1:8000' in this upstream (also at upstreams[0].targets[0])",
        "gatehouse.yaml: targets[0].upstream: no upstream with name or id 'nowhere'",
        'gatehouse.yaml: targets[1].upstream: is required for a top-level target (or nest it under its upstream)',
      ],
    )
  })

  it('refuses, by name, what this version does not balance: hashing, latency, SRV names and gRPC probes', () => {
    assert.deepEqual(
      problems(
        file(
          '- name: a\n  algorithm: consistent-hashing\n  hash_on: header\n  hash_on_header: X-User\n- name: b\n  algorithm: latency\n  use_srv_name: true\n  healthchecks:\n    active:\n      type: grpc\n',
        ),
      ),
      [
        "gatehouse.yaml: upstreams[0].algorithm: 'consistent-hashing' is not supported yet; use round-robin or least-connections",
        "gatehouse.yaml: upstreams[0].hash_on: hashing on 'header' needs consistent-hashing, which is not supported yet",
        "gatehouse.yaml: upstreams[1].algorithm: 'latency' is not supported yet; use round-robin or least-connections",
        'gatehouse.yaml: upstreams[1].use_srv_name: SRV records are not resolved yet; remove it',
        "gatehouse.yaml: upstreams[1].healthchecks.active.type: 'grpc' probes are not supported yet; use http, https or tcp",
      ],
    )
  })

  it('rejects an upstream named by an IP address', () => {
    assert.deepEqual(problems(file('- name: 10.0.0.1\n')), [
      'gatehouse.yaml: upstreams[0].name: must be a host name, not an IP address',
    ])
  })

  it('warns about an upstream whose services can only answer 503', () => {
    const config = load(file('- name: pool\n  targets:\n  - target: 10.0.0.1:80\n    weight: 0\n'))
    assert.deepEqual(config.notices, [
      "upstream 'pool' has no target with a weight above 0; its services answer 503",
    ])
  })
})
