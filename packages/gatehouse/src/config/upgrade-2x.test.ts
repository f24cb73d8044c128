import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parse } from 'yaml'
import { load, problems } from '../../test/harness/config.ts'
import { hashDocument } from './load.ts'
import { applyEdits, planUpgrade } from './upgrade-2x.ts'
import { upgradeRoutePath } from './upgrade-2x-paths.ts'

const service = (paths: string) => `services:
- name: orders
  url: http://orders.internal
  routes:
  - name: r
    paths: ${paths}
`

describe('Kong format versions', () => {
  for (const version of ['1.1', '2.1', '3.0']) {
    it(`loads a file of _format_version "${version}"`, () => {
      const config = load(`_format_version: "${version}"\n${service('[/orders]')}`)
      assert.deepEqual(config.routes[0]!.paths, ['/orders'])
    })
  }

  it('tells the author of a 2.x file that it was read as 3.0, even when no rule changed anything', () => {
    const config = load(`_format_version: "2.1"\n${service('[/orders]')}`)
    assert.deepEqual(config.notices, [
      '_format_version: "2.1" is read as "3.0" with Kong\'s 2.x → 3.0 changes (none applies to this file); `gatehouse config convert` writes the 3.0 file',
    ])
    assert.deepEqual(load(`_format_version: "3.0"\n${service('[/orders]')}`).notices, [])
  })
})

describe("Kong 2.x route paths: decK's regex test, and Kong 3.0's ~ prefix", () => {
  it('reads a path with any character outside [A-Za-z0-9._~/%-] as a regular expression', () => {
    assert.equal(upgradeRoutePath('/users/\\d+'), '~/users/\\d+')
    assert.equal(upgradeRoutePath('/v1/(orders|carts)$'), '~/v1/(orders|carts)$')
    assert.equal(upgradeRoutePath('/files/*'), '~/files/*')
    assert.equal(upgradeRoutePath('/a b'), '~/a b')
  })

  it('leaves plain paths, and paths already marked ~, as they are', () => {
    for (const plain of ['/', '/orders', '/v1.2/a-b_c~d', '/caf%C3%A9', '~/users/\\d+'])
      assert.equal(upgradeRoutePath(plain), null, plain)
  })

  it('decodes the escapes of unreserved characters in a regex, escaping . and -, and keeps the others', () => {
    assert.equal(upgradeRoutePath('/v%31/(a|b)'), '~/v1/(a|b)')
    assert.equal(upgradeRoutePath('/file%2ejson$'), '~/file\\.json$')
    assert.equal(upgradeRoutePath('/a%2Db/\\d+'), '~/a\\-b/\\d+')
    assert.equal(upgradeRoutePath('/x%2f(y)%20z'), '~/x%2F(y)%20z')
  })

  it('upgrades nested and top-level routes, with one notice per path naming it', () => {
    const config = load(`_format_version: "2.1"
services:
- name: orders
  url: http://orders.internal
  routes:
  - name: by-id
    paths: [/orders/\\d+, /orders]
routes:
- name: files
  service: orders
  paths: ["/files/[a-z]+\\\\.json"]
`)
    assert.deepEqual(
      config.routes.map((r) => r.paths),
      [['~/orders/\\d+', '/orders'], ['~/files/[a-z]+\\.json']],
    )
    assert.deepEqual(config.notices.slice(1), [
      "services[0].routes[0].paths[0]: format 2.1: '/orders/\\d+' is a regular expression (Kong 2.x guessed so from its characters); read as '~/orders/\\d+'",
      "routes[0].paths[0]: format 2.1: '/files/[a-z]+\\.json' is a regular expression (Kong 2.x guessed so from its characters); read as '~/files/[a-z]+\\.json'",
    ])
    assert.match(config.notices[0]!, /\(2 below\)/)
  })

  it('keeps the hash of the file as written', () => {
    const text = `_format_version: "2.1"\n${service('[/orders/\\d+]')}`
    assert.equal(load(text).hash, hashDocument(parse(text)))
  })
})

