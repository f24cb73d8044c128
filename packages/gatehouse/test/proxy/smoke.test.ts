import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { type EchoBody, serviceConfig, startUpstream, type Upstream } from '../harness/upstream.ts'

describe('the proxy in front of one upstream', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({ config: serviceConfig(upstream.url, [{ name: 'api', paths: ['/api'] }]) })
  })
  after(async () => {
    await gh.stop()
    await upstream.close()
  })

  it('forwards a matching request with the prefix stripped and the query kept', async () => {
    const res = await gh.proxy('/api/items?x=1')
    assert.equal(res.status, 200)
    const body = (await res.json()) as EchoBody
    assert.equal(body.url, '/items?x=1')
  })

  it("answers 404 with Kong's message when no route matches", async () => {
    const res = await gh.proxy('/nothing-here')
    assert.equal(res.status, 404)
    const body = (await res.json()) as { message: string; code: string }
    assert.equal(body.message, 'no Route matched with those values')
    assert.equal(body.code, 'GH_ERR_ROUTE_NOT_FOUND')
  })
})
