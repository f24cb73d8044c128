/**
 * Request smuggling through the real gateway, byte by byte on a raw socket: every way a client can make
 * the gateway and the upstream disagree about where a request ends (RFC 9112 §6.3: Content-Length with
 * Transfer-Encoding, duplicate or malformed lengths, obfuscated codings, bad chunks, pipelining, bytes
 * after `Connection: close`) is refused with a coded 4xx/5xx, and a recording upstream proves it never
 * saw a request the client hid. Where Node's parser already refuses a case, the test guards against a
 * parser option or a Node upgrade loosening it.
 */
import assert from 'node:assert/strict'
import { connect as http2Connect } from 'node:http2'
import { after, before, describe, it } from 'node:test'
import type { GatehouseProcess } from '../harness/gatehouse.ts'
import { startGatehouse } from '../harness/gatehouse.ts'
import {
  assertRefused,
  type Exchange,
  portOf,
  type RecordingUpstream,
  send,
  startRecordingUpstream,
} from '../harness/raw-socket.ts'
import { type Issued, Pki, startTlsGatehouse } from '../tls/support.ts'

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'

/** A request for /legit with these extra header lines and body bytes. */
function post(headers: string, body: string, version = '1.1'): string {
  return `POST /legit HTTP/${version}\r\nHost: x\r\n${headers}\r\n${body}`
}

