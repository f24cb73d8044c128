/**
 * file-log through the real gateway: Kong's entry shape, one JSON line per request appended, refusals
 * logged too, no secret anywhere in the entry, `reopen` for logrotate, and a file that cannot be opened
 * warned about once and counted while the proxy goes on answering.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

const KEY = 'key-0f3a9c1e-never-logged'
const PASSWORD = 'pw-7d41-never-logged'
const BEARER = 'bearer-22c9-never-logged'
const COOKIE = 'sess-5be0-never-logged'
const PROXY_AUTH = 'proxy-9aa1-never-logged'
const SET_COOKIE = 'upstream-cookie-31f7-never-logged'
const SECRETS = [
  KEY,
  PASSWORD,
  BEARER,
  COOKIE,
  PROXY_AUTH,
  SET_COOKIE,
  Buffer.from(`bob:${PASSWORD}`).toString('base64'),
]

// biome-ignore lint/suspicious/noExplicitAny: an entry is JSON read field by field, as a log reader would.
type Entry = Record<string, any>

/** The entries of `file`, each line parsed (every line must be whole JSON). */
function entries(file: string): Entry[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return []
  }
  assert.ok(text === '' || text.endsWith('\n'), 'the file ends with a whole line')
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Entry)
}

async function waitForEntries(file: string, count: number): Promise<Entry[]> {
  for (let i = 0; i < 200; i++) {
    const found = entries(file)
    if (found.length >= count) return found
    await sleep(25)
  }
  assert.fail(`${file} never held ${count} entries (has ${entries(file).length})`)
}

