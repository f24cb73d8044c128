/**
 * One pipeline behind both listeners: HTTP/2 (ALPN h2) and HTTP/1.1 over TLS are proxied alike, the
 * upstream is told the client used https, routes limited to https refuse plain http, and cookies the
 * gateway sets are Secure on https.
 */
import assert from 'node:assert/strict'
import { connect as http2Connect } from 'node:http2'
import { after, before, describe, it } from 'node:test'
import type { GatehouseProcess } from '../harness/gatehouse.ts'
import { closedPort, type EchoBody, startUpstream, type Upstream } from '../harness/upstream.ts'
import { h2Request, handshake, httpsGet, Pki, startTlsGatehouse } from './support.ts'

const KEEPALIVE_MS = 1000

const SESSION = {
  client_id: 'shop-web',
  client_secret: 'shop-web-secret-0123456789',
  secret: 'session-secret-0123456789abcdefghijklmnop',
}

describe('HTTP/2 and HTTP/1.1 over TLS', () => {
  const pki = new Pki()
  let caPem: string
  let upstream: Upstream
  let gh: GatehouseProcess
  let port: number

  before(async () => {
    const ca = pki.issue('ca', { subject: '/CN=Gatehouse Test CA', isCa: true })
    caPem = pki.read(ca.cert)
    const shop = pki.issue('shop', { subject: '/CN=shop.example', san: ['DNS:shop.example'], ca })
    upstream = await startUpstream()
    const provider = await closedPort()
    ;({ gh, tlsPort: port } = await startTlsGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'echo',
            url: upstream.url,
            routes: [
              { name: 'all', paths: ['/'] },
              { name: 'secure-only', paths: ['/secure'], protocols: ['https'] },
              { name: 'plain-only', paths: ['/plain'], protocols: ['http'] },
              {
                name: 'app',
                paths: ['/app'],
                plugins: [
                  {
                    name: 'session',
                    config: {
                      issuer: `http://127.0.0.1:${provider}`,
                      callback_path: '/app/callback',
                      ...SESSION,
                    },
                  },
                ],
              },
            ],
          },
        ],
        proxy: {
          keepalive_timeout: KEEPALIVE_MS,
          tls: { certificates: [{ cert: shop.cert, key: shop.key, snis: ['shop.example'] }] },
        },
      },
    }))
  })

  after(async () => {
    await gh?.stop()
    await upstream?.close()
    pki.remove()
  })

  it('negotiates h2 with clients that offer it and HTTP/1.1 with the rest', async () => {
    assert.equal((await handshake(port, 'shop.example', caPem)).alpn, 'h2')
    assert.equal((await handshake(port, 'shop.example', caPem, ['http/1.1'])).alpn, 'http/1.1')
  })

  it('proxies an HTTP/2 request: method, path, headers and body reach the upstream as HTTP/1.1', async () => {
    const res = await h2Request(
      port,
      'shop.example',
      { ':method': 'POST', ':path': '/orders?page=2', 'content-type': 'text/plain', 'x-client': 'h2' },
      { ca: caPem, body: 'a body of unknown length' },
    )
    assert.equal(res.alpn, 'h2')
    assert.equal(res.headers[':status'], 200)
    assert.equal(res.headers['content-type'], 'application/json')
    assert.match(String(res.headers.via), /gatehouse/)
    const echo = JSON.parse(res.body) as EchoBody
    assert.equal(echo.method, 'POST')
    assert.equal(echo.url, '/orders?page=2')
    assert.equal(echo.bodyBytes, 'a body of unknown length'.length)
    assert.equal(echo.headers['x-client'], 'h2')
    assert.equal(echo.headers['x-forwarded-proto'], 'https')
    assert.equal(echo.headers['x-forwarded-host'], 'shop.example')
    assert.equal(echo.headers.host, `127.0.0.1:${upstream.port}`)
    assert.deepEqual(
      Object.keys(echo.headers).filter((h) => h.startsWith(':')),
      [],
      'no pseudo-header reaches the upstream',
    )
  })

  it('proxies an HTTP/1.1 request over TLS the same way', async () => {
    const res = await httpsGet(port, 'shop.example', '/orders?page=2', {
      ca: caPem,
      method: 'PUT',
      body: '{"n":1}',
      headers: { 'content-type': 'application/json', 'x-client': 'h1' },
    })
    assert.equal(res.status, 200)
    assert.match(String(res.headers.via), /gatehouse/)
    const echo = JSON.parse(res.body) as EchoBody
    assert.equal(echo.method, 'PUT')
    assert.equal(echo.url, '/orders?page=2')
    assert.equal(echo.bodyBytes, 7)
    assert.equal(echo.headers['x-client'], 'h1')
    assert.equal(echo.headers['x-forwarded-proto'], 'https')
    assert.equal(echo.headers['x-forwarded-host'], 'shop.example')
  })

  it('tells the upstream X-Forwarded-Proto http on the plain listener', async () => {
    const echo = (await (await gh.proxy('/orders')).json()) as EchoBody
    assert.equal(echo.headers['x-forwarded-proto'], 'http')
  })

  it('closes an HTTP/2 connection that had no request open for keepalive_timeout', async () => {
    const session = http2Connect(`https://127.0.0.1:${port}`, { ca: caPem, servername: 'shop.example' })
    const closed = new Promise<number>((resolve) => session.once('close', () => resolve(Date.now())))
    const stream = session.request({ ':path': '/idle', ':authority': 'shop.example' })
    stream.resume()
    const ended = await new Promise<number>((resolve) => stream.once('end', () => resolve(Date.now())))
    const after = (await closed) - ended
    assert.ok(
      after >= KEEPALIVE_MS - 100 && after < KEEPALIVE_MS + 1500,
      `closed ${after} ms after the request`,
    )
  })

  it('logs HTTP/2 requests with their status, like HTTP/1.1 ones', async () => {
    await h2Request(port, 'shop.example', { ':path': '/logged-h2' }, { ca: caPem })
    const line = await gh.waitForLog((l) => l.type === 'access' && l.path === '/logged-h2')
    assert.equal(line.status, 200)
  })

  it('serves an https-only route on the HTTPS listener and answers 426 on the plain one', async () => {
    assert.equal((await httpsGet(port, 'shop.example', '/secure', { ca: caPem })).status, 200)
    const h2 = await h2Request(port, 'shop.example', { ':path': '/secure' }, { ca: caPem })
    assert.equal(h2.headers[':status'], 200)
    const plain = await gh.proxy('/secure')
    assert.equal(plain.status, 426)
    assert.equal(((await plain.json()) as { code: string }).code, 'GH_ERR_ROUTE_PROTOCOL')
  })

  it('does not match an http-only route for https (404 in the error envelope, over HTTP/2 too)', async () => {
    assert.equal((await gh.proxy('/plain')).status, 200)
    const res = await h2Request(port, 'shop.example', { ':path': '/plain' }, { ca: caPem })
    assert.equal(res.headers[':status'], 404)
    assert.deepEqual(
      { ...(JSON.parse(res.body) as object), request_id: undefined },
      {
        message: 'no Route matched with those values',
        code: 'GH_ERR_ROUTE_NOT_FOUND',
        error: 'Not Found',
        statusCode: 404,
        request_id: undefined,
      },
    )
  })

  it('makes the cookies the session plugin sets Secure on https, and not on plain http', async () => {
    const secure = await httpsGet(port, 'shop.example', '/app/callback?state=x', { ca: caPem })
    assert.equal(secure.status, 400)
    const overTls = secure.headers['set-cookie'] ?? []
    assert.equal(overTls.length, 1)
    assert.match(overTls[0]!, /^gh_session_login=;/)
    assert.match(overTls[0]!, /; Secure(;|$)/)

    const plain = await gh.proxy('/app/callback?state=x')
    const overHttp = plain.headers.getSetCookie()
    assert.equal(overHttp.length, 1)
    assert.doesNotMatch(overHttp[0]!, /Secure/)
  })
})
