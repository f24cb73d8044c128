/**
 * The openid-connect plugin in front of a real upstream, with a real issuer (discovery + JWKS on an
 * ephemeral port, keys generated here) and tokens signed with jose: what reaches the upstream for a valid
 * token (identity headers, consumer mapping, options), anonymous and preflight. The refusals are in
 * answers.test.ts; keys over time (rotation, cooldown, outages) in jwks.test.ts; hostile tokens in
 * hostile-tokens.test.ts; config in schema.test.ts.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type RawResponse, rawRequest } from '../../../test/harness/http.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'
import { accessClaims, assertRefusal, nowSeconds, signingKey, TestIssuer } from './test-fixtures.ts'

const AUD = 'https://api.shop.example'

function route(name: string, config: object, more: object[] = []) {
  return { name, paths: [`/${name}`], plugins: [{ name: 'openid-connect', config }, ...more] }
}

describe('the openid-connect plugin in front of an upstream', () => {
  let upstream: Upstream
  let issuer: TestIssuer
  let gh: GatehouseProcess

  before(async () => {
    upstream = await startUpstream()
    issuer = await TestIssuer.start([await signingKey('ec-1', 'ES256'), await signingKey('rsa-1', 'RS256')])
    const base = { issuer: issuer.url, audience: AUD }
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        consumers: [
          { username: 'alice', custom_id: 'alice-1', acls: [{ group: 'admins' }] },
          { custom_id: 'user-bob' },
          { username: 'guest' },
        ],
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              route('api', base),
              route('other', base),
              route('es-only', { ...base, algorithms: ['ES256'] }),
              route('anon', { ...base, anonymous: 'guest', required_scopes: ['orders:read'] }),
              route('hide', {
                ...base,
                hide_credentials: true,
                claims_to_headers: { email: 'X-User-Email', level: 'x-user-level', roles: 'x-user-roles' },
              }),
              route('preflight', { ...base, run_on_preflight: false }),
              route('by-email', { ...base, consumer_claim: 'email' }),
              route('acl', base, [{ name: 'acl', config: { allow: ['admins'] } }]),
            ],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await issuer?.stop()
    await upstream?.close()
  })

  const send = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
    rawRequest(gh.proxyUrl + path, { method, headers })
  const bearer = (path: string, token: string, headers: Record<string, string> = {}) =>
    send(path, { authorization: `Bearer ${token}`, ...headers })
  const token = (more: Record<string, unknown> = {}, header: Record<string, unknown> = {}, kid = 'ec-1') =>
    issuer.sign(kid, accessClaims(issuer.url, AUD, more), header)

  function passed(res: RawResponse): EchoBody {
    assert.equal(res.status, 200, res.body)
    return JSON.parse(res.body) as EchoBody
  }

  it('discovers the issuer and fetches its keys once for every route, however many requests arrive together', async () => {
    const good = await token()
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => bearer(['/api', '/other', '/es-only'][i % 3]!, good)),
    )
    for (const res of answers) passed(res)
    assert.deepEqual(issuer.served, { discovery: 1, jwks: 1 })
  })

  it('does not fetch the keys again for a flood of unknown kids within the cooldown', async () => {
    const other = await signingKey('not-published')
    issuer.keys.set(other.kid, other)
    const unknown = await token({}, {}, 'not-published')
    for (let i = 0; i < 20; i++)
      assertRefusal(await bearer('/api', unknown), { description: 'The access token is invalid' })
    assert.deepEqual(issuer.served, { discovery: 1, jwks: 1 })
  })

  describe('a valid token', () => {
    it('reaches the upstream with the caller in identity headers, without a consumer entity when none matches', async () => {
      const echo = passed(await bearer('/api', await token()))
      const h = echo.headers
      assert.equal(h['x-consumer-username'], 'user-123')
      assert.equal(h['x-authenticated-userid'], 'user-123')
      assert.equal(h['x-credential-identifier'], 'shop-web')
      assert.equal(h['x-authenticated-scope'], 'openid orders:read')
      assert.equal(h['x-consumer-id'], undefined)
      assert.equal(h['x-consumer-custom-id'], undefined)
      assert.equal(h['x-anonymous-consumer'], undefined)
      assert.match(h.authorization as string, /^Bearer ey/)
    })

    it('is verified with either configured algorithm (ES256 and RS256 by default)', async () => {
      passed(await bearer('/api', await token({}, {}, 'rsa-1')))
    })

    it("becomes the consumer whose username equals the token's sub", async () => {
      const h = passed(await bearer('/api', await token({ sub: 'alice' }))).headers
      assert.match(h['x-consumer-id'] as string, /^[0-9a-f-]{36}$/)
      assert.equal(h['x-consumer-username'], 'alice')
      assert.equal(h['x-consumer-custom-id'], 'alice-1')
      assert.equal(h['x-authenticated-userid'], 'alice')
    })

    it("becomes the consumer whose custom_id equals the token's sub, and a consumer's acl groups apply", async () => {
      const h = passed(await bearer('/api', await token({ sub: 'user-bob' }))).headers
      assert.match(h['x-consumer-id'] as string, /^[0-9a-f-]{36}$/)
      assert.equal(h['x-consumer-custom-id'], 'user-bob')
      assert.equal(h['x-consumer-username'], undefined)
      assert.equal(
        passed(await bearer('/acl', await token({ sub: 'alice' }))).headers['x-consumer-groups'],
        'admins',
      )
      const refused = await bearer('/acl', await token({ sub: 'user-123' }))
      assert.equal(refused.status, 401)
    })

    it('replaces identity headers a client sends', async () => {
      const h = passed(
        await bearer('/api', await token(), {
          'x-consumer-id': 'forged',
          'x-consumer-username': 'admin',
          'x-authenticated-userid': 'admin',
          'x-authenticated-scope': 'everything',
        }),
      ).headers
      assert.equal(h['x-consumer-id'], undefined)
      assert.equal(h['x-consumer-username'], 'user-123')
      assert.equal(h['x-authenticated-userid'], 'user-123')
      assert.equal(h['x-authenticated-scope'], 'openid orders:read')
    })

    it('accepts the scheme in any case and aud as a list containing this resource', async () => {
      passed(await send('/api', { authorization: `bEaReR ${await token()}` }))
      passed(await bearer('/api', await token({ aud: ['https://other.example', AUD] })))
    })

    it('accepts typ at+jwt, application/at+jwt and AT+JWT (media types are case-insensitive)', async () => {
      for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT'])
        passed(await bearer('/api', await token({}, { typ })))
    })

    it('hides the Authorization header and copies claims to headers when configured, never a client copy', async () => {
      const h = passed(
        await bearer('/hide', await token({ email: 'ann@shop.example', level: 3, roles: ['a'] }), {
          'x-user-roles': 'admin',
        }),
      ).headers
      assert.equal(h.authorization, undefined)
      assert.equal(h['x-user-email'], 'ann@shop.example')
      assert.equal(h['x-user-level'], '3')
      assert.equal(h['x-user-roles'], undefined)
    })

    it('names the caller by consumer_claim when configured', async () => {
      const h = passed(await bearer('/by-email', await token({ email: 'ann@shop.example' }))).headers
      assert.equal(h['x-authenticated-userid'], 'ann@shop.example')
      assert.equal(h['x-consumer-username'], 'ann@shop.example')
    })
  })

  describe('anonymous', () => {
    it('lets a request without a valid token, or without the scopes, through as the anonymous consumer', async () => {
      for (const res of [
        await send('/anon'),
        await bearer('/anon', await token({ exp: nowSeconds() - 60 })),
        await bearer('/anon', await token({ scope: 'openid' })),
      ]) {
        const h = passed(res).headers
        assert.equal(h['x-consumer-username'], 'guest')
        assert.equal(h['x-anonymous-consumer'], 'true')
        assert.equal(h['x-authenticated-userid'], undefined)
      }
      const h = passed(await bearer('/anon', await token())).headers
      assert.equal(h['x-consumer-username'], 'user-123')
      assert.equal(h['x-anonymous-consumer'], undefined)
    })
  })

  describe('run_on_preflight: false', () => {
    it('lets OPTIONS through without a token and still guards other methods', async () => {
      passed(await send('/preflight', { origin: 'https://app.example' }, 'OPTIONS'))
      assert.equal((await send('/preflight')).status, 401)
    })
  })
})
