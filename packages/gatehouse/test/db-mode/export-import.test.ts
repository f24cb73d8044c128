/**
 * `gatehouse config export` and `import` on a SQLite store, and how a node in DB mode starts: a DB-less
 * file moves into the database with its ids, export → import → export is the same file, a bad file or a
 * dry run changes nothing, a running node picks an import up by polling (SQLite cannot notify), and an
 * empty database is seeded from the configuration file's entities once.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parse } from 'yaml'
import { load } from '../harness/config.ts'
import { runCli, startGatehouse } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { admin, dbModeConfig, until } from './support.ts'

describe('gatehouse config export and import, and seeding (SQLite)', () => {
  let upstream: Upstream
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-db-export-'))
  const configFile = join(dir, 'gatehouse.json')
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text)
    return join(dir, name)
  }
  const cli = (...args: string[]) => runCli(['config', ...args, '--config', configFile])

  before(async () => {
    upstream = await startUpstream()
    writeFileSync(configFile, JSON.stringify(dbModeConfig({ sqlite: { path: 'store.db' } })))
  })
  after(async () => {
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const shop = () => `_format_version: "3.0"
proxy: { trusted_ips: [10.0.0.0/8] }
services:
- name: orders
  url: ${upstream.url}/v1
  routes:
  - name: orders
    paths: [/orders]
    plugins:
    - name: key-auth
  plugins:
  - name: cors
    config: { origins: ["https://shop.example"] }
consumers:
- username: bob
  keyauth_credentials:
  - key: bob-key-0001
  basicauth_credentials:
  - username: bob
    password: correct horse battery
  plugins:
  - name: rate-limiting
    config: { minute: 5 }
plugins:
- name: request-id
`

  it('moves a DB-less file into the database with its ids, and export → import → export is the same file', async () => {
    const dbless = load(shop())
    const imported = await cli('import', file('shop.yaml', shop()))
    assert.equal(imported.code, 0, imported.stderr)
    assert.match(imported.stderr, /shop\.yaml: not imported \(settings come from .*gatehouse\.json\): proxy/)
    assert.match(imported.stdout, /^services\s+1\s+0\s+0\s+0$/m)
    assert.match(imported.stdout, /^plugins\s+4\s+0\s+0\s+0$/m)
    assert.match(imported.stdout, /imported into .*store\.db \(version 1\)/)

    const exported = await cli('export', '--output', join(dir, 'export.yaml'))
    assert.equal(exported.code, 0, exported.stderr)
    const text = readFileSync(join(dir, 'export.yaml'), 'utf8')
    const doc = parse(text)
    assert.equal(doc._format_version, '3.0')
    for (const type of ['services', 'routes', 'consumers', 'plugins'] as const)
      assert.deepEqual(
        doc[type].map((e: { id: string }) => e.id).sort(),
        dbless[type].map((e) => e.id).sort(),
        `${type} keep the ids DB-less mode gives them`,
      )
    assert.deepEqual(doc.routes[0].service, { id: dbless.services[0]!.id })
    assert.equal(doc.keyauth_credentials[0].key, 'bob-key-0001')
    assert.match(doc.basicauth_credentials[0].password, /^\$argon2id\$/)
    assert.doesNotMatch(text, /correct horse/)

    const again = await cli('import', join(dir, 'export.yaml'))
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /already holds these entities \(version 1\)/)
    const json = await cli('export', '--output', join(dir, 'export.json'))
    assert.equal(json.code, 0)
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'export.json'), 'utf8')), doc)
  })

  it("refuses a bad file with the loader's messages at the file's own paths, and a dry run writes nothing", async () => {
    const before = (await cli('export')).stdout
    const bad = file(
      'bad.yaml',
      `_format_version: "3.0"
services:
- name: orders
  url: ftp://files.internal
  routes:
  - name: orders
    paths: [orders]
consumers:
- custom_id: c-1
  keyauth_credentials:
  - key: bob-key-0001
  - key: bob-key-0001
`,
    )
    const refused = await cli('import', bad)
    assert.equal(refused.code, 1)
    assert.equal(
      refused.stderr,
      [
        `${bad}: services[0].url: expected an http://, https://, ws://, wss://, grpc:// or grpcs:// URL`,
        `${bad}: services[0].routes[0].paths[0]: must start with "/" (prefix) or "~" (regular expression)`,
        `${bad}: consumers[0].keyauth_credentials[1].key: must be unique; the same value is at consumers[0].keyauth_credentials[0]`,
        'gatehouse: 3 problems in the configuration',
        '',
      ].join('\n'),
    )
    const dry = await cli(
      'import',
      file('small.yaml', '_format_version: "3.0"\nconsumers:\n- username: zed\n'),
      '--dry-run',
    )
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /^consumers\s+1\s+0\s+1\s+0$/m)
    assert.match(dry.stdout, /valid; dry run, nothing written/)
    assert.equal((await cli('export')).stdout, before)
  })

  it('is picked up by a running node within about a second: SQLite has no notifications, the node polls', async () => {
    const gh = await startGatehouse({ config: dbModeConfig({ sqlite: { path: join(dir, 'store.db') } }) })
    try {
      assert.equal((await gh.proxy('/orders')).status, 401)
      const imported = await cli(
        'import',
        file(
          'next.yaml',
          `_format_version: "3.0"\nservices:\n- name: next\n  url: ${upstream.url}\n  routes:\n  - paths: [/next]\n`,
        ),
      )
      assert.equal(imported.code, 0, imported.stderr)
      const took = await until(
        async () => (await gh.proxy('/next')).status,
        (s) => s === 200,
      )
      assert.ok(took < 1500, `took ${Math.round(took)} ms`)
      assert.equal((await gh.proxy('/orders')).status, 404, 'the import replaced every entity')
    } finally {
      await gh.stop()
    }
  })

  it("seeds an empty database from the configuration file's entities once, and later ignores them", async () => {
    const config = {
      ...dbModeConfig({ sqlite: { path: join(dir, 'seeded.db') } }),
      services: [{ name: 'seed', url: upstream.url, routes: [{ name: 'seed', paths: ['/seed'] }] }],
    }
    const first = await startGatehouse({ config })
    try {
      assert.equal((await first.proxy('/seed')).status, 200)
      assert.ok(first.lines.some((l) => l.msg.startsWith('seeded the empty database')))
      assert.equal((await admin(first, 'DELETE', '/routes/seed')).status, 204)
    } finally {
      await first.stop()
    }
    const second = await startGatehouse({ config })
    try {
      assert.equal((await second.proxy('/seed')).status, 404, 'an emptied database is not seeded again')
      assert.ok(
        second.lines.some(
          (l) => l.level === 'warn' && /declares entities, which DB mode ignores/.test(l.msg),
        ),
      )
    } finally {
      await second.stop()
    }
  })
})
