/**
 * How the plugin gets an issuer's keys over time, against real issuers on ephemeral ports: key rotation
 * picked up by a refetch on an unknown kid, at most once per cooldown (counted on the issuer); an issuer
 * that is down or failing at first use (401, fail closed, one attempt per backoff period, recovery without
 * a restart); a configured jwks_uri skipping discovery; a discovery document naming another issuer; a
 * withdrawn key no longer honoured once max_age is over, even for a token accepted (and cached) before;
 * tokens without a kid (one candidate key, several, none). Stale keys are in stale-keys.test.ts.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type RawResponse, rawRequest } from '../../../test/harness/http.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'
import {
  accessClaims,
  assertRefusal,
  type SigningKey,
  signingKey,
  signWith,
  TestIssuer,
} from './test-fixtures.ts'

const AUD = 'https://api.shop.example'
const UNAVAILABLE = "The issuer's keys are unavailable; the access token cannot be verified"
const UNKNOWN_KEY = 'The access token is signed with an unknown key'
const REASONS: Record<string, string> = {
  [UNAVAILABLE]: 'oidc_keys_unavailable',
  [UNKNOWN_KEY]: 'oidc_unknown_key',
  'The access token cannot be verified': 'oidc_unverifiable',
}
/** A little over the 1 s cooldown and the first backoff step. */
const PAST_ONE_SECOND = 1200

