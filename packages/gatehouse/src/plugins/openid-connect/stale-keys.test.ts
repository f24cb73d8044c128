/**
 * An issuer whose JWKS becomes unreachable after max_age: the last keys keep verifying tokens for
 * `stale_ttl` (with one throttled warning and fetches retried only after the backoff), a token accepted
 * then is not remembered past the stale period, and afterwards every token is refused (fail closed);
 * with `stale_ttl: 0` the keys are refused as soon as max_age is over and the fetch fails.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type RawResponse, rawRequest } from '../../../test/harness/http.ts'
import { startUpstream, type Upstream } from '../../../test/harness/upstream.ts'
import { accessClaims, assertRefusal, signingKey, TestIssuer } from './test-fixtures.ts'

const AUD = 'https://api.shop.example'
const UNAVAILABLE = {
  description: "The issuer's keys are unavailable; the access token cannot be verified",
  reason: 'oidc_keys_unavailable',
}
const STALE_WARNING = 'openid-connect is verifying with stale keys: the JWKS cannot be fetched'

describe('stale keys while the issuer is unreachable', () => {
  let upstream: Upstream
  let issuer: TestIssuer
  let gh: GatehouseProcess

  before(async () => {
    upstream = await startUpstream()
    issuer = await TestIssuer.start([await signingKey('k-1')])
    const route = (name: string, staleTtl: number) => ({
      name,
      paths: [`/${name}`],
      plugins: [
        {
          name: 'openid-connect',
          config: {
            issuer: issuer.url,
            jwks_uri: issuer.jwksUri,
            audience: AUD,
            verbose_errors: true,
            jwks_cache: { max_age: 1, cooldown: 1, stale_ttl: staleTtl },
          },
        },
      ],
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [{ name: 'svc', url: upstream.url, routes: [route('stale', 2), route('never', 0)] }],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await issuer?.stop()
    await upstream?.close()
  })

  const token = () => issuer.sign('k-1', accessClaims(issuer.url, AUD))
  const send = (path: string, t: string) =>
    rawRequest(gh.proxyUrl + path, { headers: { authorization: `Bearer ${t}` } })
  const passed = (res: RawResponse) => assert.equal(res.status, 200, res.body)

  it('verifies with the last keys for stale_ttl past max_age, warns once, then refuses', async () => {
    const early = await token()
    passed(await send('/stale', early))
    passed(await send('/never', early))
    // Each route has its own key set (stale_ttl differs), so the JWKS was fetched twice.
    assert.equal(issuer.served.jwks, 2)
    const fetchedAt = Date.now()

    issuer.jwksStatus = 503
    await sleep(1200)
    // max_age is over and the fetch fails: the cached token and a new one pass with the stale keys…
    passed(await send('/stale', early))
    for (let i = 0; i < 5; i++) passed(await send('/stale', await token()))
    // …but not where stale_ttl is 0.
    assertRefusal(await send('/never', await token()), UNAVAILABLE)
    assert.equal(issuer.served.jwks, 4, 'one failed fetch per key set, then the backoff')
    const warning = await gh.waitForLog((l) => l.msg === STALE_WARNING)
    assert.equal(warning.level, 'warn')
    assert.equal(warning.issuer, issuer.url)

    // Past max_age + stale_ttl (3 s after the last good fetch): refused, the token accepted before too.
    await sleep(Math.max(0, fetchedAt + 3200 - Date.now()))
    assertRefusal(await send('/stale', await token()), UNAVAILABLE)
    assertRefusal(await send('/stale', early), UNAVAILABLE)
    assert.equal(gh.lines.filter((l) => l.msg === STALE_WARNING).length, 1, 'one warning a minute')
    const failures = gh.lines.filter(
      (l) => l.msg === 'openid-connect could not fetch the JWKS' && l.issuer === issuer.url,
    )
    assert.ok(failures.length <= 4, `${failures.length} fetch attempts in about 3 s`)
  })
})
