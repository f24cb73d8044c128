/**
 * How a service's https connections are made: which CAs its certificate must chain to
 * (`ca_certificates`, else the system's), how deep that chain may be (`tls_verify_depth`), and the
 * client certificate presented for mutual TLS (`client_certificate`). The PEM is read once per loaded
 * configuration (`checkUpstreamTls`, which reports every problem as a ConfigError naming the service's
 * key) and kept per service entity, so building pools reads nothing.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto'
import { type ConnectionOptions, checkServerIdentity, type PeerCertificate } from 'node:tls'
import type { GatewayConfig, ServiceEntity } from '../config/model.ts'
import { ConfigError, type ConfigIssue } from '../errors/errors.ts'
import { isEncryptedKey, PemError, readPem } from './pem.ts'

export interface UpstreamTls {
  /** Tells pools with different TLS material apart (a digest; never the material itself). */
  readonly key: string
  /** Options for tls.connect, through undici's `connect`. */
  readonly options: TlsOptions
}

type TlsOptions = Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'checkServerIdentity'>

const NONE: UpstreamTls = { key: '', options: {} }
const resolved = new WeakMap<ServiceEntity, UpstreamTls>()

/** Reads every service's TLS files; throws a ConfigError carrying every problem. */
export function checkUpstreamTls(config: GatewayConfig, baseDir: string): void {
  const issues: ConfigIssue[] = []
  config.services.forEach((service, i) => {
    try {
      upstreamTlsOf(service, baseDir)
    } catch (err) {
      if (!(err instanceof TlsMaterialError)) throw err
      issues.push({ path: `services[${i}].${err.field}`, message: err.message })
    }
  })
  if (issues.length > 0) throw new ConfigError(config.source, issues)
}

/** The TLS options of `service` (read on first use, then remembered for the entity). */
export function upstreamTlsOf(service: ServiceEntity, baseDir: string): UpstreamTls {
  let tls = resolved.get(service)
  if (tls === undefined) {
    tls = service.protocol === 'https' ? build(service, baseDir) : NONE
    resolved.set(service, tls)
  }
  return tls
}

class TlsMaterialError extends Error {
  readonly field: string
  constructor(field: string, message: string) {
    super(message)
    this.field = field
  }
}

function build(service: ServiceEntity, baseDir: string): UpstreamTls {
  const options: TlsOptions = {}
  const digest = createHash('sha256')
  if (service.ca_certificates !== null) {
    options.ca = service.ca_certificates.map((value, k) => {
      const pem = read(value, baseDir, `ca_certificates[${k}]`)
      if (!canParseCertificate(pem))
        throw new TlsMaterialError(`ca_certificates[${k}]`, 'not a PEM certificate')
      return pem
    })
    digest.update(JSON.stringify(options.ca))
  }
  const client = service.client_certificate
  if (client !== null) {
    const cert = read(client.cert, baseDir, 'client_certificate.cert')
    const key = read(client.key, baseDir, 'client_certificate.key')
    let x509: X509Certificate
    try {
      x509 = new X509Certificate(cert)
    } catch {
      throw new TlsMaterialError('client_certificate.cert', 'not a PEM certificate')
    }
    if (isEncryptedKey(key))
      throw new TlsMaterialError('client_certificate.key', 'the key is encrypted; give it unencrypted')
    let matches: boolean
    try {
      matches = x509.checkPrivateKey(createPrivateKey(key))
    } catch {
      throw new TlsMaterialError('client_certificate.key', 'not a PEM private key')
    }
    if (!matches)
      throw new TlsMaterialError(
        'client_certificate.key',
        'does not match the certificate (client_certificate.cert)',
      )
    options.cert = cert
    options.key = key
    digest.update(cert).update(key)
  }
  const depth = service.tls_verify_depth
  if (depth !== null && service.tls_verify) {
    options.checkServerIdentity = (host, peer) => checkServerIdentity(host, peer) ?? checkDepth(peer, depth)
    digest.update(`depth:${depth}`)
  }
  if (options.ca === undefined && options.cert === undefined && options.checkServerIdentity === undefined)
    return NONE
  return { key: digest.digest('hex').slice(0, 16), options }
}

function read(value: string, baseDir: string, field: string): string {
  try {
    return readPem(value, baseDir)
  } catch (err) {
    if (err instanceof PemError) throw new TlsMaterialError(field, err.message)
    throw err
  }
}

function canParseCertificate(pem: string): boolean {
  try {
    new X509Certificate(pem)
    return true
  } catch {
    return false
  }
}

/**
 * OpenSSL's verify depth, checked once the chain is verified (Node has no option for it): at most
 * `depth` intermediate CA certificates between the upstream's certificate and the trusted CA.
 */
function checkDepth(peer: PeerCertificate, depth: number): Error | undefined {
  // Node's chain (getPeerCertificate(true)) ends at the self-signed anchor, its own issuer.
  let intermediates = -1
  let previous: PeerCertificate = peer
  let cert = issuerOf(peer)
  while (cert !== undefined && cert.fingerprint256 !== previous.fingerprint256) {
    intermediates++
    previous = cert
    cert = issuerOf(cert)
  }
  if (intermediates <= depth) return undefined
  return Object.assign(
    new Error(`certificate chain too long: ${intermediates} intermediate CAs, tls_verify_depth ${depth}`),
    {
      code: 'CERT_CHAIN_TOO_LONG',
    },
  )
}

function issuerOf(cert: PeerCertificate): PeerCertificate | undefined {
  return (cert as PeerCertificate & { issuerCertificate?: PeerCertificate }).issuerCertificate
}
