/**
 * TLS configuration problems are reported precisely, naming the key: the schema's rules when the file
 * loads, and what only the files can tell (unreadable, not PEM, a key that is not the certificate's)
 * when the listener and the upstream pools are made, before anything starts.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ConfigError } from '../../src/errors/errors.ts'
import { loadCertificates } from '../../src/proxy/certificates.ts'
import { checkUpstreamTls } from '../../src/proxy/upstream-tls.ts'
import { FILE, load, problems } from '../harness/config.ts'
import { runCli, writeTempConfig } from '../harness/gatehouse.ts'
import { type Issued, Pki } from './support.ts'

const CLEAN_ENV = { GATEHOUSE_CONFIG: '', GATEHOUSE_PROXY_LISTEN: '', GATEHOUSE_PROXY_TLS_LISTEN: '' }

function issuesOf(fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`)
    return err.message.split('\n')
  }
  assert.fail('expected a ConfigError')
}

describe('TLS configuration', () => {
  const pki = new Pki()
  let shop: Issued
  let other: Issued
  let encryptedKey: string

  before(() => {
    shop = pki.issue('shop', { subject: '/CN=shop.example', san: ['DNS:shop.example'] })
    other = pki.issue('other', { subject: '/CN=other.example', san: ['DNS:other.example'] })
    encryptedKey = join(pki.dir, 'encrypted.key')
    execFileSync('openssl', [
      'pkey',
      '-in',
      shop.key,
      '-aes256',
      '-passout',
      'pass:secret',
      '-out',
      encryptedKey,
    ])
  })

  after(() => pki.remove())

  const tlsYaml = (certificates: string, extra = '') => `_format_version: "3.0"
proxy:
  tls:
    certificates:
${certificates}${extra}`

  it('checks the shape of proxy.tls: names, duplicates and the default certificate', () => {
    assert.deepEqual(
      problems(
        tlsYaml(
          `    - { name: a, cert: a.pem, key: a.key, snis: [shop.example, "*.shop.example"] }
    - { name: a, cert: b.pem, key: b.key, snis: [SHOP.example, "shop_example"] }
`,
          '    default_certificate: c\n    min_version: TLSv1.1\n',
        ),
      ),
      [
        `${FILE}: proxy.tls.certificates[1].snis[1]: expected a host name such as shop.example, or a wildcard such as *.shop.example`,
        `${FILE}: proxy.tls.min_version: expected one of "TLSv1.2"|"TLSv1.3"`,
      ],
    )
    assert.deepEqual(
      problems(
        tlsYaml(
          `    - { name: a, cert: a.pem, key: a.key, snis: [shop.example] }
    - { name: a, cert: b.pem, key: b.key, snis: [SHOP.example] }
`,
          '    default_certificate: c\n',
        ),
      ),
      [
        `${FILE}: proxy.tls.certificates[1].name: 'a' is already the name of certificates[0]`,
        `${FILE}: proxy.tls.certificates[1].snis[0]: 'shop.example' is already listed by certificates[0]`,
        `${FILE}: proxy.tls.default_certificate: no certificate is named 'c'`,
      ],
    )
    assert.deepEqual(problems(tlsYaml('      []\n')), [
      `${FILE}: proxy.tls.certificates: needs at least one certificate`,
    ])
  })

  it('names the certificate file it cannot read, the key that is not its certificate, and an encrypted key', () => {
    const config = load(
      tlsYaml(`    - { cert: missing.pem, key: ${shop.key} }
    - { cert: ${shop.cert}, key: ${other.key} }
    - { cert: ${shop.key}, key: ${encryptedKey} }
    - { cert: ${other.cert}, key: ${pki.dir} }
`),
    )
    assert.deepEqual(
      issuesOf(() => loadCertificates(config.settings.proxy.tls!, pki.dir, FILE)),
      [
        `${FILE}: proxy.tls.certificates[0].cert: cannot read '${join(pki.dir, 'missing.pem')}': no such file`,
        `${FILE}: proxy.tls.certificates[1].key: does not match the certificate (proxy.tls.certificates[1].cert)`,
        `${FILE}: proxy.tls.certificates[2].cert: not a PEM certificate`,
        `${FILE}: proxy.tls.certificates[2].key: the key is encrypted; give it unencrypted (protect the file, or use a vault reference)`,
        `${FILE}: proxy.tls.certificates[3].key: cannot read '${pki.dir}': it is a directory`,
      ],
    )
  })

  it('takes a key as PEM text from a vault reference, and warns about a name the certificate does not cover', () => {
    const config = load(
      tlsYaml(
        `    - { cert: ${shop.cert}, key: "{vault://env/SHOP_KEY}", snis: [shop.example, www.shop.example] }\n`,
      ),
      {
        SHOP_KEY: pki.read(shop.key),
      },
    )
    const { notices } = loadCertificates(config.settings.proxy.tls!, pki.dir, FILE)
    assert.deepEqual(notices, [
      "proxy.tls.certificates[0].snis[1]: the certificate does not cover 'www.shop.example'; clients will refuse it",
    ])
  })

  it("checks a service's TLS fields, and refuses Kong's certificate entity ids", () => {
    const service = (fields: string) =>
      `_format_version: "3.0"\nservices:\n- name: orders\n  url: https://orders.internal\n${fields}`
    assert.deepEqual(problems(service('  tls_verify_depth: 65\n')), [
      `${FILE}: services[0].tls_verify_depth: expected number to be <=64`,
    ])
    assert.deepEqual(
      problems(
        service(
          '  client_certificate: { id: 2b9a3c1e-0d4f-4c52-9a6e-1f0f6a8f7e10 }\n  ca_certificates: [0c2f6b6e-8a9d-4f4b-b5d6-2f0f5d3a1b7c]\n',
        ),
      ),
      [
        `${FILE}: services[0].client_certificate: certificate entities are not supported yet; give { cert, key }`,
        `${FILE}: services[0].ca_certificates[0]: CA certificate entities are not supported yet; give a PEM file or text`,
      ],
    )
    const config = load(
      service(
        `  ca_certificates: [missing-ca.pem]\n  client_certificate: { cert: ${shop.cert}, key: ${other.key} }\n`,
      ),
    )
    assert.deepEqual(
      issuesOf(() => checkUpstreamTls(config, pki.dir)),
      [
        `${FILE}: services[0].ca_certificates[0]: cannot read '${join(pki.dir, 'missing-ca.pem')}': no such file`,
      ],
    )
    const mismatched = load(service(`  client_certificate: { cert: ${shop.cert}, key: ${other.key} }\n`))
    assert.deepEqual(
      issuesOf(() => checkUpstreamTls(mismatched, pki.dir)),
      [
        `${FILE}: services[0].client_certificate.key: does not match the certificate (client_certificate.cert)`,
      ],
    )
  })

  it('gatehouse start refuses an unusable certificate, naming it, and starts nothing', async () => {
    const { dir, file } = writeTempConfig(tlsYaml(`    - { cert: ${shop.cert}, key: ${other.key} }\n`))
    try {
      const result = await runCli(
        ['start', '--config', file, '--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'],
        CLEAN_ENV,
      )
      assert.equal(result.code, 1)
      assert.equal(
        result.stderr,
        `${file}: proxy.tls.certificates[0].key: does not match the certificate (proxy.tls.certificates[0].cert)\n` +
          'gatehouse: 1 problem in the configuration; nothing was started\n',
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('gatehouse start refuses --proxy-tls-listen without proxy.tls, and proxy.listen off without it', async () => {
    const { dir, file } = writeTempConfig('_format_version: "3.0"\n')
    try {
      const args = ['start', '--config', file, '--admin-listen', '127.0.0.1:0']
      const tls = await runCli([...args, '--proxy-tls-listen', '127.0.0.1:0'], CLEAN_ENV)
      assert.equal(tls.code, 1)
      assert.match(
        tls.stderr,
        /: proxy\.tls: required for --proxy-tls-listen \(HTTPS needs its certificates\)\n/,
      )
      const off = await runCli([...args], { ...CLEAN_ENV, GATEHOUSE_PROXY_LISTEN: 'off' })
      assert.equal(off.code, 1)
      assert.match(
        off.stderr,
        /: proxy\.listen: is off and there is no proxy\.tls: the proxy would not listen at all\n/,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
