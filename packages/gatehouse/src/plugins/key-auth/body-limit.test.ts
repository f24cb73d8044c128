/**
 * key_in_body and the one bound on bodies the gateway reads (proxy.max_buffered_body_size): a body
 * key-auth must read and Content-Length announces too large is a 413 before any plugin runs, before a
 * byte of it is read and before the upstream is called, as a chunked one is once it grows past the
 * bound; bodies key-auth does not need stream through whatever their size. Raw sockets show what is
 * (not) read; a recording upstream shows what was (not) forwarded.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import {
  portOf,
  type RecordingUpstream,
  send,
  startRecordingUpstream,
} from '../../../test/harness/raw-socket.ts'

const LIMIT = 4096
const KEY = 'bob-body-key'
const FORM = 'content-type: application/x-www-form-urlencoded\r\n'

describe('the body limit of key_in_body (proxy.max_buffered_body_size)', () => {
  let up: RecordingUpstream
  let gh: GatehouseProcess
  let port: number

  before(async () => {
    up = await startRecordingUpstream()
    const keyAuth = (name: string, extra: object = {}) => ({
      name,
      paths: [`/${name}`],
      plugins: [{ name: 'key-auth', config: { key_in_body: true, ...extra } }],
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        proxy: { max_buffered_body_size: LIMIT },
        services: [
          {
            name: 'svc',
            url: up.url,
            routes: [
              keyAuth('body'),
              keyAuth('anon', { anonymous: 'guest' }),
              // jwt (priority 1450) runs before key-auth (1250) and would answer 401 first.
              {
                name: 'jwt-first',
                paths: ['/jwt-first'],
                plugins: [{ name: 'key-auth', config: { key_in_body: true } }, { name: 'jwt' }],
              },
            ],
          },
        ],
        consumers: [{ username: 'bob', keyauth_credentials: [{ key: KEY }] }, { username: 'guest' }],
      },
    })
    port = portOf(gh.proxyUrl)
  })

  after(async () => {
    await gh?.stop()
    await up?.close()
  })

  /** A form POST's head announcing `length` bytes, with extra header lines. */
  const head = (path: string, length: number, extra = '') =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\n${FORM}content-length: ${length}\r\n${extra}\r\n`

  function envelope(body: string): { code: string; message: string } {
    return JSON.parse(body) as { code: string; message: string }
  }

  it('answers 413 from Content-Length alone: no byte of the body is sent, and the upstream is not called', async () => {
    up.reset()
    // Only the head goes out: a gateway that waited for the body would never answer.
    const x = await send(port, head('/body', LIMIT + 1), { responses: 1 })
    assert.equal(x.responses[0]!.status, 413)
    const body = envelope(x.responses[0]!.body)
    assert.equal(body.code, 'GH_ERR_REQUEST_BODY_TOO_LARGE')
    assert.match(body.message, new RegExp(`larger than ${LIMIT} bytes`))
    assert.deepEqual(up.requests, [])
  })

  it('answers the 413 before a plugin that runs earlier (jwt) can answer 401', async () => {
    const small = await send(port, `${head('/jwt-first', 5)}a=b&c`, { responses: 1 })
    assert.equal(small.responses[0]!.status, 401, 'jwt refuses a small body without a token')
    const big = await send(port, head('/jwt-first', LIMIT + 1), { responses: 1 })
    assert.equal(big.responses[0]!.status, 413)
    assert.equal(envelope(big.responses[0]!.body).code, 'GH_ERR_REQUEST_BODY_TOO_LARGE')
  })

  it('answers 413 with anonymous set too, when key-auth comes to read the body, before the upstream', async () => {
    up.reset()
    const x = await send(port, head('/anon', LIMIT + 1), { responses: 1 })
    assert.equal(x.responses[0]!.status, 413)
    assert.deepEqual(up.requests, [])
  })

  it('reads a body at the limit and finds the key in it', async () => {
    up.reset()
    const form = `apikey=${KEY}&pad=`.padEnd(LIMIT, 'x')
    const x = await send(port, `${head('/body', form.length, 'connection: close\r\n')}${form}`)
    assert.equal(x.responses[0]!.status, 200)
    assert.equal(up.requests[0]!.body, form)
    assert.equal(up.requests[0]!.headers['x-consumer-username'], 'bob')
  })

  it('streams a body over the limit unread when the key is in a header', async () => {
    up.reset()
    const form = 'pad='.padEnd(LIMIT * 4, 'x')
    const x = await send(
      port,
      `${head('/body', form.length, `apikey: ${KEY}\r\nconnection: close\r\n`)}${form}`,
    )
    assert.equal(x.responses[0]!.status, 200)
    assert.equal(up.requests[0]!.body.length, form.length)
  })

  it('answers 413 to a chunked body once it grows past the limit, drops the rest, and serves the next request', async () => {
    up.reset()
    const chunk = 'x'.repeat(LIMIT)
    const size = chunk.length.toString(16)
    const bytes =
      `POST /body HTTP/1.1\r\nHost: x\r\n${FORM}transfer-encoding: chunked\r\n\r\n` +
      // 1 MiB in all: far more than the stream and socket buffers hold, so an unread rest would stall.
      `${size}\r\n${chunk}\r\n`.repeat(256) +
      '0\r\n\r\n' +
      `GET /body HTTP/1.1\r\nHost: x\r\napikey: ${KEY}\r\nconnection: close\r\n\r\n`
    const x = await send(port, bytes)
    assert.deepEqual(
      x.responses.map((r) => r.status),
      [413, 200],
    )
    assert.equal(envelope(x.responses[0]!.body).code, 'GH_ERR_REQUEST_BODY_TOO_LARGE')
    assert.deepEqual(
      up.requests.map((r) => r.method),
      ['GET'],
    )
  })

  it('drops the unread body after the 413 and serves the next request on the connection: the body is never parsed as a request', async () => {
    up.reset()
    const hidden = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'.padEnd(LIMIT + 1, ' ')
    const next = `POST /body HTTP/1.1\r\nHost: x\r\n${FORM}content-length: ${7 + KEY.length}\r\nconnection: close\r\n\r\napikey=${KEY}`
    const x = await send(port, `${head('/body', hidden.length)}${hidden}${next}`)
    assert.deepEqual(
      x.responses.map((r) => r.status),
      [413, 200],
    )
    // strip_path: the route's /body arrives as /; the hidden /smuggled never arrives.
    assert.deepEqual(
      up.requests.map((r) => [r.url, r.body]),
      [['/', `apikey=${KEY}`]],
    )
  })

  it('logs the 413 with its code', async () => {
    await send(port, head('/body', LIMIT + 10), { responses: 1 })
    const line = await gh.waitForLog((l) => l.type === 'access' && l.route === 'body' && l.status === 413)
    assert.equal(line.error_code, 'GH_ERR_REQUEST_BODY_TOO_LARGE')
  })
})
