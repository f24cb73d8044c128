/**
 * The internal-token key schedule on a controlled clock: the next key is published ahead without
 * signing, takes over when due, and the retired key stays published until every token it signed
 * expired; a forced rotation and an algorithm change switch at once; a withdrawn key leaves at once
 * (issue 10), whether it signed or not; the JWKS never shows private material.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { internalTokensSettings } from '../config/schema/internal-tokens.ts'
import { createLoggers } from '../observability/logger.ts'
import { acquireRevocations } from '../redis/revocation-leases.ts'
import { InternalKeyRing } from './key-ring.ts'
import type { PeerKeys } from './peer-keys.ts'

const logger = createLoggers({ level: 'silent' }).logger
const settings = (more: object = {}) =>
  internalTokensSettings.parse({ ttl: 60, keys: { rotation_interval: 3600, publish_ahead: 600 }, ...more })

function ring(more: object = {}) {
  let now = Date.UTC(2026, 10, 23, 12)
  const r = new InternalKeyRing(settings(more), logger, () => now)
  return {
    r,
    advance: (seconds: number) => {
      now += seconds * 1000
    },
  }
}

const published = (r: InternalKeyRing) =>
  (JSON.parse(r.jwksBody) as { keys: { kid: string }[] }).keys.map((k) => k.kid)

describe('the internal-token key ring', () => {
  it('publishes the next key ahead, switches when due, and keeps the old one until its tokens expired', async () => {
    const { r, advance } = ring()
    await r.maintain()
    const first = r.active!
    assert.equal(first.alg, 'ES256')
    assert.deepEqual(published(r), [first.kid])
    const generation = r.generation

    advance(3600 - 600 - 1)
    await r.maintain()
    assert.deepEqual(published(r), [first.kid], 'not yet within publish_ahead')

    advance(1)
    await r.maintain()
    const next = r.list().find((k) => k.state === 'next')
    assert.ok(next, 'the next key is published')
    assert.deepEqual(published(r), [first.kid, next.kid])
    assert.equal(r.active, first, 'the published key does not sign yet')
    assert.equal(r.generation, generation)

    advance(600)
    await r.maintain()
    assert.equal(r.active!.kid, next.kid)
    assert.notEqual(r.generation, generation)
    assert.deepEqual(published(r), [next.kid, first.kid], 'the retired key is still published')

    advance(60 + 30 - 1)
    await r.maintain()
    assert.ok(published(r).includes(first.kid), 'kept for ttl + skew')
    advance(1)
    await r.maintain()
    assert.deepEqual(published(r), [next.kid])
  })

  it('rotates at once when asked, retiring the active key', async () => {
    const { r } = ring()
    await r.maintain()
    const first = r.active!
    await r.rotateNow()
    assert.notEqual(r.active!.kid, first.kid)
    assert.deepEqual(
      r.list().map((k) => [k.kid, k.state]),
      [
        [first.kid, 'retired'],
        [r.active!.kid, 'active'],
      ],
    )
  })

  it('switches to a new algorithm on reload', async () => {
    const { r } = ring()
    await r.maintain()
    await r.configure(settings({ algorithm: 'EdDSA' }))
    assert.equal(r.active!.alg, 'EdDSA')
    const jwks = JSON.parse(r.jwksBody) as { keys: Record<string, unknown>[] }
    assert.deepEqual(
      jwks.keys.map((k) => [k.alg, k.kty, k.crv]),
      [
        ['EdDSA', 'OKP', 'Ed25519'],
        ['ES256', 'EC', 'P-256'],
      ],
    )
  })

  it('withdraws its signing key at once: a new key signs, the old one leaves the JWKS without retiring', async () => {
    const { r } = ring()
    await r.maintain()
    const first = r.active!
    const generation = r.generation
    assert.equal(await r.withdraw(first.kid), 'active')
    assert.notEqual(r.active!.kid, first.kid)
    assert.notEqual(r.generation, generation, 'caches of minted tokens drop what it signed')
    assert.deepEqual(published(r), [r.active!.kid])
    assert.equal(await r.withdraw(first.kid), null, 'gone')
    assert.equal(await r.withdraw('no-such-kid'), null)
  })

  it("leaves out of its JWKS another node's key once a key revocation names it, and withdraws its own when told by any node", async () => {
    const { r } = ring()
    const peer = { kty: 'OKP', crv: 'Ed25519', x: 'x'.repeat(43), kid: 'peer-key', alg: 'EdDSA', use: 'sig' }
    const peers: PeerKeys = { exchange: async () => [peer], close: async () => {} }
    r.sharePublicKeys(peers)
    r.followRevocations(null)
    try {
      await r.maintain()
      const own = r.active!.kid
      assert.deepEqual(published(r), [own, 'peer-key'])
      assert.deepEqual(r.peers(), [{ kid: 'peer-key', alg: 'EdDSA' }])
      const { revocations } = acquireRevocations(null, logger)
      await revocations.revoke({ kind: 'key', id: 'peer-key', ttl: 60 })
      await r.maintain()
      assert.deepEqual(published(r), [own], 'not listed again at the next exchange')
      await revocations.revoke({ kind: 'key', id: own, ttl: 60 })
      await r.maintain()
      assert.notEqual(r.active!.kid, own)
      assert.ok(!published(r).includes(own))
    } finally {
      r.stop()
    }
  })

  it('publishes public members only', async () => {
    const { r } = ring()
    await r.maintain()
    const [key] = (JSON.parse(r.jwksBody) as { keys: Record<string, unknown>[] }).keys
    assert.deepEqual(Object.keys(key!).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y'])
  })

  it('refuses a publish_ahead that is not shorter than the rotation interval', () => {
    const r = internalTokensSettings.safeParse({ keys: { rotation_interval: 60, publish_ahead: 60 } })
    assert.equal(r.success, false)
    assert.deepEqual(
      r.error?.issues.map((i) => [i.path.join('.'), i.message]),
      [['keys.publish_ahead', 'must be shorter than keys.rotation_interval (60)']],
    )
  })
})
