/**
 * Admin writes while the store cannot be reached (issue 10, section 1), against a real gateway in DB
 * mode: with its PostgreSQL stopped, POST, PATCH and DELETE answer 503 GH_ERR_STORE_UNAVAILABLE with
 * Retry-After (never a 500), the proxy keeps serving the running configuration, /status/ready says the
 * store is down; once PostgreSQL is back the same write succeeds and nothing of the refused ones was
 * written. On SQLite, a file another process keeps locked longer than busy_timeout is the same 503.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { admin, dbModeConfig, until } from '../db-mode/support.ts'
import { type GatehouseProcess, runCli, startGatehouse, writeTempConfig } from '../harness/gatehouse.ts'
import { type PostgresServer, postgresSkipReason, startPostgres } from '../harness/postgres.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

const UNAVAILABLE = {
  message: 'the store (database) cannot be reached; the write was not applied: retry shortly',
  code: 'GH_ERR_STORE_UNAVAILABLE',
  error: 'Service Unavailable',
  statusCode: 503,
}

describe('admin writes with PostgreSQL stopped', { skip: postgresSkipReason() }, () => {
  let server: PostgresServer
  let upstream: Upstream
  let gh: GatehouseProcess
  let database: string
  let configDir: string
  const config = dbModeConfig({
    postgres: { url: '{vault://env/GATEHOUSE_TEST_DATABASE_URL}', pool_size: 4 },
  })

  before(async () => {
    ;[server, upstream] = await Promise.all([startPostgres(), startUpstream()])
    database = await server.createDatabase()
    const env = { GATEHOUSE_TEST_DATABASE_URL: database }
    const file = writeTempConfig(config)
    configDir = file.dir
    const migrated = await runCli(['migrate', '--config', file.file], env)
    assert.equal(migrated.code, 0, migrated.stderr)
    gh = await startGatehouse({ config, env, statusListen: true })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
    await server?.stop()
    if (configDir) rmSync(configDir, { recursive: true, force: true })
  })

  const services = async () => {
    const { rows } = await server.query<{ name: string; document: { url?: string; retries?: number } }>(
      "select name, document from entities where entity_type = 'services' order by name",
      [],
      new URL(database).pathname.slice(1),
    )
    return rows
  }

  it('answers 503 GH_ERR_STORE_UNAVAILABLE to every write while it is down, and the same write succeeds after', async () => {
    assert.equal((await admin(gh, 'POST', '/services', { name: 'orders', url: upstream.url })).status, 201)
    assert.equal(
      (await admin(gh, 'POST', '/services/orders/routes', { name: 'orders', paths: ['/orders'] })).status,
      201,
    )
    assert.equal((await gh.proxy('/orders')).status, 200)

    await server.halt()
    const writes: [string, string, unknown][] = [
      ['POST', '/services', { name: 'billing', url: upstream.url }],
      ['PATCH', '/services/orders', { retries: 1 }],
      ['PUT', '/consumers/alice', {}],
      ['DELETE', '/routes/orders', undefined],
    ]
    for (const [method, path, body] of writes) {
      const res = await gh.admin(path, {
        method,
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      })
      assert.equal(res.status, 503, `${method} ${path}`)
      assert.equal(res.headers.get('retry-after'), '5')
      assert.deepEqual(await res.json(), UNAVAILABLE)
    }
    assert.equal((await gh.proxy('/orders')).status, 200, 'the proxy serves the running configuration')
    const ready = await gh.status('/status/ready')
    assert.equal(ready.status, 503)
    assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, {
      configuration: 'ok',
      store: 'unavailable',
    })
    const status = (await (await gh.status('/status')).json()) as { database: unknown }
    assert.deepEqual(status.database, { reachable: false })
    const logged = await gh.waitForLog((l) => l.msg === 'admin write refused: the store cannot be reached')
    assert.equal(logged.level, 'warn')
    assert.ok(!gh.lines.some((l) => l.msg === 'admin request failed'), 'no 500 was logged')

    await server.resume()
    let retried = 0
    await until(
      async () =>
        (retried = (await admin(gh, 'POST', '/services', { name: 'billing', url: upstream.url })).status),
      (status) => status !== 503,
      15_000,
    )
    assert.equal(retried, 201, 'the same write, once PostgreSQL is back')
    const listed = await admin(gh, 'GET', '/services')
    // Kong lists entities in no promised order.
    assert.deepEqual(listed.body.data.map((s: { name: string }) => s.name).sort(), ['billing', 'orders'])
    const stored = await services()
    assert.deepEqual(
      stored.map((s) => s.name),
      ['billing', 'orders'],
    )
    assert.equal(
      stored.find((s) => s.name === 'orders')!.document.retries,
      5,
      'the refused PATCH (retries: 1) left no trace',
    )
    assert.equal((await admin(gh, 'GET', '/routes/orders')).status, 200, 'the refused DELETE left the route')
    assert.equal((await admin(gh, 'GET', '/consumers/alice')).status, 404, 'the refused PUT made no consumer')
    await until(
      async () => (await gh.status('/status/ready')).status,
      (s) => s === 200,
    )
  })
})

describe('admin writes with the SQLite file locked by another process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-store-locked-'))
  const path = join(dir, 'gatehouse.db')
  let gh: GatehouseProcess
  before(async () => {
    gh = await startGatehouse({ config: dbModeConfig({ sqlite: { path } }) })
  })
  after(async () => {
    await gh?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('answers 503 GH_ERR_STORE_UNAVAILABLE once busy_timeout passes, and writes once the lock is gone', async () => {
    const other = new BetterSqlite3(path)
    try {
      // Another writer holding the file's one write lock (a migration, a stuck CLI) past busy_timeout (5 s).
      other.exec('begin immediate')
      const res = await gh.admin('/services', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'orders', url: 'http://127.0.0.1:9' }),
      })
      assert.equal(res.status, 503)
      assert.deepEqual(await res.json(), UNAVAILABLE)
      other.exec('rollback')
    } finally {
      other.close()
    }
    const created = await admin(gh, 'POST', '/services', { name: 'orders', url: 'http://127.0.0.1:9' })
    assert.equal(created.status, 201)
    assert.deepEqual(
      (await admin(gh, 'GET', '/services')).body.data.map((s: { name: string }) => s.name),
      ['orders'],
    )
  })
})
