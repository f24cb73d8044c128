/**
 * Strict HTTP/1.1 request parsing at the edge (RFC 9112), on a raw socket against the real gateway: Host
 * rules (§3.2), header-line syntax (obs-fold, bare CR or LF, control characters), the request line
 * (target forms, versions), and the bounds on the header block. Each refusal is the gateway's envelope
 * with a stable code, the connection closes, and the recording upstream saw nothing. Where Node's
 * parser already refuses a case, the test guards against a parser option or a Node upgrade changing it;
 * the last suite runs the gateway under NODE_OPTIONS=--insecure-http-parser to prove it cannot.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import {
  assertRefused,
  type Exchange,
  portOf,
  type RecordingUpstream,
  send,
  startRecordingUpstream,
} from '../harness/raw-socket.ts'

const MAX_HEADER_SIZE = 65_536
const MAX_HEADER_COUNT = 2500

function config(url: string): object {
  return {
    _format_version: '3.0',
    services: [{ name: 'svc', url, routes: [{ name: 'all', paths: ['/'], strip_path: false }] }],
    // A count above the 2000 header lines Node keeps by default, to show none is dropped unseen.
    proxy: { max_header_size: MAX_HEADER_SIZE, max_header_count: MAX_HEADER_COUNT },
  }
}

/** `count` header lines `x-h<i>: v` (Host not included). */
function manyHeaders(count: number): string {
  let out = ''
  for (let i = 0; i < count; i++) out += `x-h${i}: v\r\n`
  return out
}