describe("fetching an issuer's keys", () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  /** Rotates keys; cooldown 1 s. */
  let rotating: TestIssuer
  /** Not listening when the gateway first needs it. */
  let down: TestIssuer
  /** Discovery works, the JWKS answers 500 at first. */
  let failing: TestIssuer
  /** Configured by jwks_uri. */
  let direct: TestIssuer
  /** Its discovery document names another issuer. */
  let impostor: TestIssuer
  /** Publishes a key jose cannot import under the kid its tokens name. */
  let broken: TestIssuer
  /** Withdraws a key while tokens it signed are still valid; max_age 1 s. */
  let withdrawing: TestIssuer
  /** Publishes two ES256 keys; cooldown 1 s. */
  let twins: TestIssuer

  before(async () => {
    upstream = await startUpstream()
    const issuers = await Promise.all(
      ['rotating', 'down', 'failing', 'direct', 'impostor', 'broken', 'withdrawing', 'twins'].map(
        async (name) => TestIssuer.start([await signingKey(`${name}-1`)]),
      ),
    )
    ;[rotating, down, failing, direct, impostor, broken, withdrawing, twins] = issuers as [
      TestIssuer,
      TestIssuer,
      TestIssuer,
      TestIssuer,
      TestIssuer,
      TestIssuer,
      TestIssuer,
      TestIssuer,
    ]
    await down.stop()
    failing.jwksStatus = 500
    impostor.discoveryIssuer = 'https://id.other.example'
    twins.add(await signingKey('twins-2'))
    const good = broken.keys.get('broken-1')!
    broken.keys.set('broken-1', { ...good, publicJwk: { ...good.publicJwk, x: 'AAAA', y: 'AAAA' } })
    const route = (name: string, config: object) => ({
      name,
      paths: [`/${name}`],
      plugins: [{ name: 'openid-connect', config: { audience: AUD, verbose_errors: true, ...config } }],
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              route('rotating', { issuer: rotating.url, jwks_cache: { cooldown: 1 } }),
              route('down', { issuer: down.url }),
              route('failing', { issuer: failing.url }),
              route('direct', { issuer: direct.url, jwks_uri: direct.jwksUri }),
              route('impostor', { issuer: impostor.url }),
              route('broken', { issuer: broken.url }),
              route('withdrawing', { issuer: withdrawing.url, jwks_cache: { max_age: 1, cooldown: 1 } }),
              route('twins', { issuer: twins.url, jwks_cache: { cooldown: 1 } }),
            ],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    for (const issuer of [rotating, down, failing, direct, impostor, broken, withdrawing, twins])
      await issuer?.stop()
    await upstream?.close()
  })

  const call = async (path: string, issuer: TestIssuer, kid: string) =>
    rawRequest(gh.proxyUrl + path, {
      headers: { authorization: `Bearer ${await issuer.sign(kid, accessClaims(issuer.url, AUD))}` },
    })

  function passed(res: RawResponse): EchoBody {
    assert.equal(res.status, 200, res.body)
    return JSON.parse(res.body) as EchoBody
  }

  function invalid(res: RawResponse, description: string): void {
    assertRefusal(res, { description, reason: REASONS[description]! })
  }

  it('picks up a rotated key by refetching on an unknown kid, at most once per cooldown', async () => {
    passed(await call('/rotating', rotating, 'rotating-1'))
    assert.deepEqual(rotating.served, { discovery: 1, jwks: 1 })

    rotating.add(await signingKey('rotating-2'))
    await sleep(PAST_ONE_SECOND)
    passed(await call('/rotating', rotating, 'rotating-2'))
    assert.deepEqual(rotating.served, { discovery: 1, jwks: 2 })

    // Right after that fetch: a newly published kid and a kid nobody publishes both wait for the cooldown.
    rotating.add(await signingKey('rotating-3'))
    rotating.keys.set('never-published', await signingKey('never-published'))
    invalid(await call('/rotating', rotating, 'rotating-3'), UNKNOWN_KEY)
    invalid(await call('/rotating', rotating, 'never-published'), UNKNOWN_KEY)
    assert.deepEqual(rotating.served, { discovery: 1, jwks: 2 })

    // The old key is retired; once the cooldown is over, the next unknown kid refreshes the whole set.
    rotating.unpublish('rotating-1')
    await sleep(PAST_ONE_SECOND)
    passed(await call('/rotating', rotating, 'rotating-3'))
    assert.deepEqual(rotating.served, { discovery: 1, jwks: 3 })
    invalid(await call('/rotating', rotating, 'rotating-1'), UNKNOWN_KEY)
    passed(await call('/rotating', rotating, 'rotating-2'))
    assert.deepEqual(rotating.served, { discovery: 1, jwks: 3 })
  })

  it('stops honouring a token, even one accepted before, once its key is withdrawn and max_age is over', async () => {
    const token = await withdrawing.sign('withdrawing-1', accessClaims(withdrawing.url, AUD))
    const send = () =>
      rawRequest(`${gh.proxyUrl}/withdrawing`, { headers: { authorization: `Bearer ${token}` } })
    passed(await send())
    passed(await send())
    assert.deepEqual(withdrawing.served, { discovery: 1, jwks: 1 })

    withdrawing.add(await signingKey('withdrawing-2'))
    withdrawing.unpublish('withdrawing-1')
    await sleep(PAST_ONE_SECOND)
    invalid(await send(), UNKNOWN_KEY)
    assert.deepEqual(withdrawing.served, { discovery: 1, jwks: 2 })
  })

  it('refuses with 401 while the issuer is down at first use, and recovers without a restart', async () => {
    invalid(await call('/down', down, 'down-1'), UNAVAILABLE)
    const warning = await gh.waitForLog(
      (l) => l.msg === 'openid-connect discovery failed' && l.issuer === down.url,
    )
    assert.equal(warning.level, 'warn')
    assert.match(warning.reason as string, /^request failed: ECONNREFUSED$/)
    assert.equal(warning.retry_in_ms, 1000)

    await down.listen(down.port)
    await sleep(PAST_ONE_SECOND)
    passed(await call('/down', down, 'down-1'))
    assert.deepEqual(down.served, { discovery: 1, jwks: 1 })
    const failures = gh.lines.filter(
      (l) => l.msg === 'openid-connect discovery failed' && l.issuer === down.url,
    )
    assert.equal(failures.length, 1)
  })

  it('asks a failing JWKS endpoint once per backoff period, not once per request, then recovers', async () => {
    invalid(await call('/failing', failing, 'failing-1'), UNAVAILABLE)
    for (let i = 0; i < 10; i++) invalid(await call('/failing', failing, 'failing-1'), UNAVAILABLE)
    assert.deepEqual(failing.served, { discovery: 1, jwks: 1 })
    const warning = await gh.waitForLog(
      (l) => l.msg === 'openid-connect could not fetch the JWKS' && l.issuer === failing.url,
    )
    assert.equal(warning.reason, 'answered HTTP 500 (expected 200)')
    assert.equal(warning.jwks_uri, failing.jwksUri)

    failing.jwksStatus = 200
    await sleep(PAST_ONE_SECOND)
    passed(await call('/failing', failing, 'failing-1'))
    assert.deepEqual(failing.served, { discovery: 1, jwks: 2 })
  })

  it('keeps verifying with cached keys while the JWKS endpoint fails', async () => {
    failing.jwksStatus = 503
    for (let i = 0; i < 3; i++) passed(await call('/failing', failing, 'failing-1'))
    assert.deepEqual(failing.served, { discovery: 1, jwks: 2 })
  })

  it('skips discovery when jwks_uri is configured', async () => {
    passed(await call('/direct', direct, 'direct-1'))
    assert.deepEqual(direct.served, { discovery: 0, jwks: 1 })
  })

  it('refuses to trust keys from a discovery document that names another issuer', async () => {
    invalid(await call('/impostor', impostor, 'impostor-1'), UNAVAILABLE)
    const warning = await gh.waitForLog(
      (l) => l.msg === 'openid-connect discovery failed' && l.issuer === impostor.url,
    )
    assert.equal(
      warning.reason,
      'the discovery document names another issuer (OpenID Connect Discovery §4.3)',
    )
    assert.deepEqual(impostor.served, { discovery: 1, jwks: 0 })
  })

  it('refuses with 401, not 500, when the published key cannot be used, and warns once', async () => {
    const token = await broken.sign('broken-1', accessClaims(broken.url, AUD))
    for (let i = 0; i < 3; i++) {
      const res = await rawRequest(`${gh.proxyUrl}/broken`, {
        headers: { authorization: `Bearer ${token}`, 'x-request-id': `oidc-broken-${i}` },
      })
      invalid(res, 'The access token cannot be verified')
    }
    // Log lines of a request are written before its access line.
    await gh.waitForLog((l) => l.request_id === 'oidc-broken-2')
    const warnings = gh.lines.filter(
      (l) => l.msg === 'openid-connect could not verify a token' && l.issuer === broken.url,
    )
    assert.deepEqual(
      warnings.map((l) => [l.level, l.reason]),
      [['warn', 'oidc_unverifiable']],
    )
  })

  it('records every refusal for missing keys in the access log', async () => {
    await rawRequest(`${gh.proxyUrl}/impostor`, {
      headers: {
        authorization: `Bearer ${await impostor.sign('impostor-1', accessClaims(impostor.url, AUD))}`,
        'x-request-id': 'oidc-keys-unavailable',
      },
    })
    const line = await gh.waitForLog((l) => l.request_id === 'oidc-keys-unavailable')
    assert.equal(line.status, 401)
    assert.equal(line.error_code, 'GH_ERR_AUTH_KEYS_UNAVAILABLE')
    assert.equal(line.error_detail, 'oidc_keys_unavailable')
  })

  describe('a token without a kid', () => {
    const kidless = async (key: SigningKey) =>
      rawRequest(`${gh.proxyUrl}/twins`, {
        headers: {
          authorization: `Bearer ${await signWith(key, accessClaims(twins.url, AUD), { kid: undefined })}`,
        },
      })

    it('is refused when several published keys fit its alg, without trying each or fetching again', async () => {
      for (let i = 0; i < 5; i++)
        assertRefusal(await kidless(twins.keys.get('twins-1')!), {
          description: 'The access token has no kid and the issuer has several keys for its algorithm',
          reason: 'oidc_ambiguous_key',
        })
      assert.deepEqual(twins.served, { discovery: 1, jwks: 1 })
    })

    it('is verified with the one key left once the issuer publishes only one', async () => {
      twins.unpublish('twins-2')
      await sleep(PAST_ONE_SECOND)
      // Two candidates in the cached set: still ambiguous until the keys are fetched again.
      assert.equal((await kidless(twins.keys.get('twins-1')!)).status, 401)
      passed(await call('/twins', twins, 'twins-1'))
      assert.equal(twins.served.jwks, 1)
    })

    it('fetches the keys at most once per cooldown when no published key fits its alg', async () => {
      const rsa = await signingKey('unpublished-rsa', 'RS256')
      const before = twins.served.jwks
      for (let i = 0; i < 20; i++) invalid(await kidless(rsa), UNKNOWN_KEY)
      assert.equal(twins.served.jwks, before + 1)
      // That fetch found twins-2 gone: a kid-less ES256 token now has exactly one candidate.
      passed(await kidless(twins.keys.get('twins-1')!))
    })
  })
})