describe('Kong 2.x plugin configs', () => {
  it("renames whitelist to allow and blacklist to deny, as decK's convert does", () => {
    const config = load(`_format_version: "1.1"
${service('[/orders]')}    plugins:
    - name: acl
      config: { whitelist: [staff] }
plugins:
- name: acl
  config: { blacklist: [banned], deny: [] }
`)
    assert.deepEqual(
      config.plugins.map((p) => [
        (p.config as { allow?: string[] }).allow,
        (p.config as { deny?: string[] }).deny,
      ]),
      [
        [['staff'], undefined],
        [undefined, ['banned']],
      ],
    )
    assert.deepEqual(config.notices.slice(1), [
      "plugins[0].config.blacklist: format 1.1: renamed to 'deny' (Kong 3.0 removed 'blacklist')",
      "services[0].routes[0].plugins[0].config.whitelist: format 1.1: renamed to 'allow' (Kong 3.0 removed 'whitelist')",
    ])
  })

  it('refuses a plugin that sets both the old and the new key, naming the old one', () => {
    assert.deepEqual(
      problems('_format_version: "2.1"\nplugins:\n- name: acl\n  config: { whitelist: [a], allow: [b] }\n'),
      [
        "gatehouse.yaml: plugins[0].config.whitelist: format 2.1: both 'whitelist' (removed in Kong 3.0) and 'allow' are set; keep 'allow' alone",
      ],
    )
  })

  it('joins http-log\'s lists of header values with ", " and drops empty ones, as Kong\'s 3.0 migration does', () => {
    const doc = {
      _format_version: '2.1',
      plugins: [
        {
          name: 'http-log',
          config: { http_endpoint: 'http://logs', headers: { 'X-A': ['1', '2'], 'X-B': [], 'X-C': 'c' } },
        },
        { name: 'http-log', config: { http_endpoint: 'http://logs', headers: { 'X-D': [] } } },
      ],
    }
    const upgrade = planUpgrade(doc)!
    assert.deepEqual(applyEdits(doc, upgrade.edits), {
      _format_version: '3.0',
      plugins: [
        {
          name: 'http-log',
          config: { http_endpoint: 'http://logs', headers: { 'X-A': '1, 2', 'X-C': 'c' } },
        },
        { name: 'http-log', config: { http_endpoint: 'http://logs' } },
      ],
    })
    assert.equal(doc._format_version, '2.1', 'the document itself is left as it is')
    assert.ok(
      upgrade.notices.every((n) => !n.includes('1, 2')),
      'header values are never quoted: they often carry a credential',
    )
  })
})

describe('_comment and _ignore, where Kong accepts them', () => {
  it('ignores them at the top level and on every entity, nested or not', () => {
    const config = load(`_format_version: "3.0"
_comment: the shop
_ignore: [anything, { at: all }]
services:
- name: orders
  _comment: the orders service
  _ignore: [1]
  url: http://orders.internal
  routes:
  - name: r
    _comment: c
    paths: [/orders]
    plugins:
    - { name: key-auth, _comment: c, _ignore: [] }
  plugins:
  - { name: cors, _comment: c }
routes:
- { name: top, service: orders, paths: [/top], _comment: c, _ignore: [] }
consumers:
- username: alice
  _comment: c
  keyauth_credentials:
  - { key: alice-key-0001, _comment: c, _ignore: [] }
  acls:
  - { group: staff, _comment: c }
  plugins:
  - { name: rate-limiting, config: { minute: 5 }, _comment: c }
keyauth_credentials:
- { key: alice-key-0002, consumer: alice, _comment: c }
plugins:
- { name: request-id, _comment: c, _ignore: [x] }
upstreams:
- name: pool
  _comment: c
  targets:
  - { target: "10.0.0.1:80", _comment: c }
targets:
- { target: "10.0.0.2:80", upstream: pool, _ignore: [] }
`)
    assert.equal(config.routes.length, 2)
    const text = JSON.stringify({ ...config, vaultReferences: undefined })
    assert.doesNotMatch(text, /_comment|_ignore/, 'they are not part of any entity')
  })

  it('refuses them where Kong types them otherwise, and other unknown keys with a hint', () => {
    assert.deepEqual(
      problems(`_format_version: "3.0"
_comment: [not, a, string]
services:
- name: orders
  url: http://orders.internal
  _ignore: not a list
  _coment: typo
`),
      [
        'gatehouse.yaml: _comment: expected string, got array',
        'gatehouse.yaml: services[0]._ignore: expected array, got string',
        "gatehouse.yaml: services[0]._coment: unknown key (did you mean '_comment'?)",
      ],
    )
  })

  it('is not accepted inside a plugin config, which is no entity (as in Kong)', () => {
    assert.deepEqual(
      problems('_format_version: "3.0"\nplugins:\n- name: request-id\n  config: { _comment: x }\n'),
      ['gatehouse.yaml: plugins[0].config._comment: unknown key'],
    )
  })
})
