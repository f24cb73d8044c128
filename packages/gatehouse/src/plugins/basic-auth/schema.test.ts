import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FILE, load, problems } from '../../../test/harness/config.ts'
import { parsePhc, verifyPassword } from '../../crypto/argon2id.ts'

const plugin = (config: string) => `_format_version: "3.0"
plugins:
- name: basic-auth
  config: ${config}
`

const consumers = (entries: string) => `_format_version: "3.0"
consumers:
${entries}`

const REFERENCE = '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc'

describe('basic-auth config', () => {
  it("fills in Kong's defaults for an empty config", () => {
    assert.deepEqual(load(plugin('{}')).plugins[0]!.config, { hide_credentials: false, realm: 'service' })
  })

  it("accepts a Kong export's null anonymous", () => {
    const config = load(plugin('{ anonymous: null, realm: api }')).plugins[0]!.config as Record<
      string,
      unknown
    >
    assert.equal(config.anonymous, null)
    assert.equal(config.realm, 'api')
  })

  it("rejects run_on_preflight, which Kong's basic-auth does not have either", () => {
    assert.deepEqual(problems(plugin('{ run_on_preflight: false }')), [
      `${FILE}: plugins[0].config.run_on_preflight: unknown key`,
    ])
  })

  it('rejects a realm that could not be sent in a header', () => {
    assert.deepEqual(problems(plugin('{ realm: "caf\u00e9" }')), [
      `${FILE}: plugins[0].config.realm: must be printable ASCII (it is sent in the WWW-Authenticate header)`,
    ])
  })

  it('refuses to be scoped to a consumer, as Kong does', () => {
    assert.deepEqual(problems(consumers('- username: ann\n  plugins:\n  - name: basic-auth\n')), [
      `${FILE}: consumers[0].plugins[0].consumer: plugin 'basic-auth' cannot be scoped to a consumer`,
    ])
  })
})

describe('basicauth_credentials', () => {
  it('keeps only an argon2id hash of a plain password, never the password', async () => {
    const config = load(
      consumers('- username: ann\n  basicauth_credentials: [{ username: ann, password: s3cret-pw }]\n'),
    )
    const entry = config.credentials.basicauth_credentials![0]!
    assert.equal(entry.username, 'ann')
    assert.match(entry.password as string, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    assert.ok(!JSON.stringify(config).includes('s3cret-pw'), 'the loaded configuration holds no password')
    const hash = parsePhc(entry.password as string)
    assert.ok(typeof hash !== 'string')
    assert.equal(await verifyPassword(hash, 's3cret-pw'), true)
  })

  it('reuses the hash of an unchanged credential on reload, and hashes a changed one again', () => {
    const text = (password: string) =>
      consumers(`- username: ann\n  basicauth_credentials: [{ username: ann, password: ${password} }]\n`)
    const phc = (password: string) => load(text(password)).credentials.basicauth_credentials![0]!.password
    const first = phc('one-password')
    assert.equal(phc('one-password'), first)
    assert.notEqual(phc('another-password'), first)
  })

  it('keeps an argon2id PHC string as written, so files need not hold passwords in clear', () => {
    const config = load(
      consumers(`- username: ann\n  basicauth_credentials: [{ username: ann, password: "${REFERENCE}" }]\n`),
    )
    assert.equal(config.credentials.basicauth_credentials![0]!.password, REFERENCE)
  })

  it('rejects a hash it cannot or will not check, without quoting it', () => {
    const lines = problems(
      consumers(`- username: ann
  basicauth_credentials:
  - { username: a, password: "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc" }
  - { username: b, password: "$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc" }
  - { username: c, password: "$argon2id$broken" }
`),
    )
    assert.deepEqual(lines, [
      `${FILE}: consumers[0].basicauth_credentials[0].password: only argon2id hashes are accepted (this is argon2i or argon2d)`,
      `${FILE}: consumers[0].basicauth_credentials[1].password: argon2id hash is too expensive to check (limits: m <= 65536, t <= 10, p <= 8)`,
      `${FILE}: consumers[0].basicauth_credentials[2].password: is not an argon2id PHC string ($argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>)`,
    ])
  })

  it('rejects a missing or empty password and a username with a colon, without quoting the password', () => {
    const lines = problems(
      consumers(`- username: ann
  basicauth_credentials:
  - { username: "ann:admin", password: hunter2 }
  - { username: bob }
  - { username: carol, password: "" }
`),
    )
    assert.deepEqual(lines, [
      `${FILE}: consumers[0].basicauth_credentials[0].username: must not contain ":" (Basic credentials are split at the first colon)`,
      `${FILE}: consumers[0].basicauth_credentials[1].password: is required`,
      `${FILE}: consumers[0].basicauth_credentials[2].password: must not be empty`,
    ])
    assert.ok(!lines.join('\n').includes('hunter2'))
  })

  it('rejects a username used twice, across consumers', () => {
    assert.deepEqual(
      problems(
        consumers(`- username: ann
  basicauth_credentials: [{ username: shared, password: pw-1 }]
- username: bob
  basicauth_credentials: [{ username: shared, password: pw-2 }]
`),
      ),
      [
        `${FILE}: consumers[1].basicauth_credentials[0].username: must be unique; the same value is at consumers[0].basicauth_credentials[0]`,
      ],
    )
  })
})
