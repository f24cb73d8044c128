import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { load, problems } from '../../../test/harness/config.ts'

const SECRET = 'identity-test-secret-0123456789abcdefghijklmnop'

function withProviders(entries: string): string {
  return `_format_version: "3.0"
identity:
  enabled: true
  issuer: https://id.shop.example
  secret: ${SECRET}
  external_providers:
${entries}`
}

const GOOGLE = `  - name: google
    display_name: Google
    issuer: https://accounts.google.com
    client_id: abc.apps.googleusercontent.com
    client_secret: s3cret
`

describe('identity.external_providers', () => {
  it('loads a provider with its defaults', () => {
    const [google] = load(withProviders(GOOGLE)).settings.identity.external_providers
    assert.deepEqual(google, {
      name: 'google',
      display_name: 'Google',
      issuer: 'https://accounts.google.com',
      client_id: 'abc.apps.googleusercontent.com',
      client_secret: 's3cret',
      client_auth: 'client_secret_basic',
      scopes: ['openid', 'profile', 'email'],
      create_accounts: false,
      trust_amr: false,
      timeout: 10,
    })
  })

  it('names each problem with its key: the name, the issuer, the scopes, the secret', () => {
    assert.deepEqual(
      problems(
        withProviders(`  - name: Google!
    display_name: Google
    issuer: http://accounts.google.com
    client_id: x
    scopes: [email]
`),
      ),
      [
        'gatehouse.yaml: identity.external_providers[0].name: must be 1-32 lower-case letters, digits and -, starting with a letter or digit',
        'gatehouse.yaml: identity.external_providers[0].issuer: must be https unless the host is localhost or a loopback address',
        'gatehouse.yaml: identity.external_providers[0].client_secret: is required',
        'gatehouse.yaml: identity.external_providers[0].scopes: must include openid (an ID token is required)',
      ],
    )
  })

  it('accepts plain http for a provider on a loopback address only', () => {
    const local = withProviders(GOOGLE.replace('https://accounts.google.com', 'http://127.0.0.2:8080'))
    assert.equal(load(local).settings.identity.external_providers[0]?.issuer, 'http://127.0.0.2:8080')
    assert.deepEqual(problems(local.replace('127.0.0.2', '10.0.0.2')), [
      'gatehouse.yaml: identity.external_providers[0].issuer: must be https unless the host is localhost or a loopback address',
    ])
  })

  it('refuses two providers with one name', () => {
    assert.deepEqual(problems(withProviders(GOOGLE + GOOGLE)), [
      "gatehouse.yaml: identity.external_providers[1].name: duplicate name 'google'",
    ])
  })
})
