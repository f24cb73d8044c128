/**
 * One of three nodes dies mid-load (SIGKILL, no goodbye): the other two keep serving without a failed
 * request, every admin write a node acknowledged before the kill is still there afterwards, the rate
 * limit shared in Redis keeps counting across the survivors, and the survivors still accept writes.
 * Three gateway processes in DB mode on a real PostgreSQL and a real Redis.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { admin, dbModeConfig, until } from '../db-mode/support.ts'
import { type GatehouseProcess, runCli, startGatehouse, writeTempConfig } from '../harness/gatehouse.ts'
import { type PostgresServer, postgresSkipReason, startPostgres } from '../harness/postgres.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../harness/redis.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

const skip = postgresSkipReason() || redisSkipReason()
const KEY = { apikey: 'node-failure-key-0001' }

describe('a node killed under load', { skip }, () => {
  let postgres: PostgresServer
  let redis: RedisServer
  let upstream: Upstream
  let nodes: GatehouseProcess[] = []
  let configDir: string

  before(async () => {
    ;[postgres, redis, upstream] = await Promise.all([startPostgres(), startRedis(), startUpstream()])
    const env = {
      GATEHOUSE_TEST_DATABASE_URL: await postgres.createDatabase(),
      GATEHOUSE_TEST_REDIS_URL: redis.url,
    }
    const config = dbModeConfig(
      { postgres: { url: '{vault://env/GATEHOUSE_TEST_DATABASE_URL}', pool_size: 4 } },
      { redis: { url: '{vault://env/GATEHOUSE_TEST_REDIS_URL}' } },
    )
    const written = writeTempConfig(config)
    configDir = written.dir
    const migrated = await runCli(['migrate', '--config', written.file], env)
    assert.equal(migrated.code, 0, migrated.stderr)
    nodes = await Promise.all([0, 1, 2].map(() => startGatehouse({ config, env })))
    const [a] = nodes as [GatehouseProcess]
    assert.equal((await admin(a, 'POST', '/services', { name: 'orders', url: upstream.url })).status, 201)
    assert.equal(
      (await admin(a, 'POST', '/services/orders/routes', { name: 'o', paths: ['/orders'] })).status,
      201,
    )
    assert.equal((await admin(a, 'POST', '/services/orders/plugins', { name: 'key-auth' })).status, 201)
    assert.equal(
      (
        await admin(a, 'POST', '/services/orders/plugins', {
          name: 'rate-limiting',
          config: { hour: 100_000, policy: 'redis', limit_by: 'consumer' },
        })
      ).status,
      201,
    )
    assert.equal((await admin(a, 'POST', '/consumers', { username: 'acme' })).status, 201)
    assert.equal((await admin(a, 'POST', '/consumers/acme/key-auth', { key: KEY.apikey })).status, 201)
    for (const node of nodes)
      await until(
        async () => (await node.proxy('/orders', { headers: KEY })).status,
        (s) => s === 200,
      )
  })
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    await upstream?.close()
    await redis?.stop()
    await postgres?.stop()
    if (configDir) rmSync(configDir, { recursive: true, force: true })
  })

  it('keeps serving on the others, loses no acknowledged write, and keeps the shared count', async () => {
    const [victim, b, c] = nodes as [GatehouseProcess, GatehouseProcess, GatehouseProcess]
    const survivors = [b, c]
    const failures: string[] = []
    const acknowledged: string[] = []
    let served = 0
    let stop = false

    // Steady traffic on the survivors, and writes through every node (the victim included).
    const traffic = survivors.map(async (node) => {
      while (!stop) {
        const res = await node.proxy('/orders', { headers: KEY })
        if (res.status === 200) served++
        else failures.push(`proxy ${res.status}`)
      }
    })
    const writes = nodes.map(async (node, n) => {
      for (let i = 0; !stop; i++) {
        const username = `user-${n}-${i}`
        try {
          const res = await admin(node, 'POST', '/consumers', { username })
          if (res.status === 201) acknowledged.push(username)
          else if (node !== victim) failures.push(`write ${res.status} on a survivor`)
        } catch {
          if (node !== victim) failures.push('write refused by a survivor')
          else return // the victim is gone: its unanswered write may or may not have landed
        }
        await sleep(20)
      }
    })

    await sleep(1500)
    victim.signal('SIGKILL')
    await victim.exited
    const servedAtKill = served
    await sleep(2000)
    stop = true
    await Promise.all([...traffic, ...writes])

    assert.deepEqual(failures, [])
    assert.ok(
      served - servedAtKill > 50,
      `the survivors served ${served - servedAtKill} requests after the kill`,
    )
    // Every acknowledged write is in the store, as both survivors see it.
    for (const node of survivors) {
      const usernames = new Set<string>()
      let path: string | null = '/consumers?size=1000'
      while (path !== null) {
        const page = await admin(node, 'GET', path)
        for (const consumer of page.body.data as { username: string }[]) usernames.add(consumer.username)
        path = page.body.next
      }
      const missing = acknowledged.filter((u) => !usernames.has(u))
      assert.deepEqual(missing, [], 'acknowledged writes missing after the kill')
    }
    assert.ok(
      acknowledged.some((u) => u.startsWith('user-0-')),
      'the victim acknowledged writes before it died',
    )
    // The shared counter went on: the remaining allowance went down by what the survivors served.
    const remaining = async (node: GatehouseProcess) =>
      Number((await node.proxy('/orders', { headers: KEY })).headers.get('x-ratelimit-remaining-hour'))
    const first = await remaining(b)
    const second = await remaining(c)
    assert.equal(second, first - 1, 'one count across the survivors')
  })
})
