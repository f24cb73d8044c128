import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { loadConfigObject } from '../../config/load.ts'
import { loadBundledPlugins, type PluginRegistry } from '../registry.ts'

let registry: PluginRegistry
before(async () => {
  registry = await loadBundledPlugins()
})

function load(config: unknown, where: 'global' | 'consumer' = 'global') {
  const doc =
    where === 'global'
      ? { _format_version: '3.0', plugins: [{ name: 'cors', config }] }
      : { _format_version: '3.0', consumers: [{ username: 'ann', plugins: [{ name: 'cors', config }] }] }
  return loadConfigObject(doc, 'cors.yaml', { registry })
}

describe('cors config', () => {
  it("fills in Kong's defaults for an empty config", () => {
    const config = load({}).plugins[0]!.config
    assert.deepEqual(config, {
      methods: ['GET', 'HEAD', 'PUT', 'PATCH', 'POST', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT'],
      credentials: false,
      preflight_continue: false,
      private_network: false,
      allow_origin_absent: true,
    })
  })

  it("accepts a Kong export's null for unset fields", () => {
    const config = load({ origins: null, headers: null, exposed_headers: null, max_age: null }).plugins[0]!
      .config as Record<string, unknown>
    assert.equal(config.origins, null)
    assert.equal(config.max_age, null)
  })

  it('accepts exact origins, `*` and regular expressions', () => {
    const origins = ['*', 'https://app.example.com', 'https://.*\\.example\\.com', '(.*\\.)?example\\.org']
    const config = load({ origins }).plugins[0]!.config as { origins: string[] }
    assert.deepEqual(config.origins, origins)
  })

  it('rejects an origin that looks like a regular expression but does not compile', () => {
    assert.throws(() => load({ origins: ['https://ok.example.com', 'https://(unclosed.example.com'] }), {
      name: 'ConfigError',
      message:
        "cors.yaml: plugins[0].config.origins[1]: 'https://(unclosed.example.com' is not a valid regex",
    })
  })

  it('rejects a method Kong does not list', () => {
    assert.throws(() => load({ methods: ['GET', 'PROPFIND'] }), {
      message:
        'cors.yaml: plugins[0].config.methods[1]: expected one of GET, HEAD, PUT, PATCH, POST, DELETE, OPTIONS, TRACE, CONNECT',
    })
  })

  it('rejects a max_age that is not a whole number of seconds', () => {
    assert.throws(() => load({ max_age: 1.5 }), {
      message: 'cors.yaml: plugins[0].config.max_age: expected a whole number of seconds',
    })
    assert.throws(() => load({ max_age: -1 }), {
      message: 'cors.yaml: plugins[0].config.max_age: must not be negative',
    })
  })

  it('rejects an allowed or exposed header that could not be sent in a header', () => {
    assert.throws(
      () => load({ headers: ['Content-Type'], exposed_headers: ['X-Total\r\nSet-Cookie: a=b'] }),
      {
        message:
          'cors.yaml: plugins[0].config.exposed_headers[0]: contains characters not allowed in a header (control characters or line breaks)',
      },
    )
  })

  it('rejects an unknown key and names the one it resembles', () => {
    assert.throws(() => load({ origin: ['*'] }), {
      message: "cors.yaml: plugins[0].config.origin: unknown key (did you mean 'origins'?)",
    })
  })

  it('refuses to be scoped to a consumer, as Kong does, since preflights carry no credentials', () => {
    assert.throws(() => load({}, 'consumer'), {
      message: "cors.yaml: consumers[0].plugins[0].consumer: plugin 'cors' cannot be scoped to a consumer",
    })
  })
})
