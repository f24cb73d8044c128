/**
 * WebSocket proxying through the real process (issue 13): ws/wss routes and `websocket_upgrade`
 * services, the handshake through the route's access plugins (key-auth, rate-limiting, internal-token),
 * messages both ways with backpressure, the idle timeout, metrics and the access log, wss on the HTTPS
 * listener, the refusals of what cannot be upgraded, and SIGTERM's close frame 1001.
 */
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { WebSocket, WebSocketServer } from 'ws'
import { assertErrorBody } from '../harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { sample } from '../harness/prometheus.ts'
import { trackServer } from '../harness/resources.ts'
import { Pki, startTlsGatehouse } from '../tls/support.ts'

const KEY = 'alice-websocket-key-0123456789'

/** A WebSocket echo upstream that remembers each handshake's path and headers. */
async function startWsUpstream() {
  const handshakes: { url: string; headers: IncomingHttpHeaders }[] = []
  const server = trackServer(
    'ws upstream',
    createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('plain http')
    }),
  )
  const wss = new WebSocketServer({ noServer: true })
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    handshakes.push({ url: req.url ?? '', headers: req.headers })
    if (req.url?.startsWith('/refuse')) {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 7\r\nx-upstream: no\r\n\r\nrefused')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    handshakes,
    close: async () => {
      for (const client of wss.clients) client.terminate()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

function config(upstreamUrl: string, extra: object = {}): object {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'chat',
        url: upstreamUrl,
        routes: [
          { name: 'open', protocols: ['ws', 'wss'], paths: ['/open'], strip_path: false },
          {
            name: 'private',
            protocols: ['ws'],
            paths: ['/private'],
            strip_path: false,
            plugins: [{ name: 'key-auth' }, { name: 'internal-token', config: { audience: 'chat' } }],
          },
          {
            name: 'limited',
            protocols: ['ws'],
            paths: ['/limited'],
            strip_path: false,
            plugins: [{ name: 'rate-limiting', config: { minute: 2, policy: 'local' } }],
          },
          { name: 'refused', protocols: ['ws'], paths: ['/refuse'], strip_path: false },
          { name: 'plain', paths: ['/plain'], strip_path: false },
        ],
      },
      {
        name: 'upgrading',
        url: upstreamUrl,
        websocket_upgrade: true,
        routes: [{ name: 'upgrade', paths: ['/upgrade'], strip_path: false }],
      },
      {
        name: 'quiet',
        url: upstreamUrl,
        read_timeout: 400,
        routes: [{ name: 'idle', protocols: ['ws'], paths: ['/idle'], strip_path: false }],
      },
    ],
    consumers: [{ username: 'alice', keyauth_credentials: [{ key: KEY }] }],
    ...extra,
  }
}

function wsUrl(gh: GatehouseProcess, path: string): string {
  return `${gh.proxyUrl.replace(/^http/, 'ws')}${path}`
}

/** Opens a WebSocket; resolves once open. */
async function connect(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}) {
  const ws = new WebSocket(url, options)
  await once(ws, 'open')
  return ws
}

/** The answer to a handshake the gateway or the upstream did not switch: status, headers, body. */
function refusedHandshake(url: string, options: ConstructorParameters<typeof WebSocket>[2] = {}) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const ws = new WebSocket(url, options)
    ws.once('open', () => reject(new Error('the handshake was accepted')))
    ws.once('error', () => undefined)
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        body += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
  })
}

/** Sends and waits for the echo. */
async function roundTrip(ws: WebSocket, data: string | Buffer): Promise<{ data: Buffer; binary: boolean }> {
  const answer = once(ws, 'message') as Promise<[Buffer, boolean]>
  ws.send(data)
  const [received, binary] = await answer
  return { data: received, binary }
}

async function closed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) throw new Error('already closed')
  const [code, reason] = (await once(ws, 'close')) as [number, Buffer]
  return { code, reason: reason.toString('utf8') }
}

async function metric(gh: GatehouseProcess, name: string, labels: Record<string, string>) {
  return sample(await (await gh.admin('/metrics')).text(), name, labels)
}

