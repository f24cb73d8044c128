import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { load, problems } from '../../../test/harness/config.ts'

const SECRET = 'x'.repeat(40)
// An $argon2id$ hash: taken as given, so loading does not hash a password.
const HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g'
const withUsers = (users: string) =>
  `_format_version: "3.0"\nidentity:\n  enabled: true\n  issuer: https://id.example\n  secret: ${SECRET}\n  users:\n${users}`
const user = (username: string, extra = '') => `  - { username: ${username}, password: "${HASH}"${extra} }\n`

describe('identity.users[].mfa: a declared user’s own second-factor policy', () => {
  it('keeps each declared user’s policy, and none for a user without the key', () => {
    const users = load(withUsers(user('root', ', mfa: required') + user('ops', ', mfa: off') + user('dev')))
      .settings.identity.users
    assert.deepEqual(
      users.map((u) => [u.username, u.mfa]),
      [
        ['root', 'required'],
        ['ops', 'off'],
        ['dev', null],
      ],
    )
  })

  it('refuses a value that is not a policy, naming the user’s key', () => {
    assert.deepEqual(problems(withUsers(user('root') + user('admin', ', mfa: always'))), [
      'gatehouse.yaml: identity.users[1].mfa: expected one of "off"|"optional"|"required"',
    ])
  })
})
