/**
 * Kong files as they are, through the real binary: a 2.x file as decK dumps it (format 2.1, regex paths
 * without `~`, _comment and _ignore, nested plugins with Kong 2.x keys) loads with a notice per change
 * and routes as Kong 3 would; `config convert` writes the 3.0 file, which loads to the same entities;
 * `config export` on a DB-less node writes its entities as a 3.0 file that loads to the same
 * configuration, and exporting that again gives the same file (the same configuration hash).
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { parse } from 'yaml'
import type { GatewayConfig } from '../../src/config/model.ts'
import { load } from '../harness/config.ts'
import { runCli, startGatehouse } from '../harness/gatehouse.ts'
import { type EchoBody, startUpstream, type Upstream } from '../harness/upstream.ts'

const CLEAN_ENV = { GATEHOUSE_CONFIG: '' }

/** The entities of a loaded configuration, for comparing two loads. */
function entities(c: GatewayConfig) {
  const { services, routes, consumers, plugins, upstreams, targets, credentials } = c
  return { services, routes, consumers, plugins, upstreams, targets, credentials }
}

describe('Kong 2.x files, config convert and config export (DB-less)', () => {
  let upstream: Upstream
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-kong-files-'))
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text)
    return join(dir, name)
  }

  before(async () => {
    upstream = await startUpstream()
  })
  after(async () => {
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  // As `deck dump` writes a Kong 2.8 node's configuration, plus the comments a person adds.
  const kong2 = () => `# The shop, dumped from Kong 2.8 by decK.
_format_version: "2.1"
_transform: true
_comment: dumped by deck 1.x
services:
- connect_timeout: 60000
  host: 127.0.0.1
  name: orders
  port: ${upstream.port}
  protocol: http
  read_timeout: 60000
  retries: 5
  write_timeout: 60000
  _comment: the orders service
  routes:
  - name: order-by-id
    # An order's own page; 2.x read this path as a regex from its characters.
    paths:
    - /orders/\\d+$
    path_handling: v0
    preserve_host: false
    protocols:
    - http
    - https
    regex_priority: 0
    strip_path: false
    https_redirect_status_code: 426
    request_buffering: true
    response_buffering: true
    _ignore:
    - kept for the old dashboards
    plugins:
    - name: key-auth
      config:
        key_names:
        - apikey
        hide_credentials: true
      enabled: true
      protocols:
      - http
      - https
    - name: acl
      _comment: staff only
      config:
        whitelist:
        - staff
        hide_groups_header: false
      enabled: true
  - name: orders
    paths:
    - /orders
    strip_path: true
consumers:
- username: alice
  _comment: staff
  keyauth_credentials:
  - key: alice-key-0001
  acls:
  - group: staff
- username: bob
  keyauth_credentials:
  - key: bob-key-0001
    _ignore: []
`

  it('loads a decK-dumped 2.x file with a warning per change, naming where, and routes as Kong 3 does', async () => {
    const gh = await startGatehouse({ config: kong2() })
    try {
      const notices = gh.lines
        .filter((l) => l.level === 'warn' && l.msg === 'configuration notice')
        .map((l) => l.notice as string)
      assert.deepEqual(notices, [
        '_format_version: "2.1" is read as "3.0" with Kong\'s 2.x → 3.0 changes (2 below); `gatehouse config convert` writes the 3.0 file',
        "services[0].routes[0].paths[0]: format 2.1: '/orders/\\d+$' is a regular expression (Kong 2.x guessed so from its characters); read as '~/orders/\\d+$'",
        "services[0].routes[0].plugins[1].config.whitelist: format 2.1: renamed to 'allow' (Kong 3.0 removed 'whitelist')",
      ])
      // The regex route wins over the prefix for an order id, as in Kong; its plugins apply.
      assert.equal((await gh.proxy('/orders/42')).status, 401)
      assert.equal((await gh.proxy('/orders/42', { headers: { apikey: 'bob-key-0001' } })).status, 403)
      const alice = await gh.proxy('/orders/42', { headers: { apikey: 'alice-key-0001' } })
      assert.equal(alice.status, 200)
      assert.equal(((await alice.json()) as EchoBody).url, '/orders/42')
      // Anything else under /orders is the plain prefix route: no key needed, the prefix stripped.
      const list = await gh.proxy('/orders/42/lines')
      assert.equal(list.status, 200)
      assert.equal(((await list.json()) as EchoBody).url, '/42/lines')
    } finally {
      await gh.stop()
    }
    const check = await runCli(['config', 'check', file('kong2.yaml', kong2())], CLEAN_ENV)
    assert.equal(check.code, 0, check.stderr)
    assert.match(check.stderr, /kong2\.yaml: warning: services\[0\]\.routes\[0\]\.paths\[0\]: format 2\.1: /)
  })

  it('converts the file to format 3.0, keeping its comments, and the result loads to the same entities', async () => {
    const input = file('convert-me.yaml', kong2())
    const printed = await runCli(['config', 'convert', input], CLEAN_ENV)
    assert.equal(printed.code, 0, printed.stderr)
    assert.equal(
      printed.stderr,
      [
        `${input}: services[0].routes[0].paths[0]: format 2.1: '/orders/\\d+$' is a regular expression (Kong 2.x guessed so from its characters); read as '~/orders/\\d+$'`,
        `${input}: services[0].routes[0].plugins[1].config.whitelist: format 2.1: renamed to 'allow' (Kong 3.0 removed 'whitelist')`,
        `${input}: converted from format 2.1 to 3.0 (2 changes)`,
        '',
      ].join('\n'),
    )
    const out = printed.stdout
    assert.match(out, /^# The shop, dumped from Kong 2\.8 by decK\.\n_format_version: "3\.0"\n/)
    assert.match(
      out,
      /# An order's own page; 2\.x read this path as a regex from its characters\.\n {4}paths:\n {4}- ~\/orders\/\\d\+\$\n/,
    )
    assert.match(out, /_comment: staff only/)
    assert.doesNotMatch(out, /whitelist/)
    assert.equal(readFileSync(input, 'utf8'), kong2(), 'the input is left as it is')
    assert.deepEqual(entities(load(out)), entities(load(kong2())))
    assert.deepEqual(load(out).notices, [], 'a converted file needs no more changes')

    // --output naming the input replaces it; converting a 3.0 file changes nothing.
    const inPlace = await runCli(['config', 'convert', input, '--output', input], CLEAN_ENV)
    assert.equal(inPlace.code, 0, inPlace.stderr)
    assert.equal(inPlace.stdout, '')
    assert.equal(readFileSync(input, 'utf8'), out)
    const again = await runCli(['config', 'convert', input], CLEAN_ENV)
    assert.equal(again.code, 0)
    assert.equal(again.stdout, out)
    assert.equal(again.stderr, `${input}: already format 3.0, nothing to convert\n`)
  })

  it('writes JSON for a JSON file, and refuses what it cannot convert without writing anything', async () => {
    const json = file(
      'kong.json',
      JSON.stringify({
        _format_version: '1.1',
        routes: [{ name: 'files', paths: ['/files/.*\\.pdf'], service: 'orders' }],
        services: [{ name: 'orders', url: upstream.url }],
      }),
    )
    const converted = await runCli(['config', 'convert', json], CLEAN_ENV)
    assert.equal(converted.code, 0, converted.stderr)
    assert.deepEqual(JSON.parse(converted.stdout), {
      _format_version: '3.0',
      routes: [{ name: 'files', paths: ['~/files/.*\\.pdf'], service: 'orders' }],
      services: [{ name: 'orders', url: upstream.url }],
    })

    const conflict = file(
      'conflict.yaml',
      '_format_version: "2.1"\nplugins:\n- name: acl\n  config: { whitelist: [a], allow: [b] }\n',
    )
    const out = join(dir, 'never-written.yaml')
    const refused = await runCli(['config', 'convert', conflict, '-o', out], CLEAN_ENV)
    assert.equal(refused.code, 1)
    assert.equal(
      refused.stderr,
      `${conflict}: plugins[0].config.whitelist: format 2.1: both 'whitelist' (removed in Kong 3.0) and 'allow' are set; keep 'allow' alone\ngatehouse: 1 problem in the configuration\n`,
    )
    assert.equal(existsSync(out), false)

    const unknown = await runCli(
      ['config', 'convert', file('v22.yaml', '_format_version: "2.2"\n')],
      CLEAN_ENV,
    )
    assert.equal(unknown.code, 1)
    assert.match(
      unknown.stderr,
      /_format_version: unsupported format version; expected one of "1\.1", "2\.1", "3\.0"/,
    )
    const usage = await runCli(['config', 'convert'], CLEAN_ENV)
    assert.equal(usage.code, 2)
    assert.match(usage.stderr, /config convert takes exactly one FILE/)
  })

  it("exports a DB-less node's entities as a 3.0 file that loads to the same configuration", async () => {
    const config = file('node.yaml', kong2())
    const exported = join(dir, 'export.yaml')
    const first = await runCli(['config', 'export', '--config', config, '--output', exported], CLEAN_ENV)
    assert.equal(first.code, 0, first.stderr)
    assert.equal(first.stderr, `exported 10 entities from ${config} (storage.entities: file)\n`)
    assert.equal(existsSync(join(dir, 'gatehouse.db')), false, 'a DB-less export opens no store')

    const text = readFileSync(exported, 'utf8')
    const doc = parse(text)
    assert.equal(doc._format_version, '3.0')
    const loaded = load(kong2())
    assert.deepEqual(
      doc.routes.map((r: { id: string; paths: string[] }) => [r.id, r.paths]),
      loaded.routes.map((r) => [r.id, r.paths]),
    )
    assert.deepEqual(doc.keyauth_credentials.map((k: { key: string }) => k.key).sort(), [
      'alice-key-0001',
      'bob-key-0001',
    ])
    assert.doesNotMatch(text, /_comment|_ignore|whitelist/)
    assert.deepEqual(entities(load(text)), entities(loaded))

    // The export is a DB-less configuration itself: exporting it gives the same file, the same hash.
    const second = await runCli(['config', 'export', '--config', exported], CLEAN_ENV)
    assert.equal(second.code, 0, second.stderr)
    assert.equal(second.stdout, text)
    assert.equal(load(second.stdout).hash, load(text).hash)
  })
})
