import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('the request-id plugin', () => {
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
              { name: 'default', paths: ['/default'], plugins: [{ name: 'request-id' }] },
              {
                name: 'custom',
                paths: ['/custom'],
                plugins: [{ name: 'request-id', config: { header_name: 'X-Correlation-ID' } }],
              },
              {
                name: 'quiet',
                paths: ['/quiet'],
                plugins: [{ name: 'request-id', config: { echo_downstream: false } }],
              },
            ],
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
    const body = (await res.json()) as EchoBody
    return { res, body }
  }

  /** The access-log line of the request the upstream saw with this id. */
  const accessLine = (id: string) => gh.waitForLog((l) => l.type === 'access' && l.request_id === id)

  it('generates an id when none comes in, sends it upstream, echoes it and logs it', async () => {
    const { res, body } = await call('/default')
    const id = body.headers['x-request-id'] as string
    assert.match(id, UUID)
    assert.equal(res.headers.get('x-request-id'), id)
    assert.equal((await accessLine(id)).path, '/default')
  })

  it('generates a different id for every request', async () => {
    const first = (await call('/default')).body.headers['x-request-id']
    const second = (await call('/default')).body.headers['x-request-id']
    assert.notEqual(first, second)
  })

  it('keeps a well-formed incoming X-Request-ID', async () => {
    const incoming = 'req-2024.abc_DEF:42'
    const { res, body } = await call('/default', { 'x-request-id': incoming })
    assert.equal(body.headers['x-request-id'], incoming)
    assert.equal(res.headers.get('x-request-id'), incoming)
    await accessLine(incoming)
  })

  it('replaces an incoming id that contains spaces', async () => {
    const { res, body } = await call('/default', { 'x-request-id': 'has a space' })
    const id = body.headers['x-request-id'] as string
    assert.match(id, UUID)
    assert.equal(res.headers.get('x-request-id'), id)
    await accessLine(id)
  })

  it('replaces an incoming id longer than 200 characters', async () => {
    const { res, body } = await call('/default', { 'x-request-id': 'a'.repeat(300) })
    const id = body.headers['x-request-id'] as string
    assert.match(id, UUID)
    assert.equal(res.headers.get('x-request-id'), id)
  })

  it('sends the id upstream under a custom header_name too, and echoes it under that name', async () => {
    const { res, body } = await call('/custom', { 'x-request-id': 'corr-1' })
    assert.equal(body.headers['x-correlation-id'], 'corr-1')
    assert.equal(body.headers['x-request-id'], 'corr-1')
    assert.equal(res.headers.get('x-correlation-id'), 'corr-1')
    assert.equal(res.headers.get('x-request-id'), null)
    await accessLine('corr-1')
  })

  it('uses the same generated id under a custom header_name, upstream, to the client and in the log', async () => {
    const { res, body } = await call('/custom')
    const id = body.headers['x-correlation-id'] as string
    assert.match(id, UUID)
    assert.equal(body.headers['x-request-id'], id)
    assert.equal(res.headers.get('x-correlation-id'), id)
    await accessLine(id)
  })

  it('does not echo the id to the client when echo_downstream is off, but still sends it upstream', async () => {
    const { res, body } = await call('/quiet')
    assert.match(body.headers['x-request-id'] as string, UUID)
    assert.equal(res.headers.get('x-request-id'), null)
  })
})
