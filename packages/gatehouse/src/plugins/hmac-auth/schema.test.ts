/**
 * hmac-auth's config and credential schemas: Kong's defaults and messages (spec/03-plugins/19-hmac-auth/
 * 01-schema_spec.lua), each problem naming its key, and the credential's generated secret.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FILE, load, problems } from '../../../test/harness/config.ts'
import { parseHttpDate } from './http-date.ts'

const plugin = (config: string) => `_format_version: "3.0"
plugins:
- name: hmac-auth
  config: ${config}
`

const consumers = (entries: string) => `_format_version: "3.0"
consumers:
${entries}`

describe('hmac-auth config', () => {
  it("fills in Kong's defaults for an empty config", () => {
    assert.deepEqual(load(plugin('{}')).plugins[0]!.config, {
      hide_credentials: false,
      clock_skew: 300,
      validate_request_body: false,
      enforce_headers: [],
      algorithms: ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'],
    })
  })

  it("accepts a Kong export's nulls and a fractional clock skew", () => {
    const config = load(plugin('{ anonymous: null, realm: null, clock_skew: 0.5 }')).plugins[0]!
      .config as Record<string, unknown>
    assert.equal(config.anonymous, null)
    assert.equal(config.clock_skew, 0.5)
  })

  it("refuses a clock skew of zero or less with Kong's message", () => {
    for (const skew of ['-10', '0'])
      assert.deepEqual(problems(plugin(`{ clock_skew: ${skew} }`)), [
        `${FILE}: plugins[0].config.clock_skew: value must be greater than 0`,
      ])
  })

  it("refuses an unknown algorithm with Kong's message, naming the element", () => {
    assert.deepEqual(problems(plugin('{ algorithms: [hmac-sha256, sha1024] }')), [
      `${FILE}: plugins[0].config.algorithms[1]: expected one of: hmac-sha1, hmac-sha256, hmac-sha384, hmac-sha512`,
    ])
  })

  it('refuses an enforced name that no request could sign, an unknown key and a realm no header can carry', () => {
    assert.deepEqual(
      problems(plugin('{ enforce_headers: [date, "x date"], run_on_preflight: false, realm: "caf\u00e9" }')),
      [
        `${FILE}: plugins[0].config.enforce_headers[1]: must be a header name, \`@request-target\` or \`request-line\``,
        `${FILE}: plugins[0].config.realm: must be printable ASCII (it is sent in the WWW-Authenticate header)`,
        `${FILE}: plugins[0].config.run_on_preflight: unknown key`,
      ],
    )
  })

  it('refuses to be scoped to a consumer, as Kong does', () => {
    assert.deepEqual(problems(consumers('- username: ann\n  plugins:\n  - name: hmac-auth\n')), [
      `${FILE}: consumers[0].plugins[0].consumer: plugin 'hmac-auth' cannot be scoped to a consumer`,
    ])
  })
})

describe('hmacauth_credentials', () => {
  it('keeps a secret as written and generates a 32-character one when it is left out', () => {
    const config = load(
      consumers(
        '- username: ann\n  hmacauth_credentials: [{ username: ann, secret: s3cret }, { username: ann-2 }]\n',
      ),
    )
    const [given, generated] = config.credentials.hmacauth_credentials!
    assert.equal(given!.secret, 's3cret')
    assert.match(generated!.secret as string, /^[A-Za-z0-9_-]{32}$/)
  })

  it("refuses a missing username (Kong's required field), an empty secret and a quote in a username, without quoting the secret", () => {
    const lines = problems(
      consumers(`- username: ann
  hmacauth_credentials:
  - { secret: hunter2-secret }
  - { username: bob, secret: "" }
  - { username: 'c"d', secret: x }
`),
    )
    assert.deepEqual(lines, [
      `${FILE}: consumers[0].hmacauth_credentials[0].username: is required`,
      `${FILE}: consumers[0].hmacauth_credentials[1].secret: must not be empty`,
      `${FILE}: consumers[0].hmacauth_credentials[2].username: must not contain \`"\`, \`\\\` or control characters (it is sent as a quoted parameter)`,
    ])
    assert.ok(!lines.join('\n').includes('hunter2-secret'))
  })

  it('refuses a username used twice, across consumers', () => {
    assert.deepEqual(
      problems(
        consumers(`- username: ann
  hmacauth_credentials: [{ username: shared, secret: a }]
- username: bob
  hmacauth_credentials: [{ username: shared, secret: b }]
`),
      ),
      [
        `${FILE}: consumers[1].hmacauth_credentials[0].username: must be unique; the same value is at consumers[0].hmacauth_credentials[0]`,
      ],
    )
  })
})

describe('HTTP-date, as the clock-skew check reads it', () => {
  it('reads the three formats of RFC 9110 and nothing else', () => {
    const at = Date.UTC(1994, 10, 6, 8, 49, 37)
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), at)
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), at)
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), at)
    for (const bad of ['1994-11-06T08:49:37Z', '784111777', 'Sun, 31 Feb 1994 08:49:37 GMT', 'yesterday', ''])
      assert.equal(parseHttpDate(bad), null, bad)
  })
})
