import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { rmSync } from 'node:fs'
import { describe, it } from 'node:test'
import { FILE, load, problems, withService } from '../../../test/harness/config.ts'
import { runCli, writeTempConfig } from '../../../test/harness/gatehouse.ts'
import { P256, P384, RSA } from './test-fixtures.ts'

const SECRET = 'an-hs256-secret-of-forty-characters-long'

/** YAML for one consumer `ann` with the given jwt_secrets entries (JSON inline, so PEMs keep their newlines). */
function withSecrets(...entries: object[]): string {
  return `_format_version: "3.0"\nconsumers:\n- username: ann\n  jwt_secrets: ${JSON.stringify(entries)}\n`
}

function withPlugin(config: object): string {
  return withService(`  plugins:\n  - name: jwt\n    config: ${JSON.stringify(config)}\n`)
}

const PEM_BODY = (pem: string) => pem.split('\n')[1]!

describe('jwt_secrets credentials', () => {
  it("fills in Kong's defaults: HS256, and a generated 32-character key and secret with a notice for each", () => {
    const config = load(withSecrets({}))
    const [credential] = config.credentials.jwt_secrets!
    assert.equal(credential!.algorithm, 'HS256')
    assert.match(credential!.key as string, /^[A-Za-z0-9]{32}$/)
    assert.match(credential!.secret as string, /^[A-Za-z0-9]{32}$/)
    assert.equal(credential!.rsa_public_key, null)
    assert.deepEqual(
      config.notices.filter((n) => n.includes('jwt_secrets')),
      [
        'consumers[0].jwt_secrets[0].key: not set, so one was generated; it changes when the process restarts — set it in the file',
        'consumers[0].jwt_secrets[0].secret: not set, so one was generated; it changes when the process restarts — set it in the file',
      ],
    )
  })

  it('accepts a credential declared at the top level naming its consumer', () => {
    const config = load(
      `_format_version: "3.0"\nconsumers:\n- username: ann\njwt_secrets:\n- { consumer: ann, key: issuer-a, secret: ${SECRET} }\n`,
    )
    assert.equal(config.credentials.jwt_secrets![0]!.key, 'issuer-a')
  })

  it('refuses an HS secret shorter than 32 bytes, saying why and how to make a good one', () => {
    assert.deepEqual(
      problems(withSecrets({ key: 'a', secret: SECRET }, { key: 'b', secret: 'short-secret' })),
      [
        `${FILE}: consumers[0].jwt_secrets[1].secret: is 12 bytes; HS256 needs a secret of at least 32 bytes, or one token is enough to guess it offline (RFC 7518 §3.2, RFC 8725 §3.5): remove it to have one generated, or set a random one, e.g. the output of \`openssl rand -base64 32\``,
      ],
    )
  })

  it('counts bytes, not characters, in a secret', () => {
    // 16 characters of 2 bytes each: 32 bytes.
    assert.equal(load(withSecrets({ key: 'a', secret: 'é'.repeat(16) })).credentials.jwt_secrets!.length, 1)
  })

  it('requires a public key for every non-HS algorithm, ES256 included', () => {
    assert.deepEqual(
      problems(withSecrets({ key: 'a', algorithm: 'RS256' }, { key: 'b', algorithm: 'ES256' })),
      [
        `${FILE}: consumers[0].jwt_secrets[0].rsa_public_key: is required: RS256 tokens are verified with the consumer's public key (PEM)`,
        `${FILE}: consumers[0].jwt_secrets[1].rsa_public_key: is required: ES256 tokens are verified with the consumer's public key (PEM)`,
      ],
    )
  })

  it('refuses a public key that does not parse, without quoting it', () => {
    const broken = RSA.publicPem.replace(PEM_BODY(RSA.publicPem), 'AAAA')
    const lines = problems(withSecrets({ key: 'a', algorithm: 'RS256', rsa_public_key: broken }))
    assert.deepEqual(lines, [
      `${FILE}: consumers[0].jwt_secrets[0].rsa_public_key: is not a PEM public key that can be parsed`,
    ])
  })

  it('refuses a key of the wrong type, size or curve for its algorithm', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    })
    const ed448 = generateKeyPairSync('ed448').publicKey.export({ type: 'spki', format: 'pem' })
    const lines = problems(
      withSecrets(
        { key: 'a', algorithm: 'RS256', rsa_public_key: P256.publicPem },
        { key: 'b', algorithm: 'PS384', rsa_public_key: small },
        { key: 'c', algorithm: 'ES256', rsa_public_key: P384.publicPem },
        { key: 'd', algorithm: 'ES512', rsa_public_key: RSA.publicPem },
        { key: 'e', algorithm: 'EdDSA', rsa_public_key: P256.publicPem },
        { key: 'f', algorithm: 'EdDSA', rsa_public_key: ed448 },
      ),
    )
    assert.deepEqual(lines, [
      `${FILE}: consumers[0].jwt_secrets[0].rsa_public_key: is an EC key; RS256 needs an RSA key (rsaEncryption)`,
      `${FILE}: consumers[0].jwt_secrets[1].rsa_public_key: is a 1024-bit RSA key; PS384 needs at least 2048 bits (RFC 7518 §3.3)`,
      `${FILE}: consumers[0].jwt_secrets[2].rsa_public_key: is an EC key on another curve; ES256 needs P-256`,
      `${FILE}: consumers[0].jwt_secrets[3].rsa_public_key: is an RSA key; ES512 needs an EC key on P-521`,
      `${FILE}: consumers[0].jwt_secrets[4].rsa_public_key: is an EC key; EdDSA needs an Ed25519 key`,
      `${FILE}: consumers[0].jwt_secrets[5].rsa_public_key: is an Ed448 key; EdDSA tokens are verified with jose, which supports Ed25519 only: use an Ed25519 key`,
    ])
  })

  it('refuses a private key in place of the public one and never prints it', () => {
    const privatePem = RSA.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
    let message = ''
    try {
      load(withSecrets({ key: 'a', algorithm: 'RS256', rsa_public_key: privatePem }))
    } catch (err) {
      message = (err as Error).message
    }
    assert.equal(
      message,
      `${FILE}: consumers[0].jwt_secrets[0].rsa_public_key: is a private key; give only the public key (-----BEGIN PUBLIC KEY-----), never the private one`,
    )
    assert.ok(!message.includes(PEM_BODY(privatePem)))
  })

  it('refuses an algorithm outside the 13 Kong supports', () => {
    assert.deepEqual(problems(withSecrets({ key: 'a', algorithm: 'none' })), [
      `${FILE}: consumers[0].jwt_secrets[0].algorithm: expected one of HS256, HS384, HS512, RS256, RS384, RS512, ES256, ES384, ES512, PS256, PS384, PS512, EdDSA`,
    ])
  })

  it('refuses the same key on two credentials, naming both places and not the key', () => {
    const text = `_format_version: "3.0"
consumers:
- username: ann
  jwt_secrets: [{ key: shared-issuer, secret: ${SECRET} }]
- username: bob
  jwt_secrets: [{ key: shared-issuer, secret: ${SECRET} }]
`
    assert.deepEqual(problems(text), [
      `${FILE}: consumers[1].jwt_secrets[0].key: must be unique; the same value is at consumers[0].jwt_secrets[0]`,
    ])
  })

  it('keeps an HS credential secret as written and accepts every valid public key', () => {
    const config = load(
      withSecrets(
        { key: 'hs', secret: SECRET },
        { key: 'rs', algorithm: 'RS512', rsa_public_key: RSA.publicPem },
        { key: 'es', algorithm: 'ES384', rsa_public_key: P384.publicPem },
      ),
    )
    assert.deepEqual(
      config.credentials.jwt_secrets!.map((c) => [c.key, c.algorithm, c.secret, c.rsa_public_key]),
      [
        ['hs', 'HS256', SECRET, null],
        ['rs', 'RS512', null, RSA.publicPem],
        ['es', 'ES384', null, P384.publicPem],
      ],
    )
  })
})

