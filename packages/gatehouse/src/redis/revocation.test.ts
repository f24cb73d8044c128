import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import { runRevocationContract } from './revocation.contract.test.ts'
import { MemoryRevocations } from './revocation.ts'
import { acquireRevocations } from './revocation-leases.ts'
import { RevocationList } from './revocation-list.ts'

const silent = pino({ level: 'silent' })

runRevocationContract('memory', async () => new MemoryRevocations(silent))

describe('the in-memory revocations', () => {
  it('are one per process, kept when every holder let go (they exist nowhere else)', async () => {
    const a = acquireRevocations(null, silent)
    await a.revocations.revoke({ kind: 'session', id: 'kept' })
    await a.release()
    const b = acquireRevocations(null, silent)
    assert.equal(b.revocations, a.revocations)
    assert.equal(b.revocations.sessionRevoked('kept'), true)
    await b.release()
  })
})

describe('the revocation list', () => {
  const entry = (id: string, at: number, until: number) => ({
    kind: 'subject' as const,
    id,
    at,
    until,
    reason: null,
  })

  it('forgets revocations once their lifetime is over', () => {
    const list = new RevocationList()
    list.apply(entry('a', 1000, 2000), 1500)
    list.apply(entry('b', 1000, 3000), 1500)
    assert.equal(list.apply(entry('c', 1000, 1400), 1500).changed, false, 'already over')
    list.sweep(2500)
    assert.equal(list.subjectRevoked('a', 0), false)
    assert.equal(list.subjectRevoked('b', 0), true)
    assert.equal(list.size, 1)
    list.close()
  })

  it('keeps the latest revocation and the longest lifetime of a subject revoked twice', () => {
    const list = new RevocationList()
    list.apply(entry('a', 2000, 5000), 0)
    assert.equal(list.apply(entry('a', 1000, 4000), 0).changed, false, 'older and shorter: nothing new')
    assert.equal(list.apply(entry('a', 1000, 9000), 0).changed, true)
    assert.equal(list.revokedAt('subject', 'a'), 2000)
    list.sweep(6000)
    assert.equal(list.subjectRevoked('a', 1500), true, 'kept until 9000')
    list.close()
  })

  it('makes room by dropping the revocation that ends soonest, and says which', () => {
    const list = new RevocationList(2)
    list.apply(entry('a', 1, 500), 0)
    list.apply(entry('b', 1, 100), 0)
    const { evicted } = list.apply(entry('c', 1, 900), 0)
    assert.equal(evicted?.id, 'b')
    assert.equal(list.size, 2)
    list.close()
  })
})
