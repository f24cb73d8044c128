/**
 * How one entity refers to another in a declarative file (issue 15): each kind by its own key or its id —
 * services, routes and upstreams by name, consumers by username — and a reference with another kind's key
 * is refused where it is written, naming the forms that kind takes.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { load, problems, withService } from '../../test/harness/config.ts'

const ORDERS_AND_ALICE = withService(`consumers:
- username: alice
  custom_id: c-1
upstreams:
- name: pool
`)

describe('referring to another entity', () => {
  it('finds a service, route and upstream by name or id, and a consumer by username or id, in every form', () => {
    const config = load(`${ORDERS_AND_ALICE}routes:
- { name: by-string, service: orders, paths: [/a] }
- { name: by-name, service: { name: orders }, paths: [/b] }
targets:
- { target: 10.0.0.1:80, upstream: { name: pool } }
plugins:
- { name: request-id, route: { name: by-name }, consumer: { username: alice } }
- { name: request-id, route: by-string, consumer: alice }
`)
    const orders = config.services[0]!
    const alice = config.consumers[0]!
    assert.deepEqual(
      config.routes.map((r) => r.service),
      [{ id: orders.id }, { id: orders.id }],
    )
    assert.deepEqual(config.targets[0]!.upstream, { id: config.upstreams[0]!.id })
    assert.deepEqual(
      config.plugins.map((p) => p.consumer),
      [{ id: alice.id }, { id: alice.id }],
    )
    const byId = load(`${ORDERS_AND_ALICE}routes:
- { name: by-id, service: { id: ${orders.id} }, paths: [/c] }
plugins:
- { name: request-id, consumer: { id: ${alice.id} } }
`)
    assert.deepEqual(byId.routes[0]!.service, { id: orders.id })
    assert.deepEqual(byId.plugins[0]!.consumer, { id: alice.id })
  })

  it("refuses another kind's key, naming the forms the referred kind takes", () => {
    assert.deepEqual(
      problems(`${ORDERS_AND_ALICE}routes:
- { name: r, service: { username: orders }, paths: [/r] }
targets:
- { target: 10.0.0.1:80, upstream: { username: pool } }
plugins:
- { name: request-id, consumer: { name: alice } }
- { name: request-id, service: { username: orders } }
- { name: request-id, route: { custom_id: r } }
`),
      [
        'gatehouse.yaml: routes[0].service: a service is referred to by id or name, not username',
        'gatehouse.yaml: plugins[0].consumer: a consumer is referred to by id or username, not name',
        'gatehouse.yaml: plugins[1].service: a service is referred to by id or name, not username',
        'gatehouse.yaml: plugins[2].route: a route is referred to by id or name, not custom_id',
        'gatehouse.yaml: targets[0].upstream: an upstream is referred to by id or name, not username',
      ],
    )
  })

  it('refuses a reference that gives both forms, none, or not a string', () => {
    assert.deepEqual(
      problems(`${ORDERS_AND_ALICE}routes:
- { name: a, service: { id: 3e8c8a1e-8b3c-5d7e-9f00-000000000001, name: orders }, paths: [/a] }
- { name: b, service: {}, paths: [/b] }
- { name: c, service: { name: 7 }, paths: [/c] }
- { name: d, service: [orders], paths: [/d] }
`),
      [
        "gatehouse.yaml: routes[0].service: give the service's id or its name, not both",
        'gatehouse.yaml: routes[1].service: expected { id: … } or { name: … }, not an empty mapping',
        'gatehouse.yaml: routes[2].service: name must be a string',
        'gatehouse.yaml: routes[3].service: expected its name or id as a string, { id: … } or { name: … }',
      ],
    )
  })

  it('says which key it looked for when nothing matches', () => {
    assert.deepEqual(
      problems(`${ORDERS_AND_ALICE}routes:
- { name: a, service: billing, paths: [/a] }
- { name: b, service: { name: billing }, paths: [/b] }
- { name: c, service: { id: 3e8c8a1e-8b3c-5d7e-9f00-000000000001 }, paths: [/c] }
plugins:
- { name: request-id, consumer: c-1 }
`),
      [
        "gatehouse.yaml: routes[0].service: no service with name or id 'billing'",
        "gatehouse.yaml: routes[1].service: no service with name 'billing'",
        "gatehouse.yaml: routes[2].service: no service with id '3e8c8a1e-8b3c-5d7e-9f00-000000000001'",
        // A consumer's custom_id is not how Kong's format refers to it.
        "gatehouse.yaml: plugins[0].consumer: no consumer with username or id 'c-1'",
      ],
    )
  })
})
