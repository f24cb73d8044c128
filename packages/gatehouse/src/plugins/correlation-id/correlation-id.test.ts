/**
 * correlation-id through the real gateway: Kong's header, generators and echo_downstream, the incoming id
 * kept, the id in the access log as `correlation_id`, and its relation to the gateway's request id.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { closedPort, type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
const UUID_COUNTER = new RegExp(`^(${UUID})#(\\d+)$`)
const TRACKER = /^127\.0\.0\.1-\d+-\d+-\d+-\d+-\d{10}\.\d{3}$/

const correlated = (name: string, config: object, extra: object[] = []) => ({
  name,
  paths: [`/${name}`],
  plugins: [{ name: 'correlation-id', config }, ...extra],
})

describe('the correlation-id plugin', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              correlated('counter', {}),
              correlated('uuid', { generator: 'uuid', echo_downstream: true }),
              correlated('tracker', { generator: 'tracker', header_name: 'X-Trace-Me' }),
              correlated('adopt', { header_name: 'X-Request-ID', echo_downstream: true }),
              correlated('both', { echo_downstream: true }, [
                { name: 'request-id', config: { header_name: 'X-Gateway-Request-ID' } },
              ]),
            ],
          },
          {
            name: 'down',
            url: `http://127.0.0.1:${await closedPort()}`,
            routes: [correlated('down', { echo_downstream: true })],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  async function call(path: string, headers: Record<string, string> = {}) {
    const res = await gh.proxy(path, { headers })
    assert.equal(res.status, 200)
    return { res, seen: ((await res.json()) as EchoBody).headers }
  }

  it('generates a uuid#counter id in Kong-Request-ID by default, counting up, without echoing it', async () => {
    const first = await call('/counter')
    const second = await call('/counter')
    const a = UUID_COUNTER.exec(first.seen['kong-request-id'] as string)
    const b = UUID_COUNTER.exec(second.seen['kong-request-id'] as string)
    assert.ok(a && b, `${first.seen['kong-request-id']}`)
    assert.equal(a[1], b[1], 'one UUID per gateway process')
    assert.equal(Number(b[2]), Number(a[2]) + 1)
    assert.equal(first.res.headers.get('kong-request-id'), null)
  })

  it("keeps the client's id, and logs it as correlation_id beside the gateway's own request id", async () => {
    const { seen } = await call('/counter', { 'kong-request-id': 'foobar' })
    assert.equal(seen['kong-request-id'], 'foobar')
    const line = await gh.waitForLog((l) => l.type === 'access' && l.correlation_id === 'foobar')
    assert.equal(line.request_id, seen['x-request-id'])
    assert.notEqual(line.request_id, 'foobar')
  })

  it('replaces a blank incoming id', async () => {
    for (const blank of ['', ' ']) {
      const { seen } = await call('/counter', { 'kong-request-id': blank })
      assert.match(seen['kong-request-id'] as string, UUID_COUNTER)
    }
  })

  it('echoes the id it sent upstream with echo_downstream, a new uuid each time', async () => {
    const first = await call('/uuid')
    const id = first.seen['kong-request-id'] as string
    assert.match(id, new RegExp(`^${UUID}$`))
    assert.equal(first.res.headers.get('kong-request-id'), id)
    const second = await call('/uuid')
    assert.notEqual(second.seen['kong-request-id'], id)
    assert.equal(
      (await call('/uuid', { 'kong-request-id': 'mine' })).res.headers.get('kong-request-id'),
      'mine',
    )
  })

  it('echoes the id on an error the gateway answers itself (upstream down)', async () => {
    const res = await gh.proxy('/down', { headers: { 'kong-request-id': 'when-down' } })
    assert.equal(res.status, 502)
    assert.equal(res.headers.get('kong-request-id'), 'when-down')
    const generated = await gh.proxy('/down')
    assert.match(generated.headers.get('kong-request-id') ?? '', UUID_COUNTER)
  })

  it("makes tracker ids in Kong's format under a custom header", async () => {
    const first = (await call('/tracker')).seen['x-trace-me'] as string
    const second = (await call('/tracker')).seen['x-trace-me'] as string
    assert.match(first, TRACKER)
    assert.match(second, TRACKER)
    assert.notEqual(first, second)
  })

  it("adopts the gateway's request id when its header is X-Request-ID, so the upstream gets one id", async () => {
    const kept = await call('/adopt', { 'x-request-id': 'req-42' })
    assert.equal(kept.seen['x-request-id'], 'req-42')
    assert.equal(kept.res.headers.get('x-request-id'), 'req-42')
    const replaced = await call('/adopt', { 'x-request-id': 'has a space' })
    const id = replaced.seen['x-request-id'] as string
    assert.match(id, new RegExp(`^${UUID}$`))
    assert.equal(replaced.res.headers.get('x-request-id'), id)
    const line = await gh.waitForLog((l) => l.type === 'access' && l.request_id === id)
    assert.equal(line.correlation_id, id)
  })

  it('runs beside request-id: two ids, each in its own header, both echoed', async () => {
    const { res, seen } = await call('/both')
    const correlation = seen['kong-request-id'] as string
    const requestId = seen['x-gateway-request-id'] as string
    assert.match(correlation, UUID_COUNTER)
    assert.match(requestId, new RegExp(`^${UUID}$`))
    assert.equal(res.headers.get('kong-request-id'), correlation)
    assert.equal(res.headers.get('x-gateway-request-id'), requestId)
  })
})
