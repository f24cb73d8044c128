/**
 * Revocations shared through a real Redis: the contract, then what sharing adds: another node applies a
 * revocation within a second (published, or polled when the message was missed), a node started later
 * knows the earlier ones, an outage leaves every node enforcing what it knew and is caught up without a
 * restart, and a Redis that lost its data gets the revocations back from the nodes.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { type RedisServer, redisSkipReason, startRedis } from '../../test/harness/redis.ts'
import { type RedisSettings, redisSettings } from '../config/schema/redis.ts'
import { acquireRedis } from './connections.ts'
import { channelName } from './pubsub.ts'
import { runRevocationContract } from './revocation.contract.test.ts'
import type { Revocations } from './revocation.ts'
import { acquireRevocations } from './revocation-leases.ts'
import { POLL_MS, REVOCATION_CHANNEL, RedisRevocations } from './revocation-redis.ts'

const silent = pino({ level: 'silent' })

function capture() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = []
  const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) })
  return { logger, lines }
}

async function within(ms: number, check: () => boolean, what: string): Promise<number> {
  const started = Date.now()
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
  return Date.now() - started
}

describe('revocations in Redis', { skip: redisSkipReason() }, () => {
  let server: RedisServer
  let base: RedisSettings
  /** Settings of a fresh, empty namespace (each test its own key prefix). */
  const fresh = (): RedisSettings => ({ ...base, key_prefix: `rev-${randomUUID().slice(0, 8)}:` })
  before(async () => {
    server = await startRedis()
    base = redisSettings.parse({ url: server.url, command_timeout: 300, connect_timeout: 500 })!
  })
  after(() => server?.stop())

  runRevocationContract('redis', async () => new RedisRevocations(fresh(), silent))

  it('reaches another node within a second of being made', async () => {
    const settings = fresh()
    const a = new RedisRevocations(settings, silent)
    const b = new RedisRevocations(settings, silent)
    try {
      await Promise.all([a.settled(), b.settled()])
      // Let b's subscription come up, so this measures the published path.
      await new Promise((r) => setTimeout(r, 100))
      const issued = Date.now()
      await a.revoke({ kind: 'subject', id: 'u-alice' })
      const took = await within(1000, () => b.subjectRevoked('u-alice', issued), 'b sees it')
      assert.ok(took < 200, `published, not polled: ${took} ms`)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('reaches a node that missed the message by polling, and a node started later by loading', async () => {
    const settings = fresh()
    const a = new RedisRevocations(settings, silent)
    const b = new RedisRevocations(settings, silent)
    const lease = acquireRedis(settings, silent)
    try {
      await Promise.all([a.settled(), b.settled(), lease.usable()])
      // Written behind every subscriber's back, as a node whose publish was lost would leave it.
      const at = Date.now()
      const json = JSON.stringify({ kind: 'grant', id: 'g-quiet', at, until: at + 60_000, reason: null })
      await lease.client.hset('revocations:entries', 'grant:g-quiet', json)
      await lease.client.zadd(
        'revocations:seq',
        await lease.client.incr('revocations:counter'),
        'grant:g-quiet',
      )
      await within(POLL_MS + 500, () => a.grantRevoked('g-quiet') && b.grantRevoked('g-quiet'), 'polled')
      const late = new RedisRevocations(settings, silent)
      await late.settled()
      assert.equal(late.grantRevoked('g-quiet'), true)
      await late.close()
      // Messages on the channel that are not revocations are ignored.
      await lease.client.publish(channelName(settings, REVOCATION_CHANNEL), 'not json')
    } finally {
      await Promise.all([a.close(), b.close(), lease.release()])
    }
  })

  it('keeps enforcing through an outage, refuses new revocations meanwhile, and catches up after it', async () => {
    const settings = fresh()
    const { logger, lines } = capture()
    const a = new RedisRevocations(settings, logger)
    const b = new RedisRevocations(settings, silent)
    try {
      await Promise.all([a.settled(), b.settled()])
      await a.revoke({ kind: 'subject', id: 'u-before' })
      await within(1000, () => b.subjectRevoked('u-before', 0), 'b sees it')
      await server.kill()
      await within(2000, () => !a.status().in_sync, 'a notices the outage')
      assert.equal(a.subjectRevoked('u-before', 0), true, 'still enforced')
      await assert.rejects(a.revoke({ kind: 'subject', id: 'u-during' }))
      assert.equal(a.subjectRevoked('u-during', 0), false, 'a failed revocation is not half made')
      assert.ok(
        lines.some((l) => l.msg === 'revocations cannot be synchronised; enforcing those this node knows'),
      )
      await server.start()
      await within(5000, () => a.status().in_sync && b.status().in_sync, 'both back in step')
      await b.revoke({ kind: 'subject', id: 'u-after' })
      await within(1000, () => a.subjectRevoked('u-after', 0), 'a sees a revocation made after recovery')
      // The restarted server had lost everything: the nodes wrote back what they knew.
      const late = new RedisRevocations(settings, silent)
      await late.settled()
      assert.equal(late.subjectRevoked('u-before', 0), true, 'written back after the data was lost')
      await late.close()
      assert.ok(lines.some((l) => l.msg === 'revocations synchronised again'))
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('shares one instance per setting in a process, closed with its last holder', async () => {
    const settings = fresh()
    const one = acquireRevocations(settings, silent)
    const two = acquireRevocations({ ...settings }, silent)
    assert.equal(one.revocations, two.revocations)
    await one.revocations.settled()
    await one.release()
    assert.equal(two.revocations.status().in_sync, true, 'still held')
    await two.release()
    const three = acquireRevocations(settings, silent)
    assert.notEqual(three.revocations, one.revocations as Revocations)
    await three.release()
  })
})
