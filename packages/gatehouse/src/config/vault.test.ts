import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { load, problems, registry, withService } from '../../test/harness/config.ts'

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
