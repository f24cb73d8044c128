/**
 * The HTTPS listener on its own (proxy/tls.ts), in-process with a real socket: `http2: false` offers
 * HTTP/1.1 only, and `min_version` refuses older clients, also after certificates are swapped.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { connect as tlsConnect } from 'node:tls'
import { CertificateSet } from '../../src/proxy/certificates.ts'
import { TlsProxyListener } from '../../src/proxy/tls.ts'
import { trackServer } from '../harness/resources.ts'
import { handshake, httpsGet, Pki } from './support.ts'

const TIMEOUTS = { keepAliveTimeout: 5000, headersTimeout: 5000, maxHeaderSize: 16_384 }

describe('the HTTPS listener', () => {
  const pki = new Pki()
  let caPem: string
  let set: (minVersion: 'TLSv1.2' | 'TLSv1.3') => CertificateSet

  before(() => {
    const ca = pki.issue('ca', { subject: '/CN=Gatehouse Test CA', isCa: true })
    caPem = pki.read(ca.cert)
    const shop = pki.issue('shop', { subject: '/CN=shop.example', san: ['DNS:shop.example'], ca })
    set = (minVersion) =>
      new CertificateSet(
        [
          {
            options: { cert: pki.read(shop.cert), key: pki.read(shop.key), minVersion },
            snis: ['shop.example'],
          },
        ],
        0,
      )
  })

  after(() => pki.remove())

  async function listening(listener: TlsProxyListener): Promise<number> {
    trackServer('tls listener', listener.server)
    await new Promise<void>((resolve) => listener.server.listen(0, '127.0.0.1', resolve))
    return (listener.server.address() as AddressInfo).port
  }

  function tls12(port: number): Promise<string> {
    return new Promise((resolve) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        ca: caPem,
        servername: 'shop.example',
        maxVersion: 'TLSv1.2',
      })
      socket.once('secureConnect', () => {
        resolve(socket.getProtocol() ?? '')
        socket.destroy()
      })
      socket.once('error', () => resolve('refused'))
    })
  }

  it('offers HTTP/1.1 only when http2 is false', async () => {
    const listener = new TlsProxyListener({ ...TIMEOUTS, http2: false }, set('TLSv1.2'), (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('over tls')
    })
    const port = await listening(listener)
    try {
      assert.notEqual((await handshake(port, 'shop.example', caPem)).alpn, 'h2')
      const res = await httpsGet(port, 'shop.example', '/', { ca: caPem })
      assert.equal(res.status, 200)
      assert.equal(res.body, 'over tls')
    } finally {
      listener.server.close()
    }
  })

  it('refuses clients older than min_version, also once certificates are swapped', async () => {
    const listener = new TlsProxyListener({ ...TIMEOUTS, http2: true }, set('TLSv1.2'), (_req, res) =>
      res.end(),
    )
    const port = await listening(listener)
    try {
      assert.equal(await tls12(port), 'TLSv1.2')
      listener.setCertificates(set('TLSv1.3'))
      assert.equal(await tls12(port), 'refused')
    } finally {
      listener.server.close()
    }
  })
})
