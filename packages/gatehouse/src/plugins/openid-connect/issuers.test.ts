/**
 * One route trusting several issuers (`issuers`): the token's `iss` picks the entry, whose own audience,
 * algorithms, keys and claim mapping apply — nothing crosses from one issuer to another (RFC 8725 §3.8);
 * a token from an issuer not listed is refused without asking anyone for keys. What the upstream sees
 * of each caller's mapped attributes (attributes_to_headers), and entries falling back on route-level
 * values.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type RawResponse, rawRequest } from '../../../test/harness/http.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'
import { accessClaims, assertRefusal, signingKey, signWith, TestIssuer } from './test-fixtures.ts'

const AUD_A = 'https://api.shop.example'
const AUD_B = 'shop-api'

describe('a route trusting several issuers', () => {
  let upstream: Upstream
  /** Keycloak-like: ES256 only, discovered, realm roles. */
  let a: TestIssuer
  /** Auth0-like: RS256 and ES256, jwks_uri configured, a namespaced claim. */
  let b: TestIssuer
  let gh: GatehouseProcess

  before(async () => {
    upstream = await startUpstream()
    a = await TestIssuer.start([await signingKey('a-1', 'ES256')])
    b = await TestIssuer.start([await signingKey('b-rsa', 'RS256'), await signingKey('b-ec', 'ES256')])
    const issuers = [
      {
        issuer: a.url,
        audience: AUD_A,
        algorithms: ['ES256'],
        claim_mapping: {
          roles: 'realm_access.roles',
          client_roles: 'resource_access["shop-web"].roles',
          profile: ['profile'],
        },
      },
      {
        issuer: b.url,
        jwks_uri: b.jwksUri,
        audience: AUD_B,
        algorithms: ['RS256', 'ES256'],
        consumer_claim: 'email',
        claim_mapping: { country: '["https://shop.example/country"]', roles: ['https://shop.example/roles'] },
      },
    ]
    const plugin = (config: object) => [{ name: 'openid-connect', config }]
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              {
                name: 'multi',
                paths: ['/multi'],
                plugins: plugin({
                  issuers,
                  verbose_errors: true,
                  attributes_to_headers: {
                    roles: 'X-Roles',
                    country: 'X-Country',
                    profile: 'X-Profile',
                    client_roles: 'X-Client-Roles',
                  },
                }),
              },
              {
                name: 'fallback',
                paths: ['/fallback'],
                plugins: plugin({ issuers: [{ issuer: a.url }], audience: AUD_A, algorithms: ['RS256'] }),
              },
            ],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await a?.stop()
    await b?.stop()
    await upstream?.close()
  })

  const send = (path: string, token: string) =>
    rawRequest(gh.proxyUrl + path, {
      headers: { authorization: `Bearer ${token}`, 'x-roles': 'forged', 'x-country': 'forged' },
    })

  function passed(res: RawResponse): EchoBody {
    assert.equal(res.status, 200, res.body)
    return JSON.parse(res.body) as EchoBody
  }

  it("verifies each issuer's tokens with its own keys, audience and claim mapping", async () => {
    const fromA = await a.sign(
      'a-1',
      accessClaims(a.url, AUD_A, {
        realm_access: { roles: ['customer', 'beta'] },
        resource_access: { 'shop-web': { roles: ['buyer'] } },
        profile: { tier: 'gold', since: 2020 },
        'https://shop.example/country': 'FR',
      }),
    )
    const hA = passed(await send('/multi', fromA)).headers
    assert.equal(hA['x-authenticated-userid'], 'user-123')
    assert.equal(hA['x-roles'], '["customer","beta"]')
    assert.equal(hA['x-client-roles'], '["buyer"]')
    assert.equal(hA['x-profile'], '{"tier":"gold","since":2020}')
    assert.equal(hA['x-country'], undefined, "A's mapping has no country, whatever the token carries")

    const fromB = await b.sign(
      'b-rsa',
      accessClaims(b.url, AUD_B, {
        email: 'ann@shop.example',
        'https://shop.example/country': 'GB',
        'https://shop.example/roles': ['admin'],
        realm_access: { roles: ['ignored'] },
      }),
    )
    const hB = passed(await send('/multi', fromB)).headers
    assert.equal(hB['x-authenticated-userid'], 'ann@shop.example', "B's consumer_claim")
    assert.equal(hB['x-country'], 'GB')
    assert.equal(hB['x-roles'], '["admin"]')
    assert.equal(hB['x-profile'], undefined)
    passed(
      await send('/multi', await b.sign('b-ec', accessClaims(b.url, AUD_B, { email: 'ann@shop.example' }))),
    )
    assert.deepEqual(a.served, { discovery: 1, jwks: 1 })
    assert.deepEqual(b.served, { discovery: 0, jwks: 1 })
  })

  it("refuses a token from one issuer with another's audience or algorithm", async () => {
    assertRefusal(await send('/multi', await a.sign('a-1', accessClaims(a.url, AUD_B))), {
      description: 'The access token is not meant for this resource',
      reason: 'oidc_wrong_audience',
    })
    // A accepts only ES256, although B's entry allows RS256.
    const rsaForA = await signWith(await signingKey('a-rsa', 'RS256'), accessClaims(a.url, AUD_A))
    assertRefusal(await send('/multi', rsaForA), {
      description: 'The access token is signed with an algorithm this resource does not accept',
      reason: 'oidc_alg_not_allowed',
    })
  })

  it("never verifies a token with another issuer's keys", async () => {
    const served = { a: { ...a.served }, b: { ...b.served } }
    // iss names A, signed with B's ES256 key under its kid: A's key set has no such key.
    const bKeyForA = await signWith(b.keys.get('b-ec')!, accessClaims(a.url, AUD_A))
    assertRefusal(await send('/multi', bKeyForA), {
      description: 'The access token is signed with an unknown key',
      reason: 'oidc_unknown_key',
    })
    // iss names B, no kid, signed with A's key: B's one ES256 key does not verify it.
    const aKeyForB = await signWith(a.keys.get('a-1')!, accessClaims(b.url, AUD_B, { email: 'x@y' }), {
      kid: undefined,
    })
    assertRefusal(await send('/multi', aKeyForB), {
      description: 'The access token signature is invalid',
      reason: 'oidc_bad_signature',
    })
    assert.equal(b.served.jwks, served.b.jwks, "B's keys were not fetched again")
    assert.ok(a.served.jwks <= served.a.jwks + 1, 'at most one refetch of A for the unknown kid')
  })

  it('refuses a token from an issuer not listed, without asking any issuer for keys', async () => {
    const served = { a: { ...a.served }, b: { ...b.served } }
    const other = await TestIssuer.start([await signingKey('a-1')])
    try {
      assertRefusal(await send('/multi', await other.sign('a-1', accessClaims(other.url, AUD_A))), {
        description: 'The access token is from an issuer this resource does not trust',
        reason: 'oidc_unknown_issuer',
      })
      assert.deepEqual(other.served, { discovery: 0, jwks: 0 })
      assert.deepEqual({ a: a.served, b: b.served }, served)
    } finally {
      await other.stop()
    }
  })

  it('lets an entry take the route-level audience and algorithms it leaves out', async () => {
    const es256 = await a.sign('a-1', accessClaims(a.url, AUD_A))
    assertRefusal(
      await rawRequest(`${gh.proxyUrl}/fallback`, { headers: { authorization: `Bearer ${es256}` } }),
      {
        description: 'The access token is invalid',
      },
    )
    const line = await gh.waitForLog((l) => l.type === 'access' && l.route === 'fallback')
    assert.equal(line.error_detail, 'oidc_alg_not_allowed')
  })
})
