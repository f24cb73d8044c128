import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FILE, load, problems, registry } from '../../../test/harness/config.ts'
import { ConfigError } from '../../errors/errors.ts'
import { InternalKeyRing } from '../../internal-tokens/key-ring.ts'
import { createLoggers } from '../../observability/logger.ts'
import { GatewayMetrics } from '../../observability/metrics.ts'
import { GatewayRuntime } from '../../pipeline/runtime.ts'
import { UpstreamRegistry } from '../../proxy/upstreams.ts'

const plugin = (config: string) => `_format_version: "3.0"
plugins:
- name: key-auth
  config: ${config}
`

const consumers = (entries: string) => `_format_version: "3.0"
consumers:
${entries}`

describe('key-auth config', () => {
  it("fills in Kong's defaults for an empty config", () => {
    assert.deepEqual(load(plugin('{}')).plugins[0]!.config, {
      key_names: ['apikey'],
      hide_credentials: false,
      key_in_header: true,
      key_in_query: true,
      key_in_body: false,
      run_on_preflight: true,
    })
  })

  it("accepts a Kong export's nulls for unset fields and key_in_body: false", () => {
    const config = load(
      plugin('{ anonymous: null, realm: null, key_in_body: false, key_names: [x-api-key] }'),
    ).plugins[0]!.config as Record<string, unknown>
    assert.equal(config.anonymous, null)
    assert.equal(config.realm, null)
    assert.deepEqual(config.key_names, ['x-api-key'])
  })

  it('rejects a key name that is not a header name, and an empty list of names', () => {
    assert.deepEqual(problems(plugin('{ key_names: [apikey, "api key"] }')), [
      `${FILE}: plugins[0].config.key_names[1]: bad header name, allowed characters are A-Z, a-z, 0-9, "_", and "-"`,
    ])
    assert.deepEqual(problems(plugin('{ key_names: [] }')), [
      `${FILE}: plugins[0].config.key_names: must name at least one key`,
    ])
  })

  it('rejects a realm that could not be sent in a header', () => {
    assert.deepEqual(problems(plugin('{ realm: "a\\r\\nSet-Cookie: x=1" }')), [
      `${FILE}: plugins[0].config.realm: must be printable ASCII (it is sent in the WWW-Authenticate header)`,
    ])
  })

  it('rejects an unknown key and names the one it resembles', () => {
    assert.deepEqual(problems(plugin('{ key_name: [apikey] }')), [
      `${FILE}: plugins[0].config.key_name: unknown key (did you mean 'key_names'?)`,
    ])
  })

  it('refuses to be scoped to a consumer, as Kong does (it is what finds the consumer)', () => {
    const text = consumers(`- username: ann
  plugins:
  - name: key-auth
`)
    assert.deepEqual(problems(text), [
      `${FILE}: consumers[0].plugins[0].consumer: plugin 'key-auth' cannot be scoped to a consumer`,
    ])
  })

  it('refuses to start with an anonymous consumer that does not exist', async () => {
    const config = load(`_format_version: "3.0"
consumers:
- username: ann
plugins:
- name: key-auth
  config: { anonymous: ghost }
`)
    const upstreams = new UpstreamRegistry()
    const deps = {
      registry,
      upstreams,
      metrics: new GatewayMetrics(),
      logger: createLoggers({ level: 'silent' }).logger,
      internalKeys: new InternalKeyRing(
        config.settings.internal_tokens,
        createLoggers({ level: 'silent' }).logger,
      ),
    }
    assert.throws(
      () => new GatewayRuntime(config, deps),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message ===
          `${FILE}: plugins (key-auth, global): plugin 'key-auth' cannot use this config: anonymous consumer 'ghost' is configured but doesn't exist`,
    )
    await upstreams.closeAll()
  })
})

describe('keyauth_credentials', () => {
  it('keeps a given key and ttl, nested or top-level', () => {
    const config = load(`_format_version: "3.0"
consumers:
- username: ann
  keyauth_credentials:
  - key: ann-key
    ttl: 3600
- username: bob
keyauth_credentials:
- consumer: bob
  key: bob-key
`)
    const [ann, bob] = config.consumers
    const keys = config.credentials.keyauth_credentials!
    assert.deepEqual(
      keys.map((k) => [k.consumer.id, k.key, k.ttl]),
      [
        [ann!.id, 'ann-key', 3600],
        [bob!.id, 'bob-key', null],
      ],
    )
  })

  it('generates a 32-character key when none is given, keeps it across reloads and says to write it down', () => {
    const text = consumers(`- username: ann
  keyauth_credentials:
  - {}
`)
    const first = load(text)
    const key = first.credentials.keyauth_credentials![0]!.key as string
    assert.match(key, /^[0-9a-f]{32}$/)
    assert.equal(load(text).credentials.keyauth_credentials![0]!.key, key)
    assert.deepEqual(first.notices, [
      'consumers[0].keyauth_credentials[0].key: not set, so one was generated; it changes when the process restarts — set it in the file',
    ])
    assert.ok(!first.notices.join('\n').includes(key), 'the notice does not quote the key')
  })

  it('rejects a duplicate key without quoting it (keys are secrets)', () => {
    const lines = problems(
      consumers(`- username: ann
  keyauth_credentials: [{ key: s3cret-shared }]
- username: bob
  keyauth_credentials: [{ key: s3cret-shared }]
`),
    )
    assert.deepEqual(lines, [
      `${FILE}: consumers[1].keyauth_credentials[0].key: must be unique; the same value is at consumers[0].keyauth_credentials[0]`,
    ])
    assert.ok(!lines.join('\n').includes('s3cret'))
  })

  it('rejects an empty key and a ttl that is not a whole number of seconds in range', () => {
    assert.deepEqual(
      problems(
        consumers(`- username: ann
  keyauth_credentials:
  - { key: "" }
  - { key: a, ttl: -1 }
  - { key: b, ttl: 1.5 }
  - { key: c, ttl: 100000001 }
`),
      ),
      [
        `${FILE}: consumers[0].keyauth_credentials[0].key: must not be empty`,
        `${FILE}: consumers[0].keyauth_credentials[1].ttl: must be an integer between 0 and 100000000`,
        `${FILE}: consumers[0].keyauth_credentials[2].ttl: must be an integer between 0 and 100000000`,
        `${FILE}: consumers[0].keyauth_credentials[3].ttl: must be an integer between 0 and 100000000`,
      ],
    )
  })

  it('treats a ttl of 0 as no expiry', () => {
    const keys = load(consumers(`- username: ann\n  keyauth_credentials: [{ key: a, ttl: 0 }]\n`)).credentials
      .keyauth_credentials!
    assert.equal(keys[0]!.ttl, null)
  })

  it('requires the consumer of a top-level credential', () => {
    assert.deepEqual(problems(`_format_version: "3.0"\nkeyauth_credentials:\n- key: orphan\n`), [
      `${FILE}: keyauth_credentials[0].consumer: is required for a credential declared at the top level`,
    ])
  })
})
