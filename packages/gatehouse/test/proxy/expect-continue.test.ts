/**
 * `Expect: 100-continue` through the real process: the gateway says 100 Continue only when it is about
 * to read the body (forwarding it, or a plugin reading it), so a request it refuses first — a body too
 * large to read (413), no credential (401) — never invites the body, and its connection closes after the
 * answer. The upstream is never asked to send 100 itself: Expect is not forwarded.
 */
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import {
  type ParsedResponse,
  parseResponses,
  portOf,
  type RecordingUpstream,
  startRecordingUpstream,
} from '../harness/raw-socket.ts'
import { register } from '../harness/resources.ts'

const LIMIT = 4096
const KEY = 'carol-continue-key'

interface ContinueExchange {
  /** Every response read, 100 Continue included, in order. */
  responses: ParsedResponse[]
  /** Whether the body was sent (only after a 100 Continue). */
  bodySent: boolean
  closed: boolean
}

/**
 * Sends `head`, then `body` only once 100 Continue arrives, as a client that expects it does; reads until
 * a final response and the gateway's close, or a final response and `keepOpen`.
 */
function exchange(port: number, head: string, body: string): Promise<ContinueExchange> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1')
    const release = register('socket', () => socket.destroy())
    let received = Buffer.alloc(0)
    let bodySent = false
    const finish = (closed: boolean) => {
      clearTimeout(timer)
      release()
      socket.destroy()
      resolve({ responses: parseResponses(received).responses, bodySent, closed })
    }
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no final answer within 10 s:\n${received.toString('latin1')}`))
    }, 10_000)
    socket.once('connect', () => socket.write(head))
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      const { responses } = parseResponses(received)
      if (!bodySent && responses[0]?.status === 100) {
        bodySent = true
        socket.write(body)
      }
      // A final answer to a request whose body was sent ends the exchange; a refused one waits for the close.
      if (bodySent && responses.some((r) => r.status >= 200)) finish(false)
    })
    socket.once('close', () => finish(true))
    socket.on('error', () => {})
  })
}

const post = (path: string, length: number, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: ${length}\r\nexpect: 100-continue\r\n${extra}\r\n`

describe('Expect: 100-continue at the proxy', () => {
  let up: RecordingUpstream
  let gh: GatehouseProcess
  let port: number

  before(async () => {
    up = await startRecordingUpstream()
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        proxy: { max_buffered_body_size: LIMIT },
        services: [
          {
            name: 'svc',
            url: up.url,
            routes: [
              { name: 'open', paths: ['/open'] },
              { name: 'keyed', paths: ['/keyed'], plugins: [{ name: 'key-auth' }] },
              {
                name: 'body',
                paths: ['/body'],
                plugins: [{ name: 'key-auth', config: { key_in_body: true } }],
              },
            ],
          },
        ],
        consumers: [{ username: 'carol', keyauth_credentials: [{ key: KEY }] }],
      },
    })
    port = portOf(gh.proxyUrl)
  })

  after(async () => {
    await gh?.stop()
    await up?.close()
  })

  it('says 100 Continue when it forwards the body, and does not pass Expect on', async () => {
    up.reset()
    const x = await exchange(port, post('/open', 5), 'hello')
    assert.deepEqual(
      x.responses.map((r) => r.status),
      [100, 200],
    )
    assert.equal(up.requests.length, 1)
    assert.equal(up.requests[0]!.body, 'hello')
    assert.equal(up.requests[0]!.headers.expect, undefined)
  })

  it('says 100 Continue when a plugin reads the body, and authenticates by it', async () => {
    up.reset()
    const form = `apikey=${KEY}`
    const x = await exchange(port, post('/body', form.length), form)
    assert.deepEqual(
      x.responses.map((r) => r.status),
      [100, 200],
    )
    assert.equal(up.requests.length, 1)
  })

  it('answers 413 for a body too large to read without inviting it, and closes the connection', async () => {
    up.reset()
    const x = await exchange(port, post('/body', LIMIT + 1), 'x'.repeat(LIMIT + 1))
    assert.equal(x.bodySent, false, 'no 100 Continue came')
    assert.deepEqual(
      x.responses.map((r) => r.status),
      [413],
    )
    assert.equal(JSON.parse(x.responses[0]!.body).code, 'GH_ERR_REQUEST_BODY_TOO_LARGE')
    assert.equal(x.closed, true)
    assert.equal(up.requests.length, 0)
  })

  it('answers 401 to a request without its key without inviting the body', async () => {
    up.reset()
    const x = await exchange(port, post('/keyed', 5), 'hello')
    assert.equal(x.bodySent, false, 'no 100 Continue came')
    assert.deepEqual(
      x.responses.map((r) => r.status),
      [401],
    )
    assert.equal(x.closed, true)
    assert.equal(up.requests.length, 0)
  })
})
