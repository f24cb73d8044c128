/**
 * Two gateway processes in DB mode on one real PostgreSQL database: a write on node A is enforced by
 * node B within a second (LISTEN/NOTIFY, polling behind it), writes on both nodes at once are all kept,
 * and an import from the command line reaches both. Every wait polls with a deadline.
 */
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, runCli, startGatehouse, writeTempConfig } from '../harness/gatehouse.ts'
import { type PostgresServer, postgresSkipReason, startPostgres } from '../harness/postgres.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { admin, dbModeConfig, until } from './support.ts'

const skip = postgresSkipReason()

describe('two nodes in DB mode on one PostgreSQL database', { skip }, () => {
  let server: PostgresServer
  let upstream: Upstream
  let env: Record<string, string>
  let a: GatehouseProcess
  let b: GatehouseProcess
  let configDir: string
  let configFile: string
  const config = dbModeConfig({
    postgres: { url: '{vault://env/GATEHOUSE_TEST_DATABASE_URL}', pool_size: 4 },
  })

  before(async () => {
    ;[server, upstream] = await Promise.all([startPostgres(), startUpstream()])
    env = { GATEHOUSE_TEST_DATABASE_URL: await server.createDatabase() }
    ;({ dir: configDir, file: configFile } = writeTempConfig(config))
    const migrated = await runCli(['migrate', '--config', configFile], env)
    assert.equal(migrated.code, 0, migrated.stderr)
    ;[a, b] = await Promise.all([startGatehouse({ config, env }), startGatehouse({ config, env })])
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await upstream?.close()
    await server?.stop()
    rmSync(configDir, { recursive: true, force: true })
  })

  const status = async (gh: GatehouseProcess, path: string, headers: Record<string, string> = {}) =>
    (await gh.proxy(path, { headers })).status

  it('enforces on node B, within a second, a credential added and a consumer deleted on node A', async () => {
    assert.equal((await admin(a, 'POST', '/services', { name: 'orders', url: upstream.url })).status, 201)
    assert.equal(
      (await admin(a, 'POST', '/services/orders/routes', { name: 'orders', paths: ['/orders'] })).status,
      201,
    )
    assert.equal((await admin(a, 'POST', '/routes/orders/plugins', { name: 'key-auth' })).status, 201)
    assert.equal((await admin(a, 'POST', '/consumers', { username: 'alice' })).status, 201)
    await until(
      () => status(b, '/orders'),
      (s) => s === 401,
    )

    const key = { apikey: 'alice-key-0001' }
    assert.equal((await admin(a, 'POST', '/consumers/alice/key-auth', { key: key.apikey })).status, 201)
    const opened = await until(
      () => status(b, '/orders', key),
      (s) => s === 200,
    )
    assert.ok(opened < 1000, `node B took ${Math.round(opened)} ms`)
    assert.equal(
      (await admin(b, 'GET', '/key-auths/alice-key-0001')).body.consumer.id,
      (await admin(a, 'GET', '/consumers/alice')).body.id,
    )

    assert.equal((await admin(a, 'DELETE', '/consumers/alice')).status, 204)
    const closed = await until(
      () => status(b, '/orders', key),
      (s) => s === 401,
    )
    assert.ok(closed < 1000, `node B took ${Math.round(closed)} ms`)
    assert.equal((await admin(b, 'GET', '/consumers/alice')).status, 404)
  })

  it('keeps every write when both nodes take writes at once', async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        admin(i % 2 === 0 ? a : b, 'POST', '/consumers', { username: `both-${i}` }),
      ),
    )
    assert.deepEqual(
      answers.map((x) => x.status),
      answers.map(() => 201),
    )
    for (const node of [a, b]) {
      const names = async () =>
        (await admin(node, 'GET', '/consumers?size=1000')).body.data.map(
          (c: { username: string }) => c.username,
        )
      await until(names, (n: string[]) => n.filter((x) => x.startsWith('both-')).length === 12)
    }
  })

  it('brings an import from the command line to both nodes, and refuses a bad one without changing anything', async () => {
    const file = join(configDir, 'entities.yaml')
    writeFileSync(
      file,
      `_format_version: "3.0"
services:
- name: billing
  url: ${upstream.url}
  routes:
  - name: bills
    paths: [/bills]
`,
    )
    const imported = await runCli(['config', 'import', file, '--config', configFile], env)
    assert.equal(imported.code, 0, imported.stderr)
    for (const node of [a, b])
      await until(
        async () => [await status(node, '/bills'), await status(node, '/orders')],
        ([bills, orders]) => bills === 200 && orders === 404,
      )
    const before = await runCli(['config', 'export', '--config', configFile], env)
    writeFileSync(file, '_format_version: "3.0"\nservices:\n- name: billing\n  url: ftp://x\n')
    const refused = await runCli(['config', 'import', file, '--config', configFile], env)
    assert.equal(refused.code, 1)
    assert.match(
      refused.stderr,
      /entities\.yaml: services\[0\]\.url: expected an http:\/\/, https:\/\/, ws:\/\/, wss:\/\/, grpc:\/\/ or grpcs:\/\/ URL/,
    )
    assert.equal((await runCli(['config', 'export', '--config', configFile], env)).stdout, before.stdout)
  })
})
