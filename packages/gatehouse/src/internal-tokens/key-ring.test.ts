/**
 * The internal-token key schedule on a controlled clock: the next key is published ahead without
 * signing, takes over when due, and the retired key stays published until every token it signed
 * expired; a forced rotation and an algorithm change switch at once; the JWKS never shows private
 * material.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { internalTokensSettings } from '../config/schema/internal-tokens.ts'
import { createLoggers } from '../observability/logger.ts'
import { InternalKeyRing } from './key-ring.ts'

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
