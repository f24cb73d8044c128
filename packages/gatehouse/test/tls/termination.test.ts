/**
 * The HTTPS listener terminates TLS with the certificate the client's server name (SNI) selects, the
 * default one without SNI, and swaps certificates on reload for new handshakes only: connections open
 * at the time keep working.
 */
import assert from 'node:assert/strict'
import { connect as http2Connect } from 'node:http2'
import { Agent } from 'node:https'
import { after, before, describe, it } from 'node:test'
import type { GatehouseProcess } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { handshake, httpsGet, type Issued, Pki, startTlsGatehouse } from './support.ts'

describe('TLS termination', () => {
  const pki = new Pki()
  let ca: Issued
  let caPem: string
  let upstream: Upstream
  let gh: GatehouseProcess
  let port: number
  let config: (shop: Issued) => object

  before(async () => {
    ca = pki.issue('ca', { subject: '/CN=Gatehouse Test CA', isCa: true })
    caPem = pki.read(ca.cert)
    const shop = pki.issue('shop', {
      subject: '/O=first/CN=shop.example',
      san: ['DNS:shop.example', 'DNS:*.shop.example'],
      ca,
    })
    const other = pki.issue('other', { subject: '/CN=other.example', san: ['DNS:other.example'], ca })
    const fallback = pki.issue('fallback', {
      subject: '/CN=fallback.example',
      san: ['DNS:fallback.example'],
      ca,
    })
    const expired = pki.expired('expired', '/CN=expired.example')
    upstream = await startUpstream()
    config = (served) => ({
      _format_version: '3.0',
      services: [{ name: 'echo', url: upstream.url, routes: [{ name: 'all', paths: ['/'] }] }],
      proxy: {
        tls: {
          certificates: [
            // Relative to the configuration file's folder.
            {
              cert: pki.relative(served.cert),
              key: pki.relative(served.key),
              snis: ['shop.example', '*.shop.example'],
            },
            { cert: other.cert, key: other.key, snis: ['other.example'] },
            { name: 'fallback', cert: fallback.cert, key: fallback.key },
            { cert: expired.cert, key: expired.key, snis: ['expired.example'] },
          ],
          default_certificate: 'fallback',
        },
      },
    })
    ;({ gh, tlsPort: port } = await startTlsGatehouse({ config: config(shop) }))
  })

  after(async () => {
    await gh?.stop()
    await upstream?.close()
    pki.remove()
  })

  it('serves the certificate listed for the server name the client sends', async () => {
    assert.equal((await handshake(port, 'shop.example', caPem)).cn, 'shop.example')
    assert.equal((await handshake(port, 'other.example', caPem)).cn, 'other.example')
    assert.equal((await handshake(port, 'SHOP.EXAMPLE', caPem)).cn, 'shop.example')
  })

  it('matches a wildcard name one label deep, and serves the default certificate for other names', async () => {
    assert.equal((await handshake(port, 'www.shop.example', caPem)).cn, 'shop.example')
    assert.equal((await handshake(port, 'a.b.shop.example', caPem)).cn, 'fallback.example')
    assert.equal((await handshake(port, 'unknown.example', caPem)).cn, 'fallback.example')
  })

  it('serves the default certificate to a client that sends no server name', async () => {
    assert.equal((await handshake(port, null, caPem)).cn, 'fallback.example')
  })

  it('warns at start, naming the key, about a certificate that has expired', async () => {
    const line = await gh.waitForLog((l) => l.msg === 'configuration notice')
    assert.equal(line.level, 'warn')
    assert.equal(
      line.notice,
      'proxy.tls.certificates[3].cert: the certificate expired on 2020-01-02T00:00:00.000Z; clients will refuse it',
    )
  })

  it('proxies requests on the HTTPS listener, and the plain listener keeps serving', async () => {
    const res = await httpsGet(port, 'shop.example', '/hello', { ca: caPem })
    assert.equal(res.status, 200)
    assert.equal(JSON.parse(res.body).url, '/hello')
    assert.equal((await gh.proxy('/hello')).status, 200)
  })

  it('swaps certificates on reload for new connections while open ones keep working', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: caPem })
    const h2 = http2Connect(`https://127.0.0.1:${port}`, { ca: caPem, servername: 'shop.example' })
    try {
      const before = await httpsGet(port, 'shop.example', '/one', { ca: caPem, agent })
      assert.equal(before.certificateO, 'first')
      assert.equal(await h2Status(h2, '/one'), 200)

      const second = pki.issue('shop-2', {
        subject: '/O=second/CN=shop.example',
        san: ['DNS:shop.example', 'DNS:*.shop.example'],
        ca,
      })
      const loaded = gh.lines.filter((l) => l.msg === 'configuration loaded').length
      gh.writeConfig(config(second))
      gh.signal('SIGHUP')
      await gh.waitForLog(
        (l) => l.msg === 'configuration loaded' && gh.lines.filter((x) => x.msg === l.msg).length > loaded,
      )

      const again = await httpsGet(port, 'shop.example', '/two', { ca: caPem, agent })
      assert.equal(again.status, 200)
      assert.equal(again.localPort, before.localPort, 'the same keep-alive connection')
      assert.equal(again.certificateO, 'first', 'an open connection keeps its certificate')
      assert.equal(await h2Status(h2, '/two'), 200, 'an open HTTP/2 session keeps working')
      assert.equal(
        (await handshake(port, 'shop.example', caPem)).o,
        'second',
        'a new handshake gets the new one',
      )
    } finally {
      agent.destroy()
      h2.close()
    }
  })

  it('keeps serving the running certificates when a reload brings an unusable one', async () => {
    const wrongKey = pki.issue('wrong', { subject: '/CN=wrong.example', ca })
    const broken = config({
      cert: pki.issue('shop-3', { subject: '/O=third/CN=shop.example', ca }).cert,
      key: wrongKey.key,
    })
    const res = await gh.admin('/config', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(broken),
    })
    assert.equal(res.status, 400)
    const body = (await res.json()) as { code: string; flattened_errors: unknown }
    assert.equal(body.code, 'GH_ERR_CONFIG_INVALID')
    assert.deepEqual(body.flattened_errors, [
      {
        path: 'proxy.tls.certificates[0].key',
        message: 'does not match the certificate (proxy.tls.certificates[0].cert)',
      },
    ])
    assert.equal((await handshake(port, 'shop.example', caPem)).o, 'second')
  })
})

function h2Status(session: import('node:http2').ClientHttp2Session, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ':authority': 'shop.example' })
    let status = 0
    stream.on('response', (h) => {
      status = Number(h[':status'])
    })
    stream.resume()
    stream.on('end', () => resolve(status))
    stream.once('error', reject)
  })
}
