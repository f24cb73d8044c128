/**
 * request-size-limiting through the real gateway, on raw sockets (the framing is the point): Kong's 413
 * and 417 from Content-Length before the body is read, 411 with require_content_length, units, and a
 * chunked body counted as it streams: cut off before the upstream gets the byte over the limit, with the
 * connection kept for the next request. A recording upstream shows what was (not) forwarded.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertErrorBody } from '../../../test/harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import {
  type ParsedResponse,
  portOf,
  type RecordingUpstream,
  send,
  startRecordingUpstream,
} from '../../../test/harness/raw-socket.ts'

const LIMIT = 2048 // 2 kilobytes

describe('the request-size-limiting plugin', () => {
  let up: RecordingUpstream
  let gh: GatehouseProcess
  let port: number
  before(async () => {
    up = await startRecordingUpstream()
    const limited = (name: string, config: object) => ({
      name,
      paths: [`/${name}`],
      plugins: [{ name: 'request-size-limiting', config }],
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: up.url,
            routes: [
              limited('limit', { allowed_payload_size: 2, size_unit: 'kilobytes' }),
              limited('bytes', { allowed_payload_size: 10, size_unit: 'bytes' }),
              limited('megabytes', { allowed_payload_size: 1 }),
              limited('required', {
                allowed_payload_size: 2,
                size_unit: 'kilobytes',
                require_content_length: true,
              }),
            ],
          },
        ],
      },
    })
    port = portOf(gh.proxyUrl)
  })
  after(async () => {
    await gh?.stop()
    await up?.close()
  })

  const head = (path: string, length: number, extra = '') =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\ncontent-length: ${length}\r\n${extra}\r\n`
  const chunked = (path: string, chunks: number[], extra = '') =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n${extra}\r\n` +
    chunks.map((n) => `${n.toString(16)}\r\n${'a'.repeat(n)}\r\n`).join('') +
    '0\r\n\r\n'
  const asAnswer = (r: ParsedResponse) => ({ status: r.status, headers: r.headers, body: r.body })

  it('forwards a body of exactly the allowed size', async () => {
    up.reset()
    const x = await send(port, `${head('/limit', LIMIT, 'connection: close\r\n')}${'a'.repeat(LIMIT)}`)
    assert.equal(x.responses[0]!.status, 200)
    assert.equal(up.requests[0]!.body.length, LIMIT)
  })

  it("answers Kong's 413 from Content-Length alone: no byte of the body is needed, the upstream is not called", async () => {
    up.reset()
    const x = await send(port, head('/limit', LIMIT + 1), { responses: 1 })
    const res = x.responses[0]!
    assert.equal(res.status, 413)
    assertErrorBody(asAnswer(res), {
      kong: { message: 'Request size limit exceeded' },
      code: 'GH_ERR_REQUEST_SIZE_LIMIT_EXCEEDED',
    })
    assert.deepEqual(up.requests, [])
    const line = await gh.waitForLog((l) => l.type === 'access' && l.route === 'limit' && l.status === 413)
    assert.equal(line.error_code, 'GH_ERR_REQUEST_SIZE_LIMIT_EXCEEDED')
  })

  it('answers 417 instead to a client that waits to send its body (Expect: 100-continue), as Kong does', async () => {
    up.reset()
    const x = await send(port, head('/limit', LIMIT + 1, 'expect: 100-continue\r\n'), { responses: 1 })
    assert.equal(x.responses[0]!.status, 417)
    assert.equal(JSON.parse(x.responses[0]!.body).message, 'Request size limit exceeded')
    assert.deepEqual(up.requests, [])
  })

  it('measures in the configured unit: bytes, kilobytes and (binary) megabytes', async () => {
    const statusOf = async (path: string, length: number) =>
      (await send(port, head(path, length), { responses: 1 })).responses[0]!.status
    assert.equal(await statusOf('/bytes', 11), 413)
    assert.equal(
      (await send(port, `${head('/bytes', 10, 'connection: close\r\n')}${'a'.repeat(10)}`)).responses[0]!
        .status,
      200,
    )
    assert.equal(await statusOf('/megabytes', 1_048_577), 413)
    assert.equal(await statusOf('/limit', 2049), 413)
  })

  it('forwards a chunked body within the limit whole', async () => {
    up.reset()
    const x = await send(port, chunked('/limit', [1000, 1000, 48], 'connection: close\r\n'))
    assert.equal(x.responses[0]!.status, 200)
    assert.equal(up.requests[0]!.body.length, LIMIT)
    assert.ok(up.requests[0]!.complete)
  })

  it('cuts a chunked body off at the limit: 413, the upstream never gets it whole, the connection serves the next request', async () => {
    up.reset()
    // 1 MiB in all: far more than the socket buffers hold, so an unread rest would stall the connection.
    const bytes =
      chunked('/limit', new Array(256).fill(4096)) +
      'GET /limit HTTP/1.1\r\nHost: x\r\nconnection: close\r\n\r\n'
    const x = await send(port, bytes)
    assert.deepEqual(
      x.responses.map((r) => r.status),
      [413, 200],
    )
    assertErrorBody(asAnswer(x.responses[0]!), {
      kong: { message: 'Request size limit exceeded' },
      code: 'GH_ERR_REQUEST_SIZE_LIMIT_EXCEEDED',
    })
    const posts = up.requests.filter((r) => r.method === 'POST')
    for (const post of posts) {
      assert.equal(post.complete, false, 'the upstream never receives the whole over-limit body')
      assert.ok(post.body.length <= LIMIT, `the upstream got ${post.body.length} bytes`)
    }
    assert.deepEqual(
      up.requests.filter((r) => r.method === 'GET').map((r) => r.complete),
      [true],
    )
  })

  it('answers 417 to an over-limit chunked body sent after Expect: 100-continue', async () => {
    const x = await send(
      port,
      chunked('/limit', [2000, 2000], 'expect: 100-continue\r\nconnection: close\r\n'),
    )
    assert.deepEqual(
      x.responses.map((r) => r.status),
      [100, 417],
    )
  })

  it("requires Content-Length with require_content_length (Kong's 411), except for a chunked body", async () => {
    const x = await send(port, 'GET /required HTTP/1.1\r\nHost: x\r\n\r\n', { responses: 1 })
    assert.equal(x.responses[0]!.status, 411)
    assertErrorBody(asAnswer(x.responses[0]!), {
      kong: { message: 'A valid Content-Length header is required' },
      code: 'GH_ERR_REQUEST_LENGTH_REQUIRED',
    })
    assert.equal((await send(port, head('/required', 0), { responses: 1 })).responses[0]!.status, 200)
    assert.equal((await send(port, chunked('/required', [10]), { responses: 1 })).responses[0]!.status, 200)
    assert.equal((await send(port, chunked('/required', [2049]), { responses: 1 })).responses[0]!.status, 413)
  })
})