describe('request smuggling on the HTTP/1.1 listener', () => {
  let up: RecordingUpstream
  let gh: GatehouseProcess
  let port: number

  before(async () => {
    up = await startRecordingUpstream((req, socket) => {
      // Broken upstream responses, written as raw bytes.
      if (req.url === '/upstream-cl-te') {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')
        return true
      }
      if (req.url === '/upstream-bad-chunk') {
        socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n')
        return true
      }
      return false
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [{ name: 'svc', url: up.url, routes: [{ name: 'all', paths: ['/'], strip_path: false }] }],
      },
    })
    port = portOf(gh.proxyUrl)
  })

  after(async () => {
    await gh?.stop()
    await up?.close()
  })

  /**
   * Sends `bytes` and reads the answer; then one more request on a fresh connection is answered, so
   * anything the gateway forwarded for `bytes` has reached the upstream before the test looks.
   */
  async function exchange(bytes: string, responses?: number): Promise<Exchange> {
    up.reset()
    const x = await send(port, bytes, responses === undefined ? {} : { responses })
    const sentinel = await gh.proxy('/sentinel')
    assert.equal(sentinel.status, 200)
    await sentinel.body?.cancel()
    const i = up.requests.findIndex((r) => r.url === '/sentinel')
    if (i !== -1) up.requests.splice(i, 1)
    return x
  }

  /** The upstream saw nothing hidden: at most the paths listed, never /smuggled, and no bytes it could not parse. */
  function assertUpstreamSaw(urls: string[]): void {
    assert.deepEqual(
      up.requests.map((r) => r.url),
      urls,
    )
    assert.deepEqual(up.parseErrors, [])
  }

  /**
   * For a body found malformed midway: the upstream saw at most its head and part of its body, then the
   * connection end (which its parser reports as a message cut short, HPE_INVALID_EOF_STATE).
   */
  function assertUpstreamSawNoneComplete(): void {
    assert.ok(up.requests.length <= 1, `at most one request, saw ${up.requests.map((r) => r.url)}`)
    for (const r of up.requests) {
      assert.equal(r.url, '/legit')
      assert.equal(r.complete, false, 'a request whose body is malformed never reaches the upstream whole')
    }
    assert.deepEqual(
      up.parseErrors.filter((e) => e !== 'HPE_INVALID_EOF_STATE'),
      [],
    )
  }

  describe('Content-Length and Transfer-Encoding together (RFC 9112 §6.3)', () => {
    it('refuses Content-Length followed by Transfer-Encoding with 400, and forwards nothing', async () => {
      const x = await exchange(
        post('Content-Length: 6\r\nTransfer-Encoding: chunked\r\n', `0\r\n\r\n${SMUGGLED}`),
      )
      assertRefused(x, 400, 'GH_ERR_REQUEST_INVALID')
      assertUpstreamSaw([])
    })

    it('refuses Transfer-Encoding followed by Content-Length with 400, and forwards nothing', async () => {
      const x = await exchange(
        post('Transfer-Encoding: chunked\r\nContent-Length: 40\r\n', `0\r\n\r\n${SMUGGLED}`),
      )
      assertRefused(x, 400, 'GH_ERR_REQUEST_INVALID')
      assertUpstreamSaw([])
    })
  })

  describe('Content-Length values', () => {
    const cases: [string, string][] = [
      ['two equal Content-Length lines', 'Content-Length: 4\r\nContent-Length: 4\r\n'],
      ['two different Content-Length lines', 'Content-Length: 4\r\nContent-Length: 38\r\n'],
      ['a Content-Length list', 'Content-Length: 4, 4\r\n'],
      ['a signed Content-Length', 'Content-Length: +4\r\n'],
      ['a negative Content-Length', 'Content-Length: -4\r\n'],
      ['a Content-Length with a space inside', 'Content-Length: 3 8\r\n'],
      ['a hexadecimal Content-Length', 'Content-Length: 0x4\r\n'],
      ['a Content-Length past 64 bits', 'Content-Length: 99999999999999999999999\r\n'],
    ]
    for (const [what, headers] of cases) {
      it(`refuses ${what} with 400, and forwards nothing`, async () => {
        const x = await exchange(post(headers, `abcd${SMUGGLED}`))
        assertRefused(x, 400, 'GH_ERR_REQUEST_INVALID')
        assert.match(JSON.parse(x.responses[0]!.body).message, /Content-Length/)
        assertUpstreamSaw([])
      })
    }
  })

  describe('obfuscated Transfer-Encoding', () => {
    // Each has a Content-Length the gateway could fall back to, hiding /smuggled in the chunked body.
    const refused: [string, string, number, string][] = [
      ['`xchunked`', 'Transfer-Encoding: xchunked\r\n', 400, 'GH_ERR_REQUEST_INVALID'],
      ['`chunked, identity`', 'Transfer-Encoding: chunked, identity\r\n', 400, 'GH_ERR_REQUEST_INVALID'],
      ['`identity` alone', 'Transfer-Encoding: identity\r\n', 400, 'GH_ERR_REQUEST_INVALID'],
      ['an empty Transfer-Encoding', 'Transfer-Encoding: \r\n', 400, 'GH_ERR_REQUEST_INVALID'],
      [
        'two Transfer-Encoding lines',
        'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n',
        400,
        'GH_ERR_REQUEST_INVALID',
      ],
      ['a vertical tab before chunked', 'Transfer-Encoding:\x0bchunked\r\n', 400, 'GH_ERR_REQUEST_INVALID'],
      ['a space before the colon', 'Transfer-Encoding : chunked\r\n', 400, 'GH_ERR_REQUEST_INVALID'],
      [
        '`identity, chunked` (chunked last, another coding first)',
        'Transfer-Encoding: identity, chunked\r\n',
        501,
        'GH_ERR_REQUEST_TRANSFER_CODING_UNSUPPORTED',
      ],
      [
        '`gzip, chunked`, a coding the gateway does not decode',
        'Transfer-Encoding: gzip, chunked\r\n',
        501,
        'GH_ERR_REQUEST_TRANSFER_CODING_UNSUPPORTED',
      ],
    ]
    for (const [what, headers, status, code] of refused) {
      it(`refuses ${what} with ${status}, and forwards nothing`, async () => {
        const x = await exchange(post(headers, `0\r\n\r\n${SMUGGLED}`))
        assertRefused(x, status, code)
        assertUpstreamSaw([])
      })
    }

    it('refuses Transfer-Encoding on HTTP/1.0 (RFC 9112 §6.1) with 400, even with a Content-Length', async () => {
      const plain = await exchange(post('Transfer-Encoding: chunked\r\n', `0\r\n\r\n${SMUGGLED}`, '1.0'))
      assertRefused(plain, 400, 'GH_ERR_REQUEST_INVALID')
      assert.match(JSON.parse(plain.responses[0]!.body).message, /HTTP\/1\.0/)
      assertUpstreamSaw([])
      const withLength = await exchange(
        post('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', `0\r\n\r\n${SMUGGLED}`, '1.0'),
      )
      assertRefused(withLength, 400, 'GH_ERR_REQUEST_INVALID')
      assertUpstreamSaw([])
    })

    // Optional whitespace around a value and the case of `chunked` carry no meaning (RFC 9110 §5.6.3,
    // RFC 9112 §7): these are chunked bodies, decoded as such, and the upstream sees the same body.
    const accepted: [string, string][] = [
      ['`chunked ` with a trailing space', 'Transfer-Encoding: chunked \r\n'],
      ['a tab before chunked', 'Transfer-Encoding:\tchunked\r\n'],
      ['`CHUNKED` in upper case', 'Transfer-Encoding: CHUNKED\r\n'],
      ['`ChUnKeD` in mixed case', 'Transfer-Encoding: ChUnKeD\r\n'],
    ]
    for (const [what, headers] of accepted) {
      it(`reads ${what} as chunked, so gateway and upstream agree on the body`, async () => {
        const x = await exchange(post(`${headers}Connection: close\r\n`, '5\r\nhello\r\n0\r\n\r\n'))
        assert.equal(x.responses.length, 1)
        assert.equal(x.responses[0]!.status, 200)
        assertUpstreamSaw(['/legit'])
        assert.equal(up.requests[0]!.body, 'hello')
        assert.equal(up.requests[0]!.complete, true)
      })
    }
  })

  describe('bad chunk sizes', () => {
    const cases: [string, string, RegExp][] = [
      ['a chunk size that is not hexadecimal', `zz\r\nhello\r\n0\r\n\r\n`, /chunk size/],
      ['a chunk size overflowing 64 bits', `10000000000000001\r\nhello\r\n0\r\n\r\n`, /chunk size/],
      ['a negative chunk size', `-5\r\nhello\r\n0\r\n\r\n`, /chunk size/],
      ['a chunk size written 0x5', `0x5\r\nhello\r\n0\r\n\r\n`, /chunk size/],
      ['a chunk extension ended by a bare LF', `5;ext=1\nhello\r\n0\r\n\r\n`, /CRLF/],
      ['chunk data not followed by CRLF', `5\r\nhelloX0\r\n\r\n`, /chunked/],
    ]
    for (const [what, body, message] of cases) {
      it(`refuses ${what} with 400; the upstream never gets the request whole`, async () => {
        const x = await exchange(post('Transfer-Encoding: chunked\r\n', `${body}${SMUGGLED}`))
        assertRefused(x, 400, 'GH_ERR_REQUEST_INVALID')
        assert.match(JSON.parse(x.responses[0]!.body).message, message)
        assertUpstreamSawNoneComplete()
      })
    }

    it('accepts a well-formed chunk extension and forwards the decoded body', async () => {
      const x = await exchange(
        post('Transfer-Encoding: chunked\r\nConnection: close\r\n', '5;ext=1\r\nhello\r\n0\r\n\r\n'),
      )
      assert.equal(x.responses[0]!.status, 200)
      assertUpstreamSaw(['/legit'])
      assert.equal(up.requests[0]!.body, 'hello')
    })

    it('logs the request with the bad chunk as the 400 it was answered, with its code and body size', async () => {
      const x = await exchange(
        'POST /logged-chunk HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n',
      )
      assert.equal(x.responses[0]!.status, 400)
      const line = await gh.waitForLog((l) => l.type === 'access' && l.path === '/logged-chunk')
      assert.equal(line.status, 400)
      assert.equal(line.error_code, 'GH_ERR_REQUEST_INVALID')
      assert.equal(line.error_detail, 'HPE_INVALID_CHUNK_SIZE')
      assert.equal(line.bytes_sent, Buffer.byteLength(x.responses[0]!.body))
    })
  })

  describe('pipelining and Connection: close', () => {
    it('answers a valid pipelined pair in order, and the upstream sees both', async () => {
      const x = await exchange(
        'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      )
      assert.deepEqual(
        x.responses.map((r) => [r.status, JSON.parse(r.body).url]),
        [
          [200, '/first'],
          [200, '/second'],
        ],
      )
      assert.ok(x.closed)
      assert.deepEqual(up.requests.map((r) => r.url).sort(), ['/first', '/second'])
    })

    it('forwards a request hidden in a body as that body, never as a second request', async () => {
      const x = await exchange(post(`Content-Length: ${SMUGGLED.length}\r\nConnection: close\r\n`, SMUGGLED))
      assert.equal(x.responses.length, 1)
      assert.equal(x.responses[0]!.status, 200)
      assert.ok(x.closed)
      assertUpstreamSaw(['/legit'])
      assert.equal(up.requests[0]!.body, SMUGGLED)
    })

    it('ignores a request after one carrying Connection: close: one response, then the connection closes (RFC 9112 §9.6)', async () => {
      const x = await exchange(`GET /legit HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n${SMUGGLED}`)
      assert.equal(x.responses.length, 1, `exactly one response; rest: ${x.rest}`)
      assert.equal(x.responses[0]!.status, 200)
      assert.equal(JSON.parse(x.responses[0]!.body).url, '/legit')
      assert.equal(x.rest, '')
      assert.ok(x.closed)
      assertUpstreamSaw(['/legit'])
    })

    it('ignores bytes that are not a request after Connection: close, too', async () => {
      const x = await exchange(
        'GET /legit HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n\x00\x01garbage\r\n\r\n',
      )
      assert.equal(x.responses.length, 1)
      assert.equal(x.responses[0]!.status, 200)
      assert.equal(x.rest, '')
      assert.ok(x.closed)
      assertUpstreamSaw(['/legit'])
    })

    it('ignores a request after an HTTP/1.0 request without keep-alive', async () => {
      const x = await exchange(`GET /legit HTTP/1.0\r\nHost: x\r\n\r\n${SMUGGLED}`)
      assert.equal(x.responses.length, 1)
      assert.equal(x.responses[0]!.status, 200)
      assert.ok(x.closed)
      assertUpstreamSaw(['/legit'])
    })

    it('answers a valid request before refusing the malformed one pipelined behind it', async () => {
      const x = await exchange(
        'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\n\r\n',
      )
      assert.deepEqual(
        x.responses.map((r) => r.status),
        [200, 400],
      )
      assert.equal(JSON.parse(x.responses[0]!.body).url, '/first')
      assert.equal(JSON.parse(x.responses[1]!.body).code, 'GH_ERR_REQUEST_INVALID')
      assert.ok(x.closed)
      assertUpstreamSaw(['/first'])
    })
  })

  describe('responses from the upstream', () => {
    it('answers 502 to an upstream response with Content-Length and Transfer-Encoding, and the connection serves the next request', async () => {
      const x = await exchange(
        'GET /upstream-cl-te HTTP/1.1\r\nHost: x\r\n\r\nGET /legit HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      )
      assert.deepEqual(
        x.responses.map((r) => r.status),
        [502, 200],
      )
      assert.equal(JSON.parse(x.responses[0]!.body).code, 'GH_ERR_UPSTREAM_INVALID_RESPONSE')
      assert.equal(JSON.parse(x.responses[1]!.body).url, '/legit')
    })

    it('cuts the client connection on an upstream chunk it cannot parse: never a complete-looking response', async () => {
      const x = await exchange('GET /upstream-bad-chunk HTTP/1.1\r\nHost: x\r\n\r\n')
      assert.equal(x.responses.length, 0, 'the truncated response never looks complete')
      assert.ok(x.closed)
      // The gateway itself is fine: the next connection is served.
      const next = await send(port, 'GET /legit HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
      assert.equal(next.responses[0]!.status, 200)
    })
  })
})

describe('request smuggling on the HTTPS listener (HTTP/1.1 over TLS)', () => {
  const pki = new Pki()
  let ca: Issued
  let up: RecordingUpstream
  let gh: GatehouseProcess
  let port: number

  before(async () => {
    ca = pki.issue('ca', { subject: '/CN=Gatehouse Test CA', isCa: true })
    const cert = pki.issue('localhost', { subject: '/CN=localhost', san: ['DNS:localhost'], ca })
    up = await startRecordingUpstream()
    ;({ gh, tlsPort: port } = await startTlsGatehouse({
      config: {
        _format_version: '3.0',
        services: [{ name: 'svc', url: up.url, routes: [{ name: 'all', paths: ['/'], strip_path: false }] }],
        proxy: { tls: { certificates: [{ cert: cert.cert, key: cert.key }] } },
      },
    }))
  })

  after(async () => {
    await gh?.stop()
    await up?.close()
    pki.remove()
  })

  const tls = () => ({ tls: { ca: pki.read(ca.cert) } })

  it('ignores a request after one carrying Connection: close: one response, then the connection closes', async () => {
    up.reset()
    const x = await send(
      port,
      `GET /legit HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n${SMUGGLED}`,
      tls(),
    )
    assert.equal(x.responses.length, 1)
    assert.equal(x.responses[0]!.status, 200)
    assert.equal(x.rest, '')
    assert.ok(x.closed)
    // A later request on a new connection has reached the upstream once this one is answered.
    const after = await send(port, 'GET /sentinel HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', tls())
    assert.equal(after.responses[0]!.status, 200)
    assert.deepEqual(
      up.requests.map((r) => r.url),
      ['/legit', '/sentinel'],
    )
  })

  it('refuses Content-Length with Transfer-Encoding and forwards nothing', async () => {
    up.reset()
    const x = await send(
      port,
      post('Content-Length: 6\r\nTransfer-Encoding: chunked\r\n', `0\r\n\r\n${SMUGGLED}`),
      tls(),
    )
    assertRefused(x, 400, 'GH_ERR_REQUEST_INVALID')
    assert.deepEqual(up.requests, [])
  })

  it('refuses two Host lines, and an HTTP/1.1 request without Host, in the envelope', async () => {
    up.reset()
    const twice = await send(port, 'GET /legit HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n', tls())
    assertRefused(twice, 400, 'GH_ERR_REQUEST_HOST_INVALID')
    const none = await send(port, 'GET /legit HTTP/1.1\r\n\r\n', tls())
    assertRefused(none, 400, 'GH_ERR_REQUEST_HOST_INVALID')
    assert.deepEqual(up.requests, [])
  })

  it('answers CONNECT with 501 over HTTP/1.1 and over HTTP/2 alike', async () => {
    up.reset()
    assertRefused(
      await send(port, 'CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n', tls()),
      501,
      'GH_ERR_REQUEST_METHOD_UNSUPPORTED',
    )
    const session = http2Connect(`https://127.0.0.1:${port}`, {
      ca: pki.read(ca.cert),
      servername: 'localhost',
    })
    try {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ':method': 'CONNECT', ':authority': 'x:443' })
        let status = 0
        let body = ''
        stream.on('response', (headers) => {
          status = Number(headers[':status'])
        })
        stream.setEncoding('utf8').on('data', (c: string) => {
          body += c
        })
        stream.on('end', () => resolve({ status, body }))
        stream.on('error', reject)
      })
      assert.equal(answer.status, 501)
      assert.equal(JSON.parse(answer.body).code, 'GH_ERR_REQUEST_METHOD_UNSUPPORTED')
    } finally {
      session.close()
    }
    assert.deepEqual(up.requests, [])
  })

  it('answers a valid request before refusing the malformed one pipelined behind it', async () => {
    up.reset()
    const x = await send(
      port,
      'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n X-Folded: 1\r\n\r\n',
      tls(),
    )
    assert.deepEqual(
      x.responses.map((r) => r.status),
      [200, 400],
    )
    assert.ok(x.closed)
    assert.deepEqual(
      up.requests.map((r) => r.url),
      ['/first'],
    )
  })
})
