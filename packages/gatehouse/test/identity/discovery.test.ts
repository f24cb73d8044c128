/**
 * What the identity provider publishes and what it never shows: discovery (the code flow with PKCE
 * only, our client authentication methods), the JWKS (public parts only, one ES256 and one RS256 key,
 * each kid its RFC 7638 thumbprint), and a start with no development default of oidc-provider running
 * (its notices and warnings would be on stdout or stderr).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { type IdentityGateway, SECRET, startIdentityGateway } from './support/gateway.ts'
import { configFor } from './support/oidc.ts'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']

describe('discovery and the JWKS of the identity provider', () => {
  let gw: IdentityGateway
  before(async () => {
    gw = await startIdentityGateway()
  })
  after(async () => {
    await gw?.gh.stop()
  })

  it('publishes metadata for the code flow with PKCE under the issuer, to openid-client', async () => {
    const config = await configFor(gw.issuer, 'web-app')
    const m = config.serverMetadata()
    assert.equal(m.issuer, gw.issuer)
    assert.equal(m.authorization_endpoint, `${gw.issuer}/auth`)
    assert.equal(m.token_endpoint, `${gw.issuer}/token`)
    assert.equal(m.jwks_uri, `${gw.issuer}/jwks`)
    assert.deepEqual(m.response_types_supported, ['code'])
    assert.deepEqual(m.code_challenge_methods_supported, ['S256'])
    assert.deepEqual(m.grant_types_supported, ['authorization_code', 'refresh_token', 'client_credentials'])
    assert.deepEqual(m.token_endpoint_auth_methods_supported, [
      'client_secret_basic',
      'client_secret_post',
      'none',
    ])
    assert.deepEqual(m.id_token_signing_alg_values_supported, ['ES256', 'RS256'])
    assert.ok(
      m.introspection_endpoint && m.revocation_endpoint && m.userinfo_endpoint && m.end_session_endpoint,
    )
    assert.ok(m.dpop_signing_alg_values_supported?.includes('ES256'))
    assert.equal(m.authorization_response_iss_parameter_supported, true)
  })

  it('builds its URLs from the issuer, whatever Host the request names', async () => {
    const res = await fetch(`${gw.issuer}/.well-known/openid-configuration`, {
      headers: { host: 'evil.test' },
    })
    assert.equal(res.status, 200)
    const body = (await res.json()) as Record<string, string>
    assert.equal(body['token_endpoint'], `${gw.issuer}/token`)
  })

  it('serves only the public parts of one ES256 and one RS256 key, each kid its RFC 7638 thumbprint', async () => {
    const res = await fetch(`${gw.issuer}/jwks`)
    assert.equal(res.status, 200)
    const text = await res.text()
    const { keys } = JSON.parse(text) as { keys: JWK[] }
    assert.deepEqual(keys.map((k) => k.alg).sort(), ['ES256', 'RS256'])
    for (const key of keys) {
      for (const member of PRIVATE_MEMBERS)
        assert.equal(key[member as keyof JWK], undefined, `${key.alg} ${member}`)
      assert.equal(key.use, 'sig')
      assert.equal(key.kid, await calculateJwkThumbprint(key))
    }
  })

  it('ran no development default of oidc-provider and wrote no key or secret anywhere', async () => {
    // Exercise the endpoints whose defaults print notices when first used.
    await fetch(`${gw.issuer}/auth?client_id=web-app&response_type=code&scope=openid`)
    await fetch(`${gw.issuer}/token`, { method: 'POST' })
    const output = gw.gh.stdout + gw.gh.stderr
    assert.doesNotMatch(output, /oidc-provider (NOTICE|WARNING)/)
    assert.doesNotMatch(output, /development|quick start|in-memory adapter/i)
    assert.equal(gw.gh.stderr, '')
    assert.ok(!output.includes(SECRET))
    assert.doesNotMatch(output, /"d":"/)
  })
})

describe('the identity provider behind TLS (an https issuer, the gateway on http)', () => {
  let gw: IdentityGateway
  before(async () => {
    gw = await startIdentityGateway({ scheme: 'https' })
  })
  after(async () => {
    await gw?.gh.stop()
  })

  const plain = (path: string) => `http://127.0.0.1:${gw.port}/oidc${path}`

  it('tells clients the https URLs of the issuer', async () => {
    const res = await fetch(plain('/.well-known/openid-configuration'))
    const body = (await res.json()) as Record<string, string>
    assert.equal(body['issuer'], gw.issuer)
    assert.equal(body['token_endpoint'], `${gw.issuer}/token`)
  })

  it('sets its cookies Secure, HttpOnly and SameSite=Lax, scoped to the interaction', async () => {
    const verifier = 'x'.repeat(43)
    const url = new URL(plain('/auth'))
    url.search = new URLSearchParams({
      client_id: 'spa',
      response_type: 'code',
      scope: 'openid',
      redirect_uri: 'http://127.0.0.1:9/cb',
      code_challenge: Buffer.from(createHash('sha256').update(verifier).digest()).toString('base64url'),
      code_challenge_method: 'S256',
    }).toString()
    const res = await fetch(url, { redirect: 'manual' })
    assert.equal(res.status, 303)
    const location = new URL(res.headers.get('location')!, gw.issuer)
    const cookies = res.headers.getSetCookie()
    assert.ok(cookies.length >= 2)
    for (const cookie of cookies) {
      assert.match(cookie, /; secure/i, cookie)
      assert.match(cookie, /; httponly/i, cookie)
      assert.match(cookie, /; samesite=lax/i, cookie)
    }
    const interaction = cookies.find((c) => c.startsWith('_interaction='))!
    assert.match(interaction, new RegExp(`; path=${location.pathname}`))
  })
})
