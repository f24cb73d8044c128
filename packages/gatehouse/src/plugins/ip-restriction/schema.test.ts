import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { loadConfigObject } from '../../config/load.ts'
import { loadBundledPlugins, type PluginRegistry } from '../registry.ts'

let registry: PluginRegistry
before(async () => {
  registry = await loadBundledPlugins()
})

const load = (config: unknown) =>
  loadConfigObject({ _format_version: '3.0', plugins: [{ name: 'ip-restriction', config }] }, 'ip.yaml', {
    registry,
  }).plugins[0]!.config

const refused = (config: unknown, message: string) =>
  assert.throws(() => load(config), { name: 'ConfigError', message })

describe('ip-restriction config', () => {
  it('accepts IPv4 and IPv6 addresses and CIDR blocks, host bits and /0 included, as Kong does', () => {
    const allow = [
      '127.0.0.1',
      '127.0.0.1/8',
      '0.0.0.0/0',
      '::/0',
      '::1',
      '::/128',
      '2001:db8::/32',
      '::ffff:10.0.0.0/104',
    ]
    assert.deepEqual(load({ allow, status: 401, message: 'Forbidden' }), {
      allow,
      status: 401,
      message: 'Forbidden',
    })
  })

  it("accepts a Kong export's nulls for the unset list, status and message", () => {
    assert.deepEqual(load({ allow: null, deny: ['10.0.0.0/8'], status: null, message: null }), {
      allow: null,
      deny: ['10.0.0.0/8'],
      status: null,
      message: null,
    })
  })

  it("names each invalid entry with Kong's message", () => {
    refused(
      { allow: ['127.0.0.1/32', 'hello', '0.0.0.0/33', '0.0.0.0/-1', '::1/129', '::/a', 'fe80::1%eth0'] },
      [
        "ip.yaml: plugins[0].config.allow[1]: invalid ip or cidr range: 'hello'",
        "ip.yaml: plugins[0].config.allow[2]: invalid ip or cidr range: '0.0.0.0/33'",
        "ip.yaml: plugins[0].config.allow[3]: invalid ip or cidr range: '0.0.0.0/-1'",
        "ip.yaml: plugins[0].config.allow[4]: invalid ip or cidr range: '::1/129'",
        "ip.yaml: plugins[0].config.allow[5]: invalid ip or cidr range: '::/a'",
        "ip.yaml: plugins[0].config.allow[6]: invalid ip or cidr range: 'fe80::1%eth0'",
      ].join('\n'),
    )
    refused({ deny: 12 }, 'ip.yaml: plugins[0].config.deny: expected an array')
  })

  it("refuses a config with neither list non-empty, in Kong's words", () => {
    const message =
      "ip.yaml: plugins[0].config: at least one of these fields must be non-empty: 'config.allow', 'config.deny'"
    refused({}, message)
    refused({ allow: [], deny: [] }, message)
  })

  it('refuses a status kong.response.error could not send', () => {
    refused(
      { deny: ['::1'], status: 200 },
      'ip.yaml: plugins[0].config.status: value should be between 400 and 599',
    )
    refused({ deny: ['::1'], status: 403.5 }, 'ip.yaml: plugins[0].config.status: expected an integer')
  })
})
