/**
 * The shared Redis connections against a real server: sharing and closing, a request never waiting
 * longer than the command timeout while the server is down, recovery without anyone reconnecting by
 * hand, and outage logs that do not repeat per attempt.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { type RedisServer, redisSkipReason, startRedis } from '../../test/harness/redis.ts'
import { type RedisSettings, redisSettings } from '../config/schema/redis.ts'
import { acquireRedis, openRedisConnections } from './connections.ts'

function capture() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = []
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) })
  return { logger, lines }
}

const waitFor = async (check: () => boolean, timeout = 5000) => {
  const deadline = Date.now() + timeout
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('shared Redis connections', { skip: redisSkipReason() }, () => {
  let server: RedisServer
  let settings: RedisSettings
  before(async () => {
    server = await startRedis()
    settings = redisSettings.parse({ url: server.url, command_timeout: 200, key_prefix: 'conn-test:' })!
  })
  after(() => server?.stop())

  it('opens one connection for holders with the same settings, and closes it with the last holder', async () => {
    const { logger } = capture()
    const before = openRedisConnections()
    const a = acquireRedis(settings, logger)
    const b = acquireRedis({ ...settings }, logger)
    const other = acquireRedis({ ...settings, key_prefix: 'elsewhere:' }, logger)
    assert.equal(a.client, b.client)
    assert.notEqual(a.client, other.client)
    assert.equal(openRedisConnections(), before + 2)
    await a.usable()
    assert.equal(a.usable(), undefined, 'ready: nothing to wait for')
    assert.equal(await a.client.ping(), 'PONG')
    await a.release()
    await a.release()
    assert.equal(b.client.status, 'ready', 'still held by b')
    await b.release()
    await other.release()
    assert.equal(openRedisConnections(), before)
    await waitFor(() => b.client.status === 'end')
  })

  it('connects once the server starts, when it was down at the first use', async () => {
    const { logger, lines } = capture()
    await server.kill()
    const lease = acquireRedis({ ...settings, key_prefix: 'late:' }, logger)
    try {
      await assert.rejects(async () => lease.usable(), /ECONNREFUSED/)
      await assert.rejects(async () => lease.usable(), /not connected/, 'then fails at once')
      await server.start()
      await waitFor(() => lease.client.status === 'ready')
      assert.equal(lease.usable(), undefined)
      assert.equal(await lease.client.ping(), 'PONG')
      assert.ok(lines.some((l) => l.msg === 'redis connection failed; retrying'))
    } finally {
      await lease.release()
    }
  })

  it('fails commands within the command timeout while the server is down, and recovers by itself', async () => {
    const { logger, lines } = capture()
    const lease = acquireRedis(settings, logger)
    try {
      await lease.usable()
      await lease.client.set('k', '1')
      await server.kill()
      await waitFor(() => lease.client.status !== 'ready')
      for (let i = 0; i < 5; i++) {
        const started = Date.now()
        await assert.rejects(async () => {
          await lease.usable()
          await lease.client.get('k')
        })
        assert.ok(Date.now() - started < 400, `failed after ${Date.now() - started} ms`)
      }
      // Reconnection attempts fail every few hundred ms; the log says so once.
      await new Promise((r) => setTimeout(r, 600))
      const down = lines.filter((l) => l.level === 40)
      assert.equal(down.length, 1, JSON.stringify(down))
      assert.equal(down[0]!.redis, `redis://127.0.0.1:${server.port}/0`)
      await server.start()
      await waitFor(() => lease.client.status === 'ready')
      assert.equal(await lease.client.set('k', '2'), 'OK')
      assert.ok(lines.some((l) => l.msg === 'redis connection restored' && typeof l.down_ms === 'number'))
    } finally {
      await lease.release()
    }
  })
})
