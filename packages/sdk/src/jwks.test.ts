/**
 * Fetching the gateway's keys from a real JWKS server: unknown-kid floods are held by the cooldown, an
 * unreachable or broken JWKS is a 503-class GH_SDK_KEYS_UNAVAILABLE (with a backoff, then recovery), and
 * keys published later are picked up after the cooldown (rotation). A key the gateway withdrew (issue 10)
 * is dropped on `reloadKeys()`, at the JWKS answer's own max-age, or at once with `forgetKey()`.
 */
import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { VerificationError } from './errors.ts'
import { freshFor, MAX_JWKS_BYTES } from './fetch-jwks.ts'
import {
  ISSUER,
  internalClaims,
  JwksServer,
  SERVICE,
  signInternal,
  signingKey,
  unusedPort,
} from './test-fixtures.ts'
import { createVerifier } from './verifier.ts'

const servers: JwksServer[] = []
async function serve(...kids: string[]): Promise<JwksServer> {
  const server = await JwksServer.start(await Promise.all(kids.map((kid) => signingKey(kid))))
  servers.push(server)
  return server
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()))
})

const keysUnavailable = (err: unknown): boolean => {
  assert.ok(err instanceof VerificationError, String(err))
  assert.equal(err.code, 'GH_SDK_KEYS_UNAVAILABLE')
  assert.equal(err.status, 503)
  assert.ok(err.retryAfter !== null && err.retryAfter >= 1, `retryAfter ${err.retryAfter}`)
  return true
}