describe('the file-log plugin', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-file-log-'))
  const keyFile = join(dir, 'keyed.log')
  const basicFile = join(dir, 'basic.log')
  const rotatedFile = join(dir, 'rotated.log')
  const missingDirFile = join(dir, 'no-such-dir', 'x.log')

  before(async () => {
    upstream = await startUpstream((_req, res) => {
      res.writeHead(201, { 'content-type': 'text/plain', 'set-cookie': `up=${SET_COOKIE}; HttpOnly` })
      res.end('made')
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'orders',
            url: `${upstream.url}/v1`,
            routes: [
              {
                name: 'keyed',
                paths: ['/keyed'],
                plugins: [
                  { name: 'key-auth', config: { key_names: ['x-shop-key'] } },
                  { name: 'file-log', config: { path: keyFile } },
                ],
              },
              {
                name: 'basic',
                paths: ['/basic'],
                plugins: [
                  { name: 'basic-auth', config: {} },
                  { name: 'file-log', config: { path: basicFile } },
                ],
              },
              {
                name: 'rotated',
                paths: ['/rotated'],
                plugins: [{ name: 'file-log', config: { path: rotatedFile, reopen: true } }],
              },
              {
                name: 'unwritable',
                paths: ['/unwritable'],
                plugins: [{ name: 'file-log', config: { path: missingDirFile } }],
              },
            ],
          },
        ],
        consumers: [
          { username: 'alice', custom_id: 'cust-1', keyauth_credentials: [{ key: KEY }] },
          { username: 'bob', basicauth_credentials: [{ username: 'bob', password: PASSWORD }] },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("appends Kong's entry of a proxied request as one JSON line", async () => {
    const res = await gh.proxy('/keyed/items?page=2&x-shop-key=' + KEY, {
      headers: { 'x-shop-key': KEY, 'x-request-id': 'file-log-shape', 'user-agent': 'shape-test' },
    })
    assert.equal(res.status, 201)
    await res.text()
    const [entry] = (await waitForEntries(keyFile, 1)).filter((e) => e.request.id === 'file-log-shape')
    assert.ok(entry)
    assert.equal(entry.request.method, 'GET')
    assert.match(entry.request.uri, /^\/keyed\/items\?page=2&x-shop-key=REDACTED$/)
    assert.match(entry.request.url, /^http:\/\/127\.0\.0\.1:\d+\/keyed\/items\?page=2&x-shop-key=REDACTED$/)
    assert.deepEqual(entry.request.querystring, { page: '2', 'x-shop-key': 'REDACTED' })
    assert.equal(entry.request.headers['user-agent'], 'shape-test')
    assert.equal(entry.request.headers['x-shop-key'], 'REDACTED')
    assert.equal(entry.upstream_uri, '/v1/items?page=2&x-shop-key=REDACTED')
    assert.equal(entry.upstream_status, '201')
    assert.equal(entry.response.status, 201)
    assert.equal(entry.response.size, 4)
    assert.equal(entry.response.headers['content-type'], 'text/plain')
    assert.equal(entry.response.headers['set-cookie'], 'REDACTED')
    assert.deepEqual(Object.keys(entry.latencies).sort(), ['kong', 'proxy', 'receive', 'request'])
    assert.ok(entry.latencies.proxy >= 0 && entry.latencies.request >= entry.latencies.proxy)
    assert.equal(entry.route.name, 'keyed')
    assert.deepEqual(entry.route.paths, ['/keyed'])
    assert.equal(entry.service.name, 'orders')
    assert.equal(entry.service.path, '/v1')
    assert.equal(entry.consumer.username, 'alice')
    assert.equal(entry.consumer.custom_id, 'cust-1')
    assert.equal(entry.authenticated_entity.consumer_id, entry.consumer.id)
    assert.equal(typeof entry.authenticated_entity.id, 'string')
    assert.equal(entry.client_ip, '127.0.0.1')
    assert.ok(Math.abs(entry.started_at - Date.now()) < 60_000, 'started_at is epoch milliseconds')
    assert.equal(entry.source, 'upstream')
  })

  it("logs a refusal too (the log phase runs after a plugin answered), Kong's source 'kong'", async () => {
    const res = await gh.proxy('/keyed/nope', { headers: { 'x-request-id': 'file-log-refused' } })
    assert.equal(res.status, 401)
    await res.text()
    const found = (await waitForEntries(keyFile, 2)).find((e) => e.request.id === 'file-log-refused')
    assert.ok(found, 'the 401 is in the file')
    assert.equal(found.response.status, 401)
    assert.equal(found.source, 'kong')
    assert.equal(found.consumer, undefined)
    assert.equal(found.latencies.proxy, -1)
  })

  it('leaves no secret in the entry: credential headers, cookies, keys in headers and query, passwords', async () => {
    const headers = {
      'x-shop-key': KEY,
      'proxy-authorization': `Basic ${PROXY_AUTH}`,
      cookie: `session=${COOKIE}; theme=dark`,
      'x-request-id': 'file-log-secrets',
    }
    for (const path of [`/keyed/a?x-shop-key=${KEY}&access_token=${BEARER}`, '/keyed/b']) {
      const res = await gh.proxy(path, { headers })
      assert.equal(res.status, 201)
      await res.text()
    }
    const basic = await gh.proxy('/basic/c', {
      headers: { ...headers, authorization: `Basic ${Buffer.from(`bob:${PASSWORD}`).toString('base64')}` },
    })
    assert.equal(basic.status, 201)
    await basic.text()
    const bearer = await gh.proxy('/basic/d', { headers: { authorization: `Bearer ${BEARER}` } })
    assert.equal(bearer.status, 401)
    await bearer.text()
    const keyed = await waitForEntries(keyFile, 4)
    const basicEntries = await waitForEntries(basicFile, 2)
    const text = readFileSync(keyFile, 'utf8') + readFileSync(basicFile, 'utf8')
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} is not in the log`)
    const withKey = keyed.find((e) => e.request.id === 'file-log-secrets')!
    assert.equal(withKey.request.headers['proxy-authorization'], 'REDACTED')
    assert.equal(withKey.request.headers.cookie, 'REDACTED')
    assert.equal(withKey.request.querystring.access_token, 'REDACTED')
    const bob = basicEntries.find((e) => e.consumer?.username === 'bob')!
    assert.equal(bob.request.headers.authorization, 'REDACTED')
    assert.deepEqual(Object.keys(bob.consumer).sort(), ['created_at', 'custom_id', 'id', 'tags', 'username'])
  })

  it('with reopen, recreates the file at its path once logrotate moved it away', async () => {
    await (await gh.proxy('/rotated/1')).text()
    await waitForEntries(rotatedFile, 1)
    renameSync(rotatedFile, `${rotatedFile}.1`)
    await (await gh.proxy('/rotated/2')).text()
    const fresh = await waitForEntries(rotatedFile, 1)
    assert.equal(fresh.length, 1)
    assert.equal(fresh[0]!.request.uri, '/rotated/2')
    assert.equal(entries(`${rotatedFile}.1`).length, 1)
  })

  it('answers while the file cannot be opened, warns once without the entry, and counts the drops', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await gh.proxy(`/unwritable/${i}?x-shop-key=${KEY}`)
      assert.equal(res.status, 201)
      await res.text()
    }
    const warning = await gh.waitForLog((l) => l.msg.startsWith('file-log: cannot write the log file'))
    assert.equal(warning.level, 'warn')
    assert.equal(warning.code, 'ENOENT')
    assert.equal(warning.path, missingDirFile)
    let text = ''
    for (let i = 0; i < 100; i++) {
      text = await (await gh.admin('/metrics')).text()
      if (/gatehouse_log_entries_dropped_total\{plugin="file-log",reason="unwritable"\} 3\b/.test(text)) break
      await sleep(25)
    }
    assert.match(text, /gatehouse_log_entries_dropped_total\{plugin="file-log",reason="unwritable"\} 3\b/)
    assert.match(text, /gatehouse_log_entries_sent_total\{plugin="file-log"\} [1-9]/)
    const warnings = gh.lines.filter((l) => l.msg.startsWith('file-log: cannot write'))
    assert.equal(warnings.length, 1, 'warned once, not per request')
    assert.ok(!JSON.stringify(warnings).includes(KEY))
  })
})
