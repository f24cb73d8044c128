/**
 * The revocation contract: what every Revocations backend does, one `it` per behaviour. revocation.test.ts
 * runs it in memory, revocation-redis.test.ts against a real Redis. `open` returns an instance with
 * nothing revoked; `close` releases it.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { DEFAULT_REVOCATION_TTL, type Revocation, type Revocations } from './revocation.ts'

export function runRevocationContract(
  name: string,
  open: () => Promise<Revocations>,
  close: (r: Revocations) => Promise<void> = (r) => r.close(),
): void {
  describe(`${name}: the revocation contract`, () => {
    let revocations: Revocations
    beforeEach(async () => {
      revocations = await open()
      await revocations.settled()
    })
    afterEach(() => close(revocations))

    it('refuses what was issued to a subject at or before its revocation, and nothing issued after', async () => {
      const before = Date.now() - 1
      const r = await revocations.revoke({ kind: 'subject', id: 'u-alice', reason: 'stolen laptop' })
      assert.equal(revocations.subjectRevoked('u-alice', before), true)
      assert.equal(revocations.subjectRevoked('u-alice', r.at), true, 'issued at the same instant')
      assert.equal(revocations.subjectRevoked('u-alice', r.at + 1), false)
      assert.equal(revocations.subjectRevoked('u-bob', before), false)
    })

    it('answers a revocation with when it was made, how long it is kept, and why', async () => {
      const started = Date.now()
      const r = await revocations.revoke({ kind: 'grant', id: 'g-1', reason: 'support ticket 42', ttl: 60 })
      assert.deepEqual(
        { kind: r.kind, id: r.id, reason: r.reason },
        {
          kind: 'grant',
          id: 'g-1',
          reason: 'support ticket 42',
        },
      )
      assert.ok(r.at >= started && r.at <= Date.now())
      assert.equal(r.until, r.at + 60_000)
      const plain = await revocations.revoke({ kind: 'grant', id: 'g-2' })
      assert.equal(plain.reason, null)
      assert.equal(plain.until, plain.at + DEFAULT_REVOCATION_TTL * 1000)
    })

    it('revokes sessions and grants by their exact id', async () => {
      await revocations.revoke({ kind: 'session', id: 's-1' })
      await revocations.revoke({ kind: 'grant', id: 'g-1' })
      assert.equal(revocations.sessionRevoked('s-1'), true)
      assert.equal(revocations.sessionRevoked('s-2'), false)
      assert.equal(revocations.grantRevoked('g-1'), true)
      assert.equal(revocations.grantRevoked('s-1'), false, 'kinds are kept apart')
      assert.equal(revocations.subjectRevoked('s-1', 0), false)
    })

    it('withdraws a signing key by its kid, and counts each new key revocation for the caches that compare', async () => {
      const before = revocations.keyChanges()
      await revocations.revoke({ kind: 'key', id: 'kid-1', reason: 'leaked' })
      assert.equal(revocations.keyRevoked('kid-1'), true)
      assert.equal(revocations.keyRevoked('kid-2'), false)
      assert.equal(revocations.subjectRevoked('kid-1', 0), false, 'kinds are kept apart')
      assert.notEqual(revocations.keyChanges(), before)
      const after = revocations.keyChanges()
      await revocations.revoke({ kind: 'grant', id: 'kid-1' })
      assert.equal(revocations.keyChanges(), after, 'other kinds leave the count alone')
    })

    it('makes cached profiles of a subject stale when the profile changed or the subject was revoked', async () => {
      const fetched = Date.now() - 1
      await revocations.revoke({ kind: 'profile', id: 'u-carol' })
      assert.equal(revocations.profileStale('u-carol', fetched), true)
      assert.equal(revocations.subjectRevoked('u-carol', fetched), false, 'a changed profile refuses nothing')
      await revocations.revoke({ kind: 'subject', id: 'u-dave' })
      assert.equal(revocations.profileStale('u-dave', fetched), true)
      assert.equal(revocations.profileStale('u-erin', fetched), false)
    })

    it("tells when an issuer's keys were last invalidated, each invalidation a new value", async () => {
      assert.equal(revocations.revokedAt('jwks', 'https://id.example'), undefined)
      const first = await revocations.revoke({ kind: 'jwks', id: 'https://id.example' })
      assert.equal(revocations.revokedAt('jwks', 'https://id.example'), first.at)
      await new Promise((r) => setTimeout(r, 5))
      const second = await revocations.revoke({ kind: 'jwks', id: 'https://id.example' })
      assert.equal(revocations.revokedAt('jwks', 'https://id.example'), second.at)
      assert.notEqual(second.at, first.at)
      assert.equal(revocations.subjectRevoked('https://id.example', 0), false)
    })

    it('moves a subject revocation forward when the subject is revoked again', async () => {
      const first = await revocations.revoke({ kind: 'subject', id: 'u-frank' })
      await new Promise((r) => setTimeout(r, 5))
      const between = Date.now()
      const second = await revocations.revoke({ kind: 'subject', id: 'u-frank', reason: 'again' })
      assert.ok(second.at > first.at)
      assert.equal(revocations.subjectRevoked('u-frank', between), true)
      const listed = revocations.recent(10).filter((r) => r.id === 'u-frank')
      assert.equal(listed.length, 1)
      assert.equal(listed[0]!.reason, 'again')
    })

    it('lists the most recent revocations first, as many as asked', async () => {
      for (const id of ['a', 'b', 'c']) {
        await revocations.revoke({ kind: 'session', id })
        await new Promise((r) => setTimeout(r, 2))
      }
      assert.deepEqual(
        revocations.recent(2).map((r) => r.id),
        ['c', 'b'],
      )
    })

    it('tells its listeners about each revocation once', async () => {
      const heard: Revocation[] = []
      const stop = revocations.subscribe((r) => heard.push(r))
      await revocations.revoke({ kind: 'session', id: 'told' })
      await new Promise((r) => setTimeout(r, 100))
      assert.deepEqual(
        heard.map((r) => r.id),
        ['told'],
      )
      stop()
      await revocations.revoke({ kind: 'session', id: 'untold' })
      assert.equal(heard.length, 1)
    })

    it('says whether it is in step with the revocations everyone shares', () => {
      const status = revocations.status()
      assert.equal(status.in_sync, true)
      assert.equal(status.backend, revocations.backend)
    })
  })
}
