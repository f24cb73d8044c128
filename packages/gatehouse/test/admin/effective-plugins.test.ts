/**
 * `GET /routes/{route}/plugins/effective` (issue 12, the console's route detail): the plugins a route
 * runs, in the order the proxy runs them, each with the instance Kong's precedence picks and the
 * consumer-scoped instances that replace it.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'

describe('the effective plugins of a route', () => {
  let gh: GatehouseProcess
  before(async () => {
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        consumers: [{ username: 'alice' }],
        plugins: [
          { name: 'rate-limiting', config: { minute: 100 } },
          { name: 'correlation-id' },
          { name: 'rate-limiting', consumer: 'alice', route: 'orders', config: { minute: 5 } },
        ],
        services: [
          {
            name: 'shop',
            url: 'http://127.0.0.1:9',
            plugins: [{ name: 'key-auth' }],
            routes: [
              { name: 'orders', paths: ['/orders'], plugins: [{ name: 'key-auth', enabled: true }] },
              { name: 'other', paths: ['/other'] },
            ],
          },
        ],
      },
    })
  })
  after(async () => gh?.stop())

  const effective = async (route: string) => {
    const res = await gh.admin(`/routes/${route}/plugins/effective`)
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  it('lists them by priority, the most specific instance for each, and the consumer-scoped overrides', async () => {
    const { status, body } = await effective('orders')
    assert.equal(status, 200)
    const steps = body.data as { order: number; name: string; priority: number; band: string }[]
    assert.deepEqual(
      steps.map((s) => [s.order, s.name, s.priority, s.band]),
      [
        [1, 'correlation-id', 100001, 'tracing'],
        [2, 'key-auth', 1250, 'authentication'],
        [3, 'rate-limiting', 910, 'traffic'],
      ],
    )
    const [, keyAuth, rate] = body.data as {
      instance: { scope: string } | null
      consumer_scoped: { scope: string; consumer: { id: string } }[]
    }[]
    assert.equal(keyAuth!.instance!.scope, 'route', 'the route instance wins over the service one')
    assert.equal(rate!.instance!.scope, 'global')
    assert.deepEqual(
      rate!.consumer_scoped.map((c) => c.scope),
      ['consumer+route'],
    )
    const other = await effective('other')
    assert.deepEqual(
      (other.body.data as { name: string; instance: { scope: string } }[]).map((s) => [
        s.name,
        s.instance.scope,
      ]),
      [
        ['correlation-id', 'global'],
        ['key-auth', 'service'],
        ['rate-limiting', 'global'],
      ],
    )
  })

  it('answers 404 for a route that does not exist', async () => {
    const { status, body } = await effective('nope')
    assert.equal(status, 404)
    assert.equal(body.code, 'GH_ERR_ADMIN_NOT_FOUND')
  })
})