describe('the gateway JWKS', () => {
  it('holds an unknown-kid flood of 50 tokens to at most 2 JWKS fetches', async () => {
    const jwks = await serve('es-1')
    const verifier = createVerifier({ issuer: ISSUER, audience: SERVICE, jwksUrl: jwks.url })
    const attacker = await signingKey('x')
    const flood = await Promise.all(
      Array.from({ length: 50 }, () =>
        signInternal(attacker, internalClaims(), { kid: `kid-${Math.random().toString(36).slice(2)}` }),
      ),
    )
    const parallel = await Promise.allSettled(flood.slice(0, 25).map((t) => verifier.verify(t)))
    const sequential: PromiseSettledResult<unknown>[] = []
    for (const t of flood.slice(25))
      sequential.push(await Promise.allSettled([verifier.verify(t)]).then((r) => r[0]!))
    const codes = new Set(
      [...parallel, ...sequential].map((r) => (r.status === 'rejected' ? r.reason.code : 'ACCEPTED')),
    )
    assert.deepEqual([...codes], ['GH_SDK_KEY_UNKNOWN'])
    assert.ok(jwks.fetches >= 1 && jwks.fetches <= 2, `the JWKS was fetched ${jwks.fetches} times`)
    assert.equal((await verifier.verify(await jwks.sign('es-1'))).subject, 'user-123')
    assert.ok(jwks.fetches <= 2, `the JWKS was fetched ${jwks.fetches} times`)
  })

  it('answers GH_SDK_KEYS_UNAVAILABLE (503) while the JWKS is unreachable, backs off, and recovers', async () => {
    const port = await unusedPort()
    const key = await signingKey('es-1')
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: SERVICE,
      jwksUrl: `http://127.0.0.1:${port}/jwks`,
    })
    const token = await signInternal(key, internalClaims())
    await assert.rejects(verifier.ready(), keysUnavailable)
    // Back now, but the backoff (1 s after the first failure) keeps requests from reaching it at once.
    const jwks = await JwksServer.start([key], port)
    servers.push(jwks)
    await assert.rejects(verifier.verify(token), keysUnavailable)
    assert.equal(jwks.fetches, 0)
    await sleep(1100)
    assert.equal((await verifier.verify(token)).subject, 'user-123')
    assert.equal(jwks.fetches, 1)
  })

  it('treats an error status, an oversized JWKS and a document that is no JWK set as keys unavailable', async () => {
    const bodies: [string, number, string | null][] = [
      ['HTTP 500', 500, null],
      ['oversized', 200, JSON.stringify({ keys: [], pad: 'x'.repeat(MAX_JWKS_BYTES) })],
      ['not a JWK set', 200, JSON.stringify({ keys: 'none' })],
      ['not JSON', 200, '<html>'],
    ]
    for (const [name, status, body] of bodies) {
      const jwks = await serve('es-1')
      jwks.status = status
      jwks.body = body
      const verifier = createVerifier({ issuer: ISSUER, audience: SERVICE, jwksUrl: jwks.url })
      await assert.rejects(verifier.verify(await jwks.sign('es-1')), keysUnavailable, name)
      assert.equal(jwks.fetches, 1, name)
    }
  })

  it('gives up on a JWKS fetch after the timeout', async () => {
    const jwks = await serve('es-1')
    jwks.hang = true
    const verifier = createVerifier({ issuer: ISSUER, audience: SERVICE, jwksUrl: jwks.url, timeout: 0.2 })
    const started = Date.now()
    await assert.rejects(verifier.verify(await jwks.sign('es-1')), keysUnavailable)
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`)
  })

  it('picks up a key published later once the cooldown has passed (rotation)', async () => {
    const jwks = await serve('es-1')
    const verifier = createVerifier({ issuer: ISSUER, audience: SERVICE, jwksUrl: jwks.url, cooldown: 0.3 })
    await verifier.verify(await jwks.sign('es-1'))
    jwks.add(await signingKey('es-2'))
    const rotated = await jwks.sign('es-2')
    await assert.rejects(verifier.verify(rotated), { code: 'GH_SDK_KEY_UNKNOWN' })
    assert.equal(jwks.fetches, 1, 'no refetch within the cooldown')
    await sleep(350)
    assert.equal((await verifier.verify(rotated)).subject, 'user-123')
    assert.equal((await verifier.verify(await jwks.sign('es-1'))).subject, 'user-123')
    assert.equal(jwks.fetches, 2)
  })

  it('fails closed once the cached keys are older than cacheMaxAge and the JWKS is gone', async () => {
    const jwks = await serve('es-1')
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: SERVICE,
      jwksUrl: jwks.url,
      cacheMaxAge: 0.2,
    })
    const token = await jwks.sign('es-1')
    await verifier.verify(token)
    await jwks.stop()
    await sleep(250)
    await assert.rejects(verifier.verify(token), keysUnavailable)
  })

  it('drops a key the gateway withdrew on reloadKeys(), long before its cache would expire', async () => {
    const jwks = await serve('es-1', 'es-2')
    const verifier = createVerifier({ issuer: ISSUER, audience: SERVICE, jwksUrl: jwks.url })
    const withdrawn = await jwks.sign('es-1')
    assert.equal((await verifier.verify(withdrawn)).subject, 'user-123')
    jwks.unpublish('es-1')
    assert.equal((await verifier.verify(withdrawn)).subject, 'user-123', 'still cached')
    await verifier.reloadKeys()
    await assert.rejects(verifier.verify(withdrawn), { code: 'GH_SDK_KEY_UNKNOWN' })
    assert.equal((await verifier.verify(await jwks.sign('es-2'))).subject, 'user-123')
    assert.equal(jwks.fetches, 2)
  })

  it("fetches again when the JWKS answer's Cache-Control max-age is over, dropping keys no longer listed", async () => {
    const jwks = await serve('es-1', 'es-2')
    jwks.cacheControl = 'public, max-age=1'
    const verifier = createVerifier({ issuer: ISSUER, audience: SERVICE, jwksUrl: jwks.url, cooldown: 0.5 })
    const withdrawn = await jwks.sign('es-1')
    await verifier.verify(withdrawn)
    jwks.unpublish('es-1')
    await verifier.verify(withdrawn)
    assert.equal(jwks.fetches, 1, 'fresh for the max-age')
    await sleep(1100)
    await assert.rejects(verifier.verify(withdrawn), { code: 'GH_SDK_KEY_UNKNOWN' })
    assert.equal(jwks.fetches, 2)
    assert.equal((await verifier.verify(await jwks.sign('es-2'))).subject, 'user-123')
    assert.equal(jwks.fetches, 2)
  })

  it('keeps the keys it holds when a refresh at max-age fails, until cacheMaxAge', async () => {
    const jwks = await serve('es-1')
    jwks.cacheControl = 'max-age=1'
    const verifier = createVerifier({ issuer: ISSUER, audience: SERVICE, jwksUrl: jwks.url, cooldown: 0.5 })
    const token = await jwks.sign('es-1')
    await verifier.verify(token)
    jwks.status = 500
    await sleep(1100)
    assert.equal((await verifier.verify(token)).subject, 'user-123')
    assert.equal(jwks.fetches, 2, 'it did try')
    await assert.rejects(verifier.reloadKeys(), keysUnavailable)
    assert.equal((await verifier.verify(token)).subject, 'user-123', 'a failed reload keeps the keys')
  })

  it('refuses a forgotten kid at once, even while the JWKS still lists it, and fetches the keys again', async () => {
    const jwks = await serve('es-1', 'es-2')
    const verifier = createVerifier({ issuer: ISSUER, audience: SERVICE, jwksUrl: jwks.url })
    const token = await jwks.sign('es-1')
    await verifier.verify(token)
    await verifier.forgetKey('es-1')
    assert.equal(jwks.fetches, 2)
    await assert.rejects(verifier.verify(token), { code: 'GH_SDK_KEY_UNKNOWN' })
    assert.equal((await verifier.verify(await jwks.sign('es-2'))).subject, 'user-123')

    const local = createVerifier({
      issuer: ISSUER,
      audience: SERVICE,
      jwks: { keys: [(await signingKey('es-1')).publicJwk] },
    })
    await local.forgetKey('es-1')
    await assert.rejects(local.verify(token), { code: 'GH_SDK_KEY_UNKNOWN' })
    await assert.rejects(local.forgetKey(''), TypeError)
  })

  it('reads the lifetime of a JWKS answer from Cache-Control', () => {
    assert.equal(freshFor(null), null)
    assert.equal(freshFor('public'), null)
    assert.equal(freshFor('public, max-age=60'), 60_000)
    assert.equal(freshFor('Max-Age="5"'), 5000)
    assert.equal(freshFor('no-store'), 0)
    assert.equal(freshFor('max-age=60, no-cache'), 0)
  })
})
