/**
 * HTTPS to upstreams: the certificate is verified by default (a CA the system does not trust is a 502
 * GH_ERR_UPSTREAM_CERTIFICATE_INVALID until the service lists it in ca_certificates), tls_verify_depth
 * bounds the chain, and client_certificate presents a certificate to an upstream that requires one.
 * This gateway serves HTTPS only (`--proxy-listen off`).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { GatehouseProcess } from '../harness/gatehouse.ts'
import {
  type HttpsUpstream,
  h2Request,
  httpsGet,
  Pki,
  startHttpsUpstream,
  startTlsGatehouse,
} from './support.ts'

interface Echo {
  url: string
  headers: Record<string, string>
  client: string | null
}

describe('HTTPS upstreams', () => {
  const pki = new Pki()
  let caPem: string
  let plain: HttpsUpstream
  let chained: HttpsUpstream
  let mutual: HttpsUpstream
  let gh: GatehouseProcess
  let port: number

  before(async () => {
    const ca = pki.issue('ca', { subject: '/CN=Gatehouse Test CA', isCa: true })
    caPem = pki.read(ca.cert)
    const intermediate = pki.issue('intermediate', {
      subject: '/CN=Gatehouse Test Intermediate',
      isCa: true,
      ca,
    })
    const shop = pki.issue('shop', { subject: '/CN=shop.example', san: ['DNS:shop.example'], ca })
    const server = pki.issue('upstream', { subject: '/CN=upstream', san: ['IP:127.0.0.1'], ca })
    const deep = pki.issue('deep', { subject: '/CN=deep', san: ['IP:127.0.0.1'], ca: intermediate })
    const client = pki.issue('client', { subject: '/CN=gatehouse-client', ca })
    const pem = (i: { cert: string; key: string }) => ({ cert: pki.read(i.cert), key: pki.read(i.key) })
    plain = await startHttpsUpstream(pem(server))
    chained = await startHttpsUpstream({
      cert: pki.read(deep.cert) + pki.read(intermediate.cert),
      key: pki.read(deep.key),
    })
    mutual = await startHttpsUpstream(pem(server), caPem)
    const service = (name: string, upstream: HttpsUpstream, extra: object = {}) => ({
      name,
      url: `https://127.0.0.1:${upstream.port}`,
      routes: [{ name, paths: [`/${name}`] }],
      ...extra,
    })
    ;({ gh, tlsPort: port } = await startTlsGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          service('strict', plain),
          service('trusted', plain, { ca_certificates: [ca.cert] }),
          service('unverified', plain, { tls_verify: false }),
          service('depth-0', chained, { ca_certificates: [caPem], tls_verify_depth: 0 }),
          service('depth-1', chained, { ca_certificates: [caPem], tls_verify_depth: 1 }),
          service('mtls', mutual, {
            ca_certificates: [ca.cert],
            client_certificate: { cert: client.cert, key: pki.read(client.key) },
          }),
          service('mtls-missing', mutual, { ca_certificates: [ca.cert] }),
        ],
        proxy: { tls: { certificates: [{ cert: shop.cert, key: shop.key, snis: ['shop.example'] }] } },
      },
      args: ['--proxy-listen', 'off'],
    }))
  })

  after(async () => {
    await gh?.stop()
    await Promise.all([plain?.close(), chained?.close(), mutual?.close()])
    pki.remove()
  })

  const get = (path: string) => httpsGet(port, 'shop.example', path, { ca: caPem })

  it('serves HTTPS only when proxy.listen is off', () => {
    const started = gh.lines.find((l) => l.msg === 'gatehouse started')!
    assert.equal(started.proxy, '')
    assert.match(String(started.proxy_tls), /^127\.0\.0\.1:\d+$/)
  })

  it('verifies the upstream certificate by default: an untrusted CA is a 502 with its own code', async () => {
    const res = await get('/strict')
    assert.equal(res.status, 502)
    const body = JSON.parse(res.body) as { code: string; message: string }
    assert.equal(body.code, 'GH_ERR_UPSTREAM_CERTIFICATE_INVALID')
    assert.equal(body.message, "The upstream server's certificate could not be verified")
    const logged = await gh.waitForLog((l) => l.type === 'access' && l.path === '/strict')
    assert.equal(logged.error_code, 'GH_ERR_UPSTREAM_CERTIFICATE_INVALID')
    assert.match(String(logged.error_detail), /^UNABLE_TO_VERIFY_LEAF_SIGNATURE: /)
  })

  it('trusts the CAs a service lists in ca_certificates (a file, or PEM text)', async () => {
    const res = await get('/trusted')
    assert.equal(res.status, 200)
    const echo = JSON.parse(res.body) as Echo
    assert.equal(echo.url, '/')
    assert.equal(echo.headers['x-forwarded-proto'], 'https')
    assert.equal((await get('/depth-1')).status, 200)
  })

  it('skips verification when tls_verify is false', async () => {
    assert.equal((await get('/unverified')).status, 200)
  })

  it('refuses a chain with more intermediate CAs than tls_verify_depth', async () => {
    const res = await get('/depth-0')
    assert.equal(res.status, 502)
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'GH_ERR_UPSTREAM_CERTIFICATE_INVALID')
    const logged = await gh.waitForLog((l) => l.type === 'access' && l.path === '/depth-0')
    assert.match(
      String(logged.error_detail),
      /^CERT_CHAIN_TOO_LONG: certificate chain too long: 1 intermediate CAs/,
    )
  })

  it('presents the client certificate to an upstream that requires one (mutual TLS)', async () => {
    const res = await get('/mtls')
    assert.equal(res.status, 200)
    assert.equal((JSON.parse(res.body) as Echo).client, 'gatehouse-client')
    const refused = await get('/mtls-missing')
    assert.equal(refused.status, 502)
    assert.equal((JSON.parse(refused.body) as { code: string }).code, 'GH_ERR_UPSTREAM_UNAVAILABLE')
  })

  // Last: it stops the gateway.
  it('lets requests in flight on HTTP/2 and HTTP/1.1 finish when it shuts down', async () => {
    const headers = { 'x-delay-ms': '400' }
    const h1 = httpsGet(port, 'shop.example', '/trusted', { ca: caPem, headers })
    const h2 = h2Request(port, 'shop.example', { ':path': '/trusted', ...headers }, { ca: caPem })
    await new Promise((resolve) => setTimeout(resolve, 150))
    gh.signal('SIGTERM')
    assert.equal((await h1).status, 200)
    assert.equal((await h2).headers[':status'], 200)
    assert.deepEqual(await gh.exited, { code: 0, signal: null })
  })
})
