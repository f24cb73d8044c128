/**
 * Balancing a service over its upstream's targets, through a real gateway to real backends: weighted
 * round-robin, weight 0, least-connections, retries to another target, and the Host header each target
 * gets.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { rawRequest } from '../harness/http.ts'
import { closedPort } from '../harness/upstream.ts'
import { startTargets, type Target, until } from './support.ts'

describe('balancing a service over the targets of its upstream', () => {
  let a: Target
  let b: Target
  let c: Target
  let slow: Target
  let fast: Target
  let gh: GatehouseProcess
  let deadPort: number

  before(async () => {
    ;[a, b, c, slow, fast] = await startTargets('a', 'b', 'c', 'slow', 'fast')
    deadPort = await closedPort()
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        upstreams: [
          {
            name: 'weighted',
            targets: [
              { target: a.address, weight: 300 },
              { target: `localhost:${b.port}`, weight: 100 },
              { target: c.address, weight: 0 },
            ],
          },
          {
            name: 'least',
            algorithm: 'least-connections',
            targets: [{ target: slow.address }, { target: fast.address }],
          },
          { name: 'flaky', targets: [{ target: `127.0.0.1:${deadPort}` }, { target: fast.address }] },
          { name: 'named', host_header: 'backend.example', targets: [{ target: a.address }] },
        ],
        services: [
          { name: 'weighted', host: 'weighted', routes: [{ name: 'weighted', paths: ['/weighted'] }] },
          {
            name: 'preserved',
            host: 'weighted',
            routes: [{ name: 'preserved', paths: ['/preserved'], preserve_host: true }],
          },
          { name: 'least', host: 'least', routes: [{ name: 'least', paths: ['/least'] }] },
          { name: 'flaky', host: 'flaky', retries: 3, routes: [{ name: 'flaky', paths: ['/flaky'] }] },
          { name: 'named', host: 'named', routes: [{ name: 'named', paths: ['/named'] }] },
        ],
        routes: [
          {
            name: 'page',
            paths: ['/page'],
            composition: {
              parts: [
                { name: 'one', service: 'weighted', path: '/json', public: true },
                { name: 'two', service: 'weighted', path: '/json', public: true },
              ],
            },
          },
        ],
      },
    })
  })

  after(async () => {
    await gh?.stop()
    for (const t of [a, b, c, slow, fast]) await t?.stop()
  })

  it('spreads requests by weight with round-robin and never sends any to a target of weight 0', async () => {
    const seen: string[] = []
    for (let i = 0; i < 40; i++) seen.push(await (await gh.proxy('/weighted')).text())
    assert.equal(seen.filter((s) => s === 'a').length, 30)
    assert.equal(seen.filter((s) => s === 'b').length, 10)
    assert.equal(c.hits, 0)
    // Smooth round-robin interleaves the heavy target instead of sending it three in a row.
    assert.deepEqual(seen.slice(0, 4).sort(), ['a', 'a', 'a', 'b'])
    assert.notDeepEqual(seen.slice(0, 4), ['a', 'a', 'a', 'b'])
  })

  it("sends each target its own host:port as Host, the upstream's host_header instead when set, or the client's with preserve_host", async () => {
    for (let i = 0; i < 4; i++) await gh.proxy('/weighted')
    assert.equal(b.lastHost, `localhost:${b.port}`)
    assert.equal(a.lastHost, a.address)
    await gh.proxy('/named')
    assert.equal(a.lastHost, 'backend.example')
    for (let i = 0; i < 4; i++)
      await rawRequest(`${gh.proxyUrl}/preserved`, { headers: { host: 'shop.example' } })
    assert.equal(a.lastHost, 'shop.example')
    assert.equal(b.lastHost, 'shop.example')
  })

  it('sends the next request to the idle target with least-connections while the other is busy', async () => {
    slow.mode = 'hold'
    const pending: Promise<Response>[] = []
    // Ties alternate, so one of the first two requests lands on the holding target and stays there.
    await until(
      async () => {
        pending.push(gh.proxy('/least'))
        await until(() => slow.hits + fast.hits === pending.length, 2000, 'the request arrives')
        return slow.hits === 1
      },
      3000,
      'a request held by the slow target',
    )
    const before = fast.hits
    for (let i = 0; i < 10; i++) assert.equal(await (await gh.proxy('/least')).text(), 'fast')
    assert.equal(fast.hits - before, 10)
    assert.equal(slow.hits, 1)
    slow.release()
    for (const r of await Promise.all(pending)) assert.equal(r.status, 200)
    slow.mode = 'ok'
  })

  it("balances a composition route's parts over the targets of their service's upstream", async () => {
    const parts: string[] = []
    for (let i = 0; i < 4; i++) {
      const res = await gh.proxy('/page')
      assert.equal(res.status, 200)
      const body = (await res.json()) as { one: string; two: string }
      parts.push(body.one, body.two)
    }
    assert.deepEqual([parts.filter((p) => p === 'a').length, parts.filter((p) => p === 'b').length], [6, 2])
    assert.equal(c.hits, 0)
  })

  it('retries an idempotent request on another target when the first refuses the connection', async () => {
    const before = fast.hits
    for (let i = 0; i < 10; i++) {
      const res = await gh.proxy('/flaky')
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'fast')
    }
    assert.equal(fast.hits - before, 10)
  })
})
