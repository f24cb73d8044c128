import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { request } from 'node:http'
import { createServer, type Server } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { rawRequest } from '../harness/http.ts'
import { trackServer } from '../harness/resources.ts'
import { closedPort, startUpstream, type Upstream } from '../harness/upstream.ts'

interface ErrorBody {
  message: string
  code: string
  statusCode: number
  request_id: string
}

describe('upstream failures become clear 5xx answers, and client aborts reach the upstream', () => {
  let up: Upstream
  let garbage: Server
  let gh: GatehouseProcess
  let upstreamSawClose: Promise<void>
  let markClosed: () => void = () => {}

  before(async () => {
    upstreamSawClose = new Promise((resolve) => {
      markClosed = resolve
    })
    up = await startUpstream((req, res) => {
      const path = req.url ?? '/'
      if (path.startsWith('/slow-headers')) {
        setTimeout(() => res.end('late'), 3000).unref()
        return
      }
      if (path.startsWith('/hang')) {
        req.socket.once('close', () => markClosed())
        return
      }
      if (path.startsWith('/reset-mid-body')) {
        res.writeHead(200, { 'content-length': '100000' })
        res.write(Buffer.alloc(1000))
        setTimeout(() => req.socket.destroy(), 50)
        return
      }
      if (path.startsWith('/no-read')) {
        req.pause() // never reads the body: the gateway's writes stall
        return
      }
      req.resume()
      req.on('end', () => res.end('ok'))
    })
    garbage = createServer((socket) => {
      socket.once('data', () => socket.end('THIS IS NOT HTTP\r\n\r\n'))
    })
    trackServer('garbage', garbage)
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve))
    const garbagePort = (garbage.address() as { port: number }).port
    const deadPort = await closedPort()
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'dead',
            url: `http://127.0.0.1:${deadPort}`,
            retries: 2,
            routes: [{ name: 'dead', paths: ['/dead'] }],
          },
          {
            name: 'garbage',
            url: `http://127.0.0.1:${garbagePort}`,
            routes: [{ name: 'garbage', paths: ['/garbage'] }],
          },
          {
            name: 'live',
            url: up.url,
            read_timeout: 500,
            write_timeout: 500,
            routes: [{ name: 'live', paths: ['/'], strip_path: false }],
          },
          { name: 'off', url: up.url, enabled: false, routes: [{ name: 'off', paths: ['/off'] }] },
        ],
        routes: [{ name: 'serviceless', paths: ['/nowhere'] }],
      },
    })
  })
  after(async () => {
    await gh.stop()
    await up.close()
    await new Promise<void>((resolve) => garbage.close(() => resolve()))
  })

  async function expectError(
    path: string,
    status: number,
    code: string,
    init: Parameters<typeof rawRequest>[1] = {},
  ) {
    const id = randomUUID()
    const res = await rawRequest(gh.proxyUrl + path, { ...init, headers: { 'x-request-id': id } })
    assert.equal(res.status, status, res.body)
    const body = JSON.parse(res.body) as ErrorBody
    assert.equal(body.code, code)
    assert.equal(body.statusCode, status)
    assert.equal(body.request_id, id)
    return { body, line: await gh.waitForLog((l) => l.type === 'access' && l.request_id === id) }
  }

  it('answers 502 when the upstream refuses connections, after retrying an idempotent request', async () => {
    const { body, line } = await expectError('/dead', 502, 'GH_ERR_UPSTREAM_UNAVAILABLE')
    assert.equal(body.message, 'An invalid response was received from the upstream server')
    assert.equal(line.attempts, 3, 'retries: 2 means three attempts')
    assert.equal(line.error_code, 'GH_ERR_UPSTREAM_UNAVAILABLE')
  })

  it('retries a request with a body too when the connection was refused: nothing of it reached the upstream', async () => {
    const { line } = await expectError('/dead', 502, 'GH_ERR_UPSTREAM_UNAVAILABLE', {
      method: 'POST',
      body: 'x',
    })
    assert.equal(line.attempts, 3, 'retries: 2 means three attempts')
  })

  it('answers 502 with its own code when the upstream does not speak HTTP', async () => {
    await expectError('/garbage', 502, 'GH_ERR_UPSTREAM_INVALID_RESPONSE')
  })

  it('answers 504 when response headers do not arrive within read_timeout', async () => {
    const { body } = await expectError('/slow-headers', 504, 'GH_ERR_UPSTREAM_TIMEOUT')
    assert.equal(body.message, 'The upstream server is timing out')
  })

  it('answers 504 when the upstream stops reading the request body for write_timeout', async () => {
    await expectError('/no-read', 504, 'GH_ERR_UPSTREAM_TIMEOUT', {
      method: 'PUT',
      body: Buffer.alloc(32 * 1024 * 1024),
    })
  })

  it('answers 408 when the client stops sending its body for write_timeout', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${gh.proxyUrl}/upload`,
        { method: 'POST', headers: { 'content-length': '1000' } },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      req.write('only part of the body') // and then nothing more
    })
    assert.equal(status, 408)
  })

  it('breaks the client connection when the upstream dies in the middle of a body', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = request(`${gh.proxyUrl}/reset-mid-body`, (res) => {
        assert.equal(res.statusCode, 200)
        res.on('data', () => {})
        res.on('end', () => resolve('complete'))
        res.on('error', () => resolve('aborted'))
        res.on('aborted', () => resolve('aborted'))
      })
      req.on('error', () => resolve('aborted'))
      req.end()
    })
    assert.equal(outcome, 'aborted', 'a truncated body must not look complete')
  })

  it('cancels the upstream request when the client goes away', async () => {
    const req = request(`${gh.proxyUrl}/hang`)
    req.on('error', () => {})
    req.end()
    await sleep(200)
    req.destroy()
    await upstreamSawClose
    const line = await gh.waitForLog((l) => l.type === 'access' && l.path === '/hang')
    assert.equal(line.status, 499)
  })

  it('answers 503 for a disabled service and for a route without a service', async () => {
    await expectError('/off', 503, 'GH_ERR_SERVICE_DISABLED')
    const { body } = await expectError('/nowhere', 503, 'GH_ERR_ROUTE_NO_SERVICE')
    assert.equal(body.message, 'no Service found with those values')
  })
})
