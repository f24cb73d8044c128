import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { rawRequest } from '../harness/http.ts'
import { type EchoBody, startUpstream, type Upstream } from '../harness/upstream.ts'

describe('header handling between client, gateway and upstream', () => {
  let up: Upstream
  let gh: GatehouseProcess
  let trusting: GatehouseProcess
  const config = (extra: object = {}) => ({
    _format_version: '3.0',
    services: [{ name: 'echo', url: up.url, routes: [{ name: 'api', paths: ['/api'] }] }],
    ...extra,
  })
  const echo = async (
    g: GatehouseProcess,
    headers: Record<string, string | string[]> | string[],
    path = '/api/x',
  ) => {
    const res = await rawRequest(g.proxyUrl + path, { headers })
    assert.equal(res.status, 200, res.body)
    return { res, seen: JSON.parse(res.body) as EchoBody }
  }

  before(async () => {
    up = await startUpstream((req, res) => {
      if (req.url?.endsWith('/hop')) {
        res.writeHead(
          200,
          [
            ['connection', 'keep-alive, x-private'],
            ['x-private', 'secret-to-this-hop'],
            ['keep-alive', 'timeout=5'],
            ['proxy-authenticate', 'Basic'],
            ['set-cookie', 'a=1; Path=/'],
            ['set-cookie', 'b=2; Path=/'],
            ['content-length', '2'],
          ].flat(),
        )
        res.end('ok')
        return
      }
      const body = JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        bodyBytes: 0,
      })
      res.writeHead(200, { 'content-type': 'application/json', via: '1.0 upstream-cache' })
      res.end(body)
    })
    gh = await startGatehouse({ config: config() })
    trusting = await startGatehouse({ config: config({ proxy: { trusted_ips: ['127.0.0.0/8'] } }) })
  })
  after(async () => {
    await Promise.all([gh.stop(), trusting.stop()])
    await up.close()
  })

  it('removes hop-by-hop headers and every header the Connection header names', async () => {
    const { seen } = await echo(gh, {
      connection: 'keep-alive, x-drop-me',
      'x-drop-me': '1',
      'keep-alive': 'timeout=5',
      'proxy-authorization': 'Basic abc',
      te: 'trailers',
      upgrade: 'websocket',
      'x-keep-me': '2',
    })
    for (const h of ['x-drop-me', 'keep-alive', 'proxy-authorization', 'te', 'upgrade'])
      assert.equal(seen.headers[h], undefined, h)
    assert.equal(seen.headers['x-keep-me'], '2')
  })

  it('replaces X-Forwarded-* from an untrusted client with what the gateway saw', async () => {
    const { seen } = await echo(gh, {
      host: 'shop.example:8443',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-port': '1',
      'x-forwarded-prefix': '/evil',
      forwarded: 'for=6.6.6.6',
    })
    assert.equal(seen.headers['x-forwarded-for'], '127.0.0.1')
    assert.equal(seen.headers['x-real-ip'], '127.0.0.1')
    assert.equal(seen.headers['x-forwarded-proto'], 'http')
    assert.equal(seen.headers['x-forwarded-host'], 'shop.example')
    assert.equal(seen.headers['x-forwarded-port'], new URL(gh.proxyUrl).port)
    assert.equal(seen.headers['x-forwarded-prefix'], '/api')
    assert.equal(seen.headers['x-forwarded-path'], '/api/x')
    assert.equal(seen.headers.forwarded, undefined)
  })

  it('extends X-Forwarded-For and keeps X-Forwarded-* from a trusted proxy, and logs the real client', async () => {
    const { seen } = await echo(trusting, {
      'x-request-id': 'trusted-1',
      'x-forwarded-for': '203.0.113.7, 10.0.0.2',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'shop.example',
      'x-forwarded-port': '443',
    })
    assert.equal(seen.headers['x-forwarded-for'], '203.0.113.7, 10.0.0.2, 127.0.0.1')
    assert.equal(seen.headers['x-forwarded-proto'], 'https')
    assert.equal(seen.headers['x-forwarded-host'], 'shop.example')
    assert.equal(seen.headers['x-forwarded-port'], '443')
    // The right-most address that is not a trusted proxy is the client.
    assert.equal(seen.headers['x-real-ip'], '10.0.0.2')
    const line = await trusting.waitForLog((l) => l.request_id === 'trusted-1')
    assert.equal(line.client_ip, '10.0.0.2')
  })

  it('never forwards the identity headers only the gateway may set, whoever sends them', async () => {
    const spoofed = {
      'x-consumer-id': 'admin',
      'x-consumer-username': 'admin',
      'x-consumer-custom-id': 'admin',
      'x-consumer-groups': 'admins',
      'x-credential-identifier': 'stolen',
      'x-anonymous-consumer': 'false',
      'x-authenticated-userid': 'admin',
      'x-authenticated-scope': 'all',
    }
    const { seen } = await echo(gh, spoofed)
    for (const name of Object.keys(spoofed)) assert.equal(seen.headers[name], undefined, name)
  })

  it('adds itself to Via in both directions', async () => {
    const { res, seen } = await echo(gh, { via: '1.1 corporate-proxy' })
    assert.equal(seen.headers.via, '1.1 corporate-proxy, 1.1 gatehouse')
    assert.equal(res.headers.via, '1.0 upstream-cache, 1.1 gatehouse')
  })

  it('passes a well-formed X-Request-ID and traceparent on, and generates them otherwise', async () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const kept = await echo(gh, { 'x-request-id': 'order-123', traceparent: tp, tracestate: 'vendor=1' })
    assert.equal(kept.seen.headers['x-request-id'], 'order-123')
    assert.equal(kept.seen.headers.traceparent, tp)
    assert.equal(kept.seen.headers.tracestate, 'vendor=1')
    const fresh = await echo(gh, {
      'x-request-id': 'has spaces',
      traceparent: '00-zz',
      tracestate: 'vendor=1',
    })
    assert.match(fresh.seen.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/)
    assert.match(fresh.seen.headers.traceparent as string, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/)
    assert.equal(
      fresh.seen.headers.tracestate,
      undefined,
      'tracestate is meaningless without its traceparent',
    )
  })

  it('joins repeated list headers, joins Cookie lines with "; ", and forwards only the first of a singleton header', async () => {
    const { seen } = await echo(
      gh,
      [
        ['host', 'localhost'],
        ['x-multi', 'one'],
        ['x-multi', 'two'],
        ['cookie', 'a=1'],
        ['cookie', 'b=2'],
        ['authorization', 'Bearer first'],
        ['authorization', 'Bearer second'],
      ].flat(),
    )
    assert.equal(seen.headers['x-multi'], 'one, two')
    assert.equal(seen.headers.cookie, 'a=1; b=2')
    // The upstream must never see a credential other than the one the gateway would evaluate.
    assert.equal(seen.headers.authorization, 'Bearer first')
    assert.equal(seen.rawHeaders.filter((h) => h.toLowerCase() === 'authorization').length, 1)
  })

  it('strips hop-by-hop response headers and keeps every Set-Cookie', async () => {
    const res = await rawRequest(`${gh.proxyUrl}/api/hop`)
    assert.equal(res.status, 200)
    assert.equal(res.body, 'ok')
    assert.equal(res.headers['x-private'], undefined)
    assert.equal(res.headers['proxy-authenticate'], undefined)
    assert.deepEqual(res.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/'])
  })

  it('refuses a header block larger than proxy.max_header_size with 431 in the error envelope', async () => {
    const res = await rawRequest(`${gh.proxyUrl}/api/x`, { headers: { 'x-big': 'a'.repeat(40_000) } })
    assert.equal(res.status, 431)
    assert.equal(JSON.parse(res.body).code, 'GH_ERR_REQUEST_HEADERS_TOO_LARGE')
  })

  it('sends the service host and leaves no Expect header upstream', async () => {
    const res = await rawRequest(`${gh.proxyUrl}/api/x`, {
      method: 'POST',
      headers: { expect: '100-continue', 'content-type': 'text/plain' },
      body: 'hello',
    })
    const seen = JSON.parse(res.body) as EchoBody
    assert.equal(seen.headers.host, `127.0.0.1:${up.port}`)
    assert.equal(seen.headers.expect, undefined)
  })
})