describe('jwt plugin config', () => {
  it("fills in Kong's defaults for an empty config, with Gatehouse's additions off", () => {
    const config = load(withPlugin({})).plugins[0]!.config
    assert.deepEqual(config, {
      uri_param_names: ['jwt'],
      cookie_names: [],
      header_names: ['authorization'],
      key_claim_name: 'iss',
      secret_is_base64: false,
      maximum_expiration: 0,
      run_on_preflight: true,
      leeway: 0,
    })
  })

  it("accepts a Kong export's null for unset fields", () => {
    const config = load(
      withPlugin({ claims_to_verify: null, anonymous: null, realm: null, claims_to_headers: null }),
    ).plugins[0]!.config as Record<string, unknown>
    assert.equal(config.claims_to_verify, null)
    assert.equal(config.anonymous, null)
  })

  it('requires exp in claims_to_verify when maximum_expiration is above 0', () => {
    assert.deepEqual(problems(withPlugin({ maximum_expiration: 300, claims_to_verify: ['nbf'] })), [
      `${FILE}: services[0].plugins[0].config.claims_to_verify: must contain exp when maximum_expiration is above 0 (the limit is checked against exp)`,
    ])
    assert.equal(load(withPlugin({ maximum_expiration: 300, claims_to_verify: ['exp'] })).plugins.length, 1)
  })

  it("bounds maximum_expiration to a year with Kong's message", () => {
    assert.deepEqual(problems(withPlugin({ maximum_expiration: 31_536_001, claims_to_verify: ['exp'] })), [
      `${FILE}: services[0].plugins[0].config.maximum_expiration: value should be between 0 and 31536000`,
    ])
  })

  it('accepts only exp and nbf in claims_to_verify', () => {
    assert.deepEqual(problems(withPlugin({ claims_to_verify: ['exp', 'iat'] })), [
      `${FILE}: services[0].plugins[0].config.claims_to_verify[1]: expected exp or nbf`,
    ])
  })

  it('bounds leeway to 0..300 seconds', () => {
    assert.deepEqual(problems(withPlugin({ leeway: 301 })), [
      `${FILE}: services[0].plugins[0].config.leeway: expected number to be <=300`,
    ])
  })

  it('refuses claims_to_headers targets the gateway owns, the token header, or one used twice', () => {
    const at = `${FILE}: services[0].plugins[0].config.claims_to_headers`
    assert.deepEqual(problems(withPlugin({ claims_to_headers: { c: 'bad header' } })), [
      `${at}.c: must be an HTTP header name (RFC 9110 token)`,
    ])
    assert.deepEqual(
      problems(
        withPlugin({
          claims_to_headers: { sub: 'X-Consumer-ID', role: 'Authorization', a: 'x-user', b: 'X-User' },
        }),
      ),
      [
        `${at}.sub: 'X-Consumer-ID' is set by the gateway and cannot carry a claim`,
        `${at}.role: 'Authorization' carries the token (header_names)`,
        `${at}.b: 'X-User' already carries claim 'a'`,
      ],
    )
  })

  it('refuses a realm that cannot be sent in a header', () => {
    assert.deepEqual(problems(withPlugin({ realm: 'a\nb' })), [
      `${FILE}: services[0].plugins[0].config.realm: must be printable ASCII (it is sent in WWW-Authenticate)`,
    ])
  })

  it('refuses an anonymous consumer that does not exist when the gateway starts, instead of a 500 per request', async () => {
    const { dir, file } = writeTempConfig(
      withPlugin({ anonymous: 'ghost' }).replace('services:', 'consumers:\n- username: guest\nservices:'),
    )
    try {
      const result = await runCli([
        'start',
        '--config',
        file,
        '--proxy-listen',
        '127.0.0.1:0',
        '--admin-listen',
        '127.0.0.1:0',
      ])
      assert.equal(result.code, 1)
      assert.deepEqual(result.stderr.trim().split('\n'), [
        `${file}: plugins (jwt on service 'orders'): plugin 'jwt' cannot use this config: anonymous consumer 'ghost' is configured but doesn't exist`,
        'gatehouse: 1 problem in the configuration; nothing was started',
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