describe('strict HTTP/1.1 parsing on the proxy listener', () => {
  let up: RecordingUpstream
  let gh: GatehouseProcess
  let port: number

  before(async () => {
    up = await startRecordingUpstream()
    gh = await startGatehouse({ config: config(up.url) })
    port = portOf(gh.proxyUrl)
  })

  after(async () => {
    await gh?.stop()
    await up?.close()
  })

  /** Sends `bytes`; a fresh request answered afterwards means anything forwarded has arrived. */
  async function exchange(bytes: string): Promise<Exchange> {
    up.reset()
    const x = await send(port, bytes)
    const sentinel = await gh.proxy('/sentinel')
    assert.equal(sentinel.status, 200)
    await sentinel.body?.cancel()
    const i = up.requests.findIndex((r) => r.url === '/sentinel')
    if (i !== -1) up.requests.splice(i, 1)
    return x
  }

  async function refused(bytes: string, status: number, code: string, message?: RegExp): Promise<void> {
    const x = await exchange(bytes)
    const body = assertRefused(x, status, code)
    if (message) assert.match(body.message, message)
    assert.deepEqual(
      up.requests.map((r) => r.url),
      [],
      'the upstream saw nothing',
    )
  }

  async function accepted(bytes: string, url = '/legit'): Promise<void> {
    const x = await exchange(bytes)
    assert.equal(x.responses.length, 1, x.rest)
    assert.equal(x.responses[0]!.status, 200, x.responses[0]!.body)
    assert.deepEqual(
      up.requests.map((r) => r.url),
      [url],
    )
  }

  describe('Host (RFC 9112 §3.2)', () => {
    it('refuses two Host lines, equal or not, with 400 GH_ERR_REQUEST_HOST_INVALID', async () => {
      const message = /more than one Host/
      await refused(
        'GET /legit HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n',
        400,
        'GH_ERR_REQUEST_HOST_INVALID',
        message,
      )
      await refused(
        'GET /legit HTTP/1.1\r\nHost: x\r\nhOsT: y\r\n\r\n',
        400,
        'GH_ERR_REQUEST_HOST_INVALID',
        message,
      )
    })

    it('refuses an HTTP/1.1 request without Host in the envelope, and serves HTTP/1.0 without one', async () => {
      await refused('GET /legit HTTP/1.1\r\n\r\n', 400, 'GH_ERR_REQUEST_HOST_INVALID', /missing Host/)
      await accepted('GET /legit HTTP/1.0\r\n\r\n')
    })

    const invalid = [
      'a b',
      'user@x',
      'x:80:80',
      'x:99999',
      'x:',
      'x:8o',
      'x/y',
      'x?y',
      '[::1',
      '[::1]x',
      ':80',
      'x%zz',
    ]
    for (const host of invalid) {
      it(`refuses Host: ${host} with 400`, async () => {
        await refused(
          `GET /legit HTTP/1.1\r\nHost: ${host}\r\n\r\n`,
          400,
          'GH_ERR_REQUEST_HOST_INVALID',
          /invalid Host/,
        )
      })
    }

    it('serves valid Host values: names, ports, IPv4, IPv6 literals, pct-encoding, and an empty Host', async () => {
      for (const host of [
        'example.com',
        'Example.COM:8080',
        '127.0.0.1:1',
        '[::1]:65535',
        '[::ffff:1.2.3.4]',
        'a%2Db',
        '',
      ])
        await accepted(`GET /legit HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
    })

    it('refuses an absolute-form target whose authority is not the Host', async () => {
      const code = 'GH_ERR_REQUEST_HOST_INVALID'
      await refused('GET http://y/legit HTTP/1.1\r\nHost: x\r\n\r\n', 400, code, /does not match/)
      await refused('GET http://x:8080/legit HTTP/1.1\r\nHost: x\r\n\r\n', 400, code, /does not match/)
      await refused('GET https://x/legit HTTP/1.1\r\nHost: x:80\r\n\r\n', 400, code, /does not match/)
      await refused('GET http://user@x/legit HTTP/1.1\r\nHost: x\r\n\r\n', 400, code, /authority/)
    })

    it('serves an absolute-form target that names the Host, case and default port aside', async () => {
      await accepted('GET http://X:80/legit HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
      await accepted('GET https://x/legit HTTP/1.1\r\nHost: X:443\r\nConnection: close\r\n\r\n')
      await accepted('GET http://x:8080/legit HTTP/1.1\r\nHost: x:8080\r\nConnection: close\r\n\r\n')
    })

    it('drops a request pipelined behind a refused one: it never reaches the upstream', async () => {
      const x = await exchange(
        'GET /legit HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
      )
      assertRefused(x, 400, 'GH_ERR_REQUEST_HOST_INVALID')
      assert.deepEqual(up.requests, [])
    })
  })

  describe('header lines', () => {
    const cases: [string, string, RegExp][] = [
      ['obs-fold with a space', 'X-A: 1\r\n folded\r\n', /obs-fold/],
      ['obs-fold with a tab', 'X-A: 1\r\n\tfolded\r\n', /obs-fold/],
      ['a bare LF ending a header line', 'X-A: 1\nX-B: 2\r\n', /bare LF/],
      ['a bare CR inside a header line', 'X-A: 1\rX-B: 2\r\n', /bare CR/],
      ['a NUL in a header value', 'X-A: a\x00b\r\n', /control character/],
      ['a control character in a header value', 'X-A: a\x01b\r\n', /control character/],
      ['a DEL in a header value', 'X-A: a\x7fb\r\n', /control character/],
      ['an escape character in a header value', 'X-A: a\x1b[31mb\r\n', /control character/],
      ['whitespace before the colon', 'X-A : 1\r\n', /whitespace before the colon/],
      ['a space inside a header name', 'X A: 1\r\n', /invalid header line/],
      ['a header line without a colon', 'X-A\r\n', /invalid header line/],
    ]
    for (const [what, line, message] of cases) {
      it(`refuses ${what} with 400`, async () => {
        await refused(`GET /legit HTTP/1.1\r\nHost: x\r\n${line}\r\n`, 400, 'GH_ERR_REQUEST_INVALID', message)
      })
    }

    it('refuses a request whose every line ends with a bare LF', async () => {
      await refused('GET /legit HTTP/1.1\nHost: x\n\n', 400, 'GH_ERR_REQUEST_INVALID')
    })
  })

  describe('the header block', () => {
    it(`refuses a header block over proxy.max_header_size with 431`, async () => {
      const big = `X-Big: ${'a'.repeat(MAX_HEADER_SIZE)}\r\n`
      await refused(`GET /legit HTTP/1.1\r\nHost: x\r\n${big}\r\n`, 431, 'GH_ERR_REQUEST_HEADERS_TOO_LARGE')
    })

    it('refuses more header lines than proxy.max_header_count with 431, past the 2000 Node keeps by default', async () => {
      await refused(
        `GET /legit HTTP/1.1\r\nHost: x\r\n${manyHeaders(MAX_HEADER_COUNT)}\r\n`,
        431,
        'GH_ERR_REQUEST_HEADERS_TOO_LARGE',
        new RegExp(`more than ${MAX_HEADER_COUNT} header lines`),
      )
    })

    it('serves exactly proxy.max_header_count header lines', async () => {
      await accepted(
        `GET /legit HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${manyHeaders(MAX_HEADER_COUNT - 2)}\r\n`,
      )
    })
  })

  describe('the request line', () => {
    it('refuses the asterisk form (OPTIONS *) with 400: there is no server-wide resource to describe', async () => {
      await refused('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'GH_ERR_REQUEST_INVALID', /request target/)
    })

    it('answers CONNECT (the authority form) with 501 and forwards nothing', async () => {
      const x = await exchange('CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n')
      assertRefused(x, 501, 'GH_ERR_REQUEST_METHOD_UNSUPPORTED')
      assert.deepEqual(up.requests, [])
    })

    it('refuses the authority form with another method with 400', async () => {
      await refused(
        'GET x:80 HTTP/1.1\r\nHost: x:80\r\n\r\n',
        400,
        'GH_ERR_REQUEST_INVALID',
        /request target/,
      )
    })

    it('refuses a NUL or a control character in the request target with 400', async () => {
      await refused(
        'GET /le\x00git HTTP/1.1\r\nHost: x\r\n\r\n',
        400,
        'GH_ERR_REQUEST_INVALID',
        /request target/,
      )
      await refused(
        'GET /le\x01git HTTP/1.1\r\nHost: x\r\n\r\n',
        400,
        'GH_ERR_REQUEST_INVALID',
        /request target/,
      )
    })

    it('refuses HTTP/0.9 and HTTP/2.0 request lines with 505', async () => {
      await refused('GET /legit\r\n\r\n', 505, 'GH_ERR_REQUEST_VERSION_UNSUPPORTED')
      await refused('GET /legit HTTP/2.0\r\nHost: x\r\n\r\n', 505, 'GH_ERR_REQUEST_VERSION_UNSUPPORTED')
    })

    it("answers HTTP/2's prior-knowledge preface as HTTP/2 (proxy.h2c, for gRPC): a SETTINGS frame", async () => {
      const socket = connect(port, '127.0.0.1')
      socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
      const [first] = (await once(socket, 'data')) as [Buffer]
      socket.destroy()
      // A frame header: 24-bit length, then type 0x4 (SETTINGS), not an HTTP/1.1 status line.
      assert.equal(first[3], 0x04)
    })

    it('refuses other versions, a lower-case method and an unknown method with 400', async () => {
      await refused('GET /legit HTTP/1.2\r\nHost: x\r\n\r\n', 400, 'GH_ERR_REQUEST_INVALID', /version/)
      await refused('GET /legit HTTP/3.0\r\nHost: x\r\n\r\n', 400, 'GH_ERR_REQUEST_INVALID', /version/)
      await refused('get /legit HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'GH_ERR_REQUEST_INVALID', /method/)
      await refused('BREW /legit HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'GH_ERR_REQUEST_INVALID', /method/)
    })
  })
})

describe('the proxy listener under NODE_OPTIONS=--insecure-http-parser', () => {
  let up: RecordingUpstream
  let gh: GatehouseProcess
  let port: number

  before(async () => {
    up = await startRecordingUpstream()
    gh = await startGatehouse({
      config: config(up.url),
      env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --insecure-http-parser`.trim() },
    })
    port = portOf(gh.proxyUrl)
  })

  after(async () => {
    await gh?.stop()
    await up?.close()
  })

  const lenient: [string, string][] = [
    ['obs-fold', 'GET /legit HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n'],
    ['a NUL in a header value', 'GET /legit HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n'],
    [
      'Content-Length with Transfer-Encoding',
      'POST /legit HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
    ],
    ['a bare LF ending a header line', 'GET /legit HTTP/1.1\r\nHost: x\nX-B: 2\r\n\r\n'],
  ]
  for (const [what, bytes] of lenient) {
    it(`still refuses ${what}: the proxy's parser stays strict whatever flags Node runs with`, async () => {
      up.reset()
      assertRefused(await send(port, bytes), 400, 'GH_ERR_REQUEST_INVALID')
      assert.deepEqual(up.requests, [])
    })
  }
})
