/**
 * Signing-key rotation end to end, on a fast schedule (a rotation every 6 s, the next key published
 * 3 s ahead, tokens living 5 s): the next key is in the JWKS before it signs, tokens issued before a
 * rotation keep verifying (their kid stays published) until they expire, new tokens carry the new kid,
 * a retired key is kept for the longest token lifetime plus poll interval and clock tolerance and then
 * leaves the JWKS; and `gatehouse keys list|rotate` against the running gateway's store.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { errors as joseErrors } from 'jose'
import { runCli } from '../harness/gatehouse.ts'
import {
  type IdentityGateway,
  ORDERS_API,
  PARTNER_SECRET,
  startIdentityGateway,
  storeOf,
} from './support/gateway.ts'
import { client, configFor, TokenVerifier } from './support/oidc.ts'

const TTL = 5
/** Longest token lifetime + poll interval (750 ms, rounded up) + 15 s clock tolerance. */
const RETENTION = TTL + 1 + 15

interface PublishedKey {
  kid: string
  alg: string
}

describe('signing key rotation', () => {
  let gw: IdentityGateway
  let partner: client.Configuration
  let verify: TokenVerifier
  before(async () => {
    gw = await startIdentityGateway({
      identity: {
        keys: { rotation_interval: 6, publish_ahead: 3 },
        ttl: { access_token: TTL, client_credentials: TTL, id_token: TTL },
      },
    })
    partner = await configFor(gw.issuer, 'partner', PARTNER_SECRET)
    verify = new TokenVerifier(partner)
  })
  after(async () => {
    await gw?.gh.stop()
  })

  const jwks = async (): Promise<PublishedKey[]> =>
    ((await (await fetch(`${gw.issuer}/jwks`)).json()) as { keys: PublishedKey[] }).keys
  const token = async () =>
    (await client.clientCredentialsGrant(partner, { resource: ORDERS_API })).access_token
  const kidOf = (jwt: string) =>
    (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid

  async function until<T>(what: string, probe: () => Promise<T | undefined>, timeout = 15_000): Promise<T> {
    const deadline = Date.now() + timeout
    while (Date.now() < deadline) {
      const value = await probe()
      if (value !== undefined) return value
      await sleep(100)
    }
    assert.fail(`timed out waiting for ${what}`)
  }

  it('publishes the next key ahead, switches to it on schedule, and keeps older tokens verifiable', async () => {
    const initial = await jwks()
    assert.deepEqual(initial.map((k) => k.alg).sort(), ['ES256', 'RS256'])
    const first = initial.find((k) => k.alg === 'ES256')!.kid

    // Published ahead: four keys, the new ones not yet signing.
    const published = await until('the next keys in the JWKS', async () => {
      const keys = await jwks()
      return keys.length === 4 ? keys : undefined
    })
    const next = published.find((k) => k.alg === 'ES256' && k.kid !== first)!.kid
    const before = await token()
    assert.equal(kidOf(before), first)

    // The rotation: new tokens carry the next key's kid.
    const afterRotation = await until('a token signed by the next key', async () => {
      const t = await token()
      return kidOf(t) === next ? t : undefined
    })
    assert.equal((await verify.accessToken(afterRotation, ORDERS_API)).kid, next)

    // The token from before the rotation still verifies: its key is still published.
    assert.ok((await jwks()).some((k) => k.kid === first))
    assert.equal((await verify.accessToken(before, ORDERS_API)).kid, first)

    // ...until it expires, and then for that reason only.
    const exp = JSON.parse(Buffer.from(before.split('.')[1]!, 'base64url').toString()).exp as number
    await sleep(Math.max(0, exp * 1000 - Date.now()) + 1100)
    await assert.rejects(verify.accessToken(before, ORDERS_API), joseErrors.JWTExpired)

    // Retired, kept until every token it signed has expired (plus poll interval and clock tolerance).
    const store = await storeOf(gw.gh)
    try {
      const retired = (await store.keys.list()).find((k) => k.kid === first)!
      assert.equal(retired.state, 'retired')
      assert.equal(retired.delete_after, retired.retired_at! + RETENTION)
      assert.ok(
        (await jwks()).some((k) => k.kid === first),
        'deleted before delete_after',
      )
      // Instead of waiting the 21 s: move its delete_after to now, as time would.
      await store.keys.update(first, { delete_after: Math.floor(Date.now() / 1000) - 1 })
      await until('the retired key to leave the JWKS', async () =>
        (await jwks()).some((k) => k.kid === first) ? undefined : true,
      )
      assert.equal(
        (await store.keys.list()).find((k) => k.kid === first),
        undefined,
      )
    } finally {
      await store.close()
    }
    await gw.gh.waitForLog((l) => l.msg === 'signing key changed' && l.kid === first && l.event === 'deleted')
  })

  it('lists the keys without key material and rotates on demand with `gatehouse keys`', async () => {
    const listed = await runCli(['keys', 'list', '--config', gw.gh.configFile])
    assert.equal(listed.code, 0, listed.stderr)
    assert.match(listed.stdout, /^KID\s+ALG\s+STATE/)
    assert.match(listed.stdout, /ES256\s+active/)
    assert.doesNotMatch(listed.stdout, /"d"|encrypted|v1\./)

    const rotated = await runCli(['keys', 'rotate', '--alg', 'ES256', '--config', gw.gh.configFile])
    assert.equal(rotated.code, 0, rotated.stderr)
    const kid = /^ES256 (\S+) activated$/m.exec(rotated.stdout)?.[1]
    assert.ok(kid, rotated.stdout)
    await until('a token signed by the rotated-in key', async () =>
      kidOf(await token()) === kid ? true : undefined,
    )

    const wrong = await runCli(['keys', 'rotate', '--alg', 'PS256', '--config', gw.gh.configFile])
    assert.equal(wrong.code, 2)
    assert.match(wrong.stderr, /--alg: 'PS256' is not in identity.keys.algorithms \(ES256, RS256\)/)
  })
})
