/**
 * The session store contract: what every SessionStore must do, one `it` per behaviour.
 * memory-store.test.ts runs it; a shared store (Redis) will run it unchanged. `open` returns an empty
 * store; `close` releases it.
 */
import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { SessionRecord } from './session.ts'
import type { SessionStore } from './store.ts'

export function record(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return Object.freeze({
    sid: 'sid-1',
    sub: 'user-1',
    name: 'Alice Example',
    email: 'alice@example.test',
    accessToken: 'access-token',
    accessExpiresAt: 1_700_000_300,
    refreshToken: 'refresh-token',
    idToken: null,
    scope: 'openid profile',
    csrf: 'csrf-token',
    createdAt: 1_700_000_000,
    seenAt: 1_700_000_000,
    auth: { acr: 'urn:gatehouse:acr:2fa', amr: ['pwd', 'otp', 'mfa'], authTime: 1_700_000_000 },
    ...overrides,
  })
}

export function runSessionStoreContract(
  name: string,
  open: () => Promise<SessionStore>,
  close: (store: SessionStore) => Promise<void> = async () => {},
): void {
  describe(`${name}: the session store contract`, () => {
    let store: SessionStore
    beforeEach(async () => {
      store = await open()
    })
    afterEach(() => close(store))

    it('finds nothing under a key never written', async () => {
      assert.equal(await store.get('nope'), undefined)
    })

    it('returns the record written under a key, member for member', async () => {
      await store.set('k1', record(), 60)
      assert.deepEqual(await store.get('k1'), record())
    })

    it('replaces the record when a key is written again', async () => {
      await store.set('k1', record(), 60)
      await store.set('k1', record({ refreshToken: 'rotated' }), 60)
      assert.equal((await store.get('k1'))?.refreshToken, 'rotated')
    })

    it('keeps records under different keys apart', async () => {
      await store.set('k1', record({ sub: 'one' }), 60)
      await store.set('k2', record({ sub: 'two' }), 60)
      assert.equal((await store.get('k1'))?.sub, 'one')
      assert.equal((await store.get('k2'))?.sub, 'two')
    })

    it('forgets a deleted record, and deleting a missing key is no error', async () => {
      await store.set('k1', record(), 60)
      await store.delete('k1')
      assert.equal(await store.get('k1'), undefined)
      await store.delete('k1')
    })

    it('forgets a record once its lifetime is over', async () => {
      await store.set('k1', record(), 1)
      assert.ok(await store.get('k1'))
      await sleep(1100)
      assert.equal(await store.get('k1'), undefined)
    })

    it('starts a new lifetime when a record is written again', async () => {
      await store.set('k1', record(), 1)
      await sleep(600)
      await store.set('k1', record(), 2)
      await sleep(600)
      assert.ok(await store.get('k1'), 'the second write gave it two more seconds')
    })
  })
}
