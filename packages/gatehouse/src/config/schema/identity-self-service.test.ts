import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { load, problems } from '../../../test/harness/config.ts'

const SECRET = 'x'.repeat(40)
const identity = (extra: string) =>
  `_format_version: "3.0"\nidentity:\n  enabled: true\n  issuer: https://id.example\n  secret: ${SECRET}\n${extra}`

describe('identity self-service settings', () => {
  it('keeps registration and password reset off, and the account page on, by default', () => {
    const settings = load(identity('')).settings.identity
    assert.equal(settings.registration.enabled, false)
    assert.equal(settings.password_reset.enabled, false)
    assert.equal(settings.password_reset.link_ttl, 900)
    assert.equal(settings.account.enabled, true)
    assert.equal(settings.email, undefined)
  })

  it('refuses reset or registration without identity.email, naming the key', () => {
    assert.deepEqual(
      problems(identity('  password_reset: { enabled: true }\n  registration: { enabled: true }\n')),
      [
        'gatehouse.yaml: identity.registration.enabled: needs identity.email (an SMTP server and a From address): the links are sent by e-mail',
        'gatehouse.yaml: identity.password_reset.enabled: needs identity.email (an SMTP server and a From address): the links are sent by e-mail',
      ],
    )
  })

  it('needs exactly one SMTP server, with credentials in auth rather than in the URL', () => {
    const email = (smtp: string) => identity(`  email: { from: a@example.test, smtp: ${smtp} }\n`)
    assert.deepEqual(problems(email('{ secure: true }')), [
      'gatehouse.yaml: identity.email.smtp: give either url or host (and port, secure, auth), not both or neither',
    ])
    assert.deepEqual(problems(email('{ url: "smtps://u:p@mail.example:465" }')), [
      'gatehouse.yaml: identity.email.smtp.url: must not carry credentials; put them in auth (auth.pass as {vault://env/NAME})',
    ])
    assert.deepEqual(problems(email('{ url: "http://mail.example" }')), [
      'gatehouse.yaml: identity.email.smtp.url: expected an smtp:// or smtps:// URL',
    ])
    const ok = load(email('{ host: mail.example, port: 587, auth: { user: u, pass: p } }'))
    assert.equal(ok.settings.identity.email?.smtp.host, 'mail.example')
  })

  it("reserves the account page's client id", () => {
    assert.deepEqual(
      problems(
        identity('  clients: [{ client_id: gatehouse-account, redirect_uris: ["https://a.example/cb"] }]\n'),
      ),
      [
        "gatehouse.yaml: identity.clients[0].client_id: 'gatehouse-account' is the account page's own client; choose another id",
      ],
    )
  })
})