describe('WebSocket proxying', () => {
  let up: Awaited<ReturnType<typeof startWsUpstream>>
  let gh: GatehouseProcess
  let tlsPort: number
  let caPem: string
  const pki = new Pki()

  before(async () => {
    up = await startWsUpstream()
    const ca = pki.issue('ca', { subject: '/CN=Gatehouse Test CA', isCa: true })
    caPem = pki.read(ca.cert)
    const shop = pki.issue('shop', {
      subject: '/CN=shop.example',
      san: ['DNS:shop.example', 'IP:127.0.0.1'],
      ca,
    })
    ;({ gh, tlsPort } = await startTlsGatehouse({
      config: config(up.url, { proxy: { tls: { certificates: [{ cert: shop.cert, key: shop.key }] } } }),
    }))
  })

  after(async () => {
    await gh?.stop()
    await up?.close()
    pki.remove()
  })

  it('relays text, binary and a large message both ways, the large one with backpressure', async () => {
    const ws = await connect(wsUrl(gh, '/open'))
    const text = await roundTrip(ws, 'hello through the gateway')
    assert.equal(text.binary, false)
    assert.equal(text.data.toString('utf8'), 'hello through the gateway')
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13])
    const binary = await roundTrip(ws, bytes)
    assert.equal(binary.binary, true)
    assert.deepEqual(binary.data, bytes)
    // 24 MiB: far more than the sockets buffer, so both relays pause and resume on the way.
    const large = Buffer.alloc(24 * 1024 * 1024)
    for (let i = 0; i < large.length; i += 4096) large[i] = i & 0xff
    const echoed = await roundTrip(ws, large)
    assert.equal(echoed.data.length, large.length)
    assert.ok(echoed.data.equals(large), 'the large message came back unchanged')
    ws.close(1000, 'done')
    assert.equal((await closed(ws)).code, 1000)
  })

  it('runs the access plugins on the handshake: no key is a 401 in the gateway envelope, and no upgrade', async () => {
    const before = up.handshakes.length
    const answer = await refusedHandshake(wsUrl(gh, '/private'))
    assert.equal(answer.status, 401)
    assertErrorBody(answer, {
      kong: { message: 'No API key found in request' },
      code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
    })
    assert.equal(up.handshakes.length, before, 'the upstream saw no handshake')
  })

  it("sends the upstream's handshake the internal token and identity headers, not the caller's key", async () => {
    const ws = await connect(wsUrl(gh, '/private'), { headers: { apikey: KEY } })
    const seen = up.handshakes.at(-1)!
    assert.equal(seen.url, '/private')
    assert.match(seen.headers.authorization ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/)
    assert.equal(seen.headers.apikey, undefined, "the caller's key does not reach the upstream")
    assert.equal(seen.headers['x-consumer-username'], 'alice')
    assert.equal(seen.headers.upgrade, 'websocket')
    assert.equal((await roundTrip(ws, 'hi')).data.toString(), 'hi')
    ws.close()
    await closed(ws)
  })

  it('limits handshakes with rate-limiting (429 before any upgrade)', async () => {
    for (let i = 0; i < 2; i++) {
      const ws = await connect(wsUrl(gh, '/limited'))
      ws.close()
      await closed(ws)
    }
    const answer = await refusedHandshake(wsUrl(gh, '/limited'))
    assert.equal(answer.status, 429)
    assert.equal(answer.headers['x-gatehouse-error'], 'GH_ERR_RATE_LIMITED')
  })

  it("closes a connection idle for the service's read_timeout with 1001 on both sides", async () => {
    const ws = await connect(wsUrl(gh, '/idle'))
    assert.equal((await roundTrip(ws, 'still here')).data.toString(), 'still here')
    const end = await closed(ws)
    assert.equal(end.code, 1001)
    assert.equal(end.reason, 'idle timeout')
  })

  it("relays the upstream's refusal of a handshake as it is, then closes", async () => {
    const answer = await refusedHandshake(wsUrl(gh, '/refuse'))
    assert.equal(answer.status, 403)
    assert.equal(answer.body, 'refused')
    assert.equal(answer.headers['x-upstream'], 'no')
  })

  it('counts open connections in a gauge that goes up and down, and handshakes by outcome', async () => {
    const labels = { service: 'chat', route: 'open' }
    const ws = await connect(wsUrl(gh, '/open'))
    assert.equal(await metric(gh, 'gatehouse_websocket_connections', labels), 1)
    ws.close()
    await closed(ws)
    // The gateway counts the tunnel closed once both of its sockets have gone.
    let open = 1
    for (let i = 0; i < 50 && open !== 0; i++) {
      open = (await metric(gh, 'gatehouse_websocket_connections', labels)) ?? -1
      if (open !== 0) await new Promise((r) => setTimeout(r, 50))
    }
    assert.equal(open, 0)
    assert.ok(
      ((await metric(gh, 'gatehouse_websocket_handshakes_total', { ...labels, outcome: 'upgraded' })) ?? 0) >=
        1,
    )
    assert.ok(
      ((await metric(gh, 'gatehouse_websocket_handshakes_total', {
        service: 'chat',
        route: 'private',
        outcome: 'refused',
      })) ?? 0) >= 1,
    )
  })

  it('logs the handshake with status 101 when the connection closes, with its bytes', async () => {
    const ws = await connect(wsUrl(gh, '/open?logged=1'))
    await roundTrip(ws, 'x'.repeat(1000))
    ws.close()
    await closed(ws)
    const line = await gh.waitForLog(
      (l) => l.type === 'access' && String(l.path) === '/open' && l.status === 101,
    )
    assert.equal(line.route, 'open')
    // The 101's head is not counted: bytes_sent is what the tunnel relayed to the client (the echo).
    assert.ok(Number(line.bytes_sent) >= 1000, `bytes_sent ${String(line.bytes_sent)}`)
  })

  it('proxies an Upgrade: websocket on an http route only when its service sets websocket_upgrade', async () => {
    const ws = await connect(wsUrl(gh, '/upgrade'))
    assert.equal((await roundTrip(ws, 'upgraded')).data.toString(), 'upgraded')
    ws.close()
    await closed(ws)
    const answer = await refusedHandshake(wsUrl(gh, '/plain'))
    assert.equal(answer.status, 400)
    assertErrorBody(answer, {
      code: 'GH_ERR_WEBSOCKET_NOT_ALLOWED',
      message: 'Bad request: this route does not accept WebSocket',
    })
    // Without an Upgrade, the same http route answers as ever.
    assert.equal(await (await gh.proxy('/plain')).text(), 'plain http')
  })

  it('matches a ws route only for handshakes, and refuses other upgrades with their code', async () => {
    const plain = await gh.proxy('/open')
    assert.equal(plain.status, 404)
    assert.equal(plain.headers.get('x-gatehouse-error'), 'GH_ERR_ROUTE_NOT_FOUND')
    const other = await upgradeTo(gh.proxyUrl, '/open', 'TLS/1.2')
    assert.equal(other.status, 400)
    assertErrorBody(other, {
      code: 'GH_ERR_UPGRADE_UNSUPPORTED',
      message: 'Bad request: the gateway upgrades connections to websocket only',
    })
    const version = await refusedHandshake(wsUrl(gh, '/open'), { protocolVersion: 8 })
    assert.equal(version.status, 426)
    assert.equal(version.headers['sec-websocket-version'], '13')
    assert.equal(version.headers['x-gatehouse-error'], 'GH_ERR_WEBSOCKET_VERSION_UNSUPPORTED')
  })

  it('answers an offer of h2c (curl --http2 on http://) as the plain HTTP/1.1 request it also is', async () => {
    const before = up.handshakes.length
    const h2c = await upgradeTo(gh.proxyUrl, '/plain', 'h2c')
    assert.equal(h2c.status, 200)
    assert.equal(h2c.body, 'plain http')
    // The upstream got a plain request: Upgrade and HTTP2-Settings are hop-by-hop, no handshake reached it.
    assert.equal(up.handshakes.length, before)
  })

  it('serves wss on the HTTPS listener', async () => {
    const ws = await connect(`wss://127.0.0.1:${tlsPort}/open`, { ca: caPem })
    assert.equal((await roundTrip(ws, 'over tls')).data.toString(), 'over tls')
    ws.close()
    await closed(ws)
  })
})

/** A request asking to upgrade to `protocol`; the answer read as an ordinary response. */
function upgradeTo(base: string, path: string, protocol: string) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = request(`${base}${path}`, {
      headers: {
        connection: 'Upgrade, HTTP2-Settings',
        upgrade: protocol,
        'http2-settings': 'AAMAAABkAAQAAP__',
      },
    })
    req.once('upgrade', () => reject(new Error('switched protocols')))
    req.once('response', (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        body += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.once('error', reject)
    req.end()
  })
}

describe('WebSocket connections at shutdown', () => {
  it('get a close frame 1001 on SIGTERM, and the gateway still exits 0', async () => {
    const up = await startWsUpstream()
    const gh = await startGatehouse({ config: config(up.url) })
    try {
      const ws = await connect(wsUrl(gh, '/open'))
      assert.equal((await roundTrip(ws, 'before')).data.toString(), 'before')
      const end = closed(ws)
      gh.signal('SIGTERM')
      const { code, reason } = await end
      assert.equal(code, 1001)
      assert.equal(reason, 'gateway shutting down')
      assert.deepEqual(await gh.exited, { code: 0, signal: null })
    } finally {
      await gh.stop()
      await up.close()
    }
  })
})
