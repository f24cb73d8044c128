/**
 * The proxy's TLS certificates, loaded and checked together: every file read, every certificate parsed,
 * every key matched to its certificate, before anything is served. A problem is a ConfigError naming
 * the key (`proxy.tls.certificates[1].key: does not match the certificate`); a certificate that has
 * expired, is not valid yet or does not cover a listed name is served anyway, with a warning.
 *
 * The set answers which certificate a server name gets: an exact name, else a wildcard one label up,
 * else the default certificate. A reload loads a new set and swaps it in whole (proxy/tls.ts).
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto'
import { createSecureContext, type SecureContext } from 'node:tls'
import type { ProxyTlsSettings } from '../config/schema/tls.ts'
import { ConfigError, type ConfigIssue } from '../errors/errors.ts'
import { isEncryptedKey, PemError, readPem } from './pem.ts'

/** What a SecureContext is made of; the server's own (default) context is set from these. */
export interface ContextOptions {
  readonly cert: string
  readonly key: string
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3'
}

export class CertificateSet {
  readonly #exact = new Map<string, SecureContext>()
  /** By the domain below the wildcard: `shop.example` for `*.shop.example`. */
  readonly #wildcard = new Map<string, SecureContext>()
  readonly #default: SecureContext
  /** The default certificate, for clients that send no server name. */
  readonly defaultOptions: ContextOptions

  constructor(
    entries: readonly { options: ContextOptions; snis: readonly string[] }[],
    defaultIndex: number,
  ) {
    const contexts = entries.map((e) => createSecureContext(e.options))
    entries.forEach((e, i) => {
      for (const sni of e.snis) {
        if (sni.startsWith('*.')) this.#wildcard.set(sni.slice(2), contexts[i]!)
        else this.#exact.set(sni, contexts[i]!)
      }
    })
    this.#default = contexts[defaultIndex]!
    this.defaultOptions = entries[defaultIndex]!.options
  }

  /** The context for a client's server name (SNI). */
  contextFor(servername: string): SecureContext {
    const name = servername.toLowerCase().replace(/\.$/, '')
    const exact = this.#exact.get(name)
    if (exact !== undefined) return exact
    const dot = name.indexOf('.')
    return (dot > 0 ? this.#wildcard.get(name.slice(dot + 1)) : undefined) ?? this.#default
  }
}

export interface LoadedCertificates {
  readonly set: CertificateSet
  /** Warnings as `path: message` (an expired certificate, a name it does not cover). */
  readonly notices: readonly string[]
}

/** Reads and checks `proxy.tls.certificates`; throws a ConfigError carrying every problem. */
export function loadCertificates(
  tls: ProxyTlsSettings,
  baseDir: string,
  source: string,
  now = Date.now(),
): LoadedCertificates {
  const issues: ConfigIssue[] = []
  const notices: string[] = []
  const entries: { options: ContextOptions; snis: readonly string[] }[] = []
  tls.certificates.forEach((c, i) => {
    const at = `proxy.tls.certificates[${i}]`
    const cert = parseCertificate(c.cert, baseDir, (message) => issues.push({ path: `${at}.cert`, message }))
    const key = parseKey(c.key, baseDir, (message) => issues.push({ path: `${at}.key`, message }))
    if (cert === null || key === null) return
    if (!cert.x509.checkPrivateKey(key.object)) {
      issues.push({ path: `${at}.key`, message: `does not match the certificate (${at}.cert)` })
      return
    }
    const options: ContextOptions = { cert: cert.pem, key: key.pem, minVersion: tls.min_version }
    try {
      createSecureContext(options)
    } catch (err) {
      issues.push({ path: at, message: `cannot be used: ${(err as Error).message}` })
      return
    }
    notices.push(...validityNotices(cert.x509, `${at}.cert`, now))
    c.snis.forEach((sni, k) => {
      const probe = sni.startsWith('*.') ? `gatehouse-sni-check${sni.slice(1)}` : sni
      if (cert.x509.checkHost(probe) === undefined)
        notices.push(`${at}.snis[${k}]: the certificate does not cover '${sni}'; clients will refuse it`)
    })
    entries.push({ options, snis: c.snis })
  })
  if (issues.length > 0) throw new ConfigError(source, issues)
  const named = tls.certificates.findIndex((c) => c.name === tls.default_certificate)
  return { set: new CertificateSet(entries, named === -1 ? 0 : named), notices }
}

function validityNotices(x509: X509Certificate, at: string, now: number): string[] {
  if (x509.validToDate.getTime() < now)
    return [`${at}: the certificate expired on ${x509.validToDate.toISOString()}; clients will refuse it`]
  if (x509.validFromDate.getTime() > now)
    return [`${at}: the certificate is not valid before ${x509.validFromDate.toISOString()}`]
  return []
}

function parseCertificate(
  value: string,
  baseDir: string,
  problem: (message: string) => void,
): { pem: string; x509: X509Certificate } | null {
  const pem = pemOf(value, baseDir, problem)
  if (pem === null) return null
  try {
    return { pem, x509: new X509Certificate(pem) }
  } catch {
    problem('not a PEM certificate')
    return null
  }
}

function parseKey(
  value: string,
  baseDir: string,
  problem: (message: string) => void,
): { pem: string; object: KeyObject } | null {
  const pem = pemOf(value, baseDir, problem)
  if (pem === null) return null
  if (isEncryptedKey(pem)) {
    problem('the key is encrypted; give it unencrypted (protect the file, or use a vault reference)')
    return null
  }
  try {
    return { pem, object: createPrivateKey(pem) }
  } catch {
    problem('not a PEM private key')
    return null
  }
}

function pemOf(value: string, baseDir: string, problem: (message: string) => void): string | null {
  try {
    return readPem(value, baseDir)
  } catch (err) {
    if (!(err instanceof PemError)) throw err
    problem(err.message)
    return null
  }
}
