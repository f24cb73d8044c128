/**
 * The claims of an internal token from a principal: the gateway's claims always win over profile
 * claims, profile sources apply in order, `roles` keeps only the shape services accept, and optional
 * claims are left out rather than null.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ConsumerEntity } from '../config/model.ts'
import type { Principal } from '../pipeline/principal.ts'
import { internalClaims, type MintRequest, RESERVED_CLAIMS } from './mint.ts'

const principal: Principal = {
  subject: 'alice',
  kind: 'user',
  method: 'openid-connect',
  issuer: 'https://id.example',
  clientId: 'web',
  scopes: ['orders:read', 'orders:write'],
  attributes: { country: 'FR', tier: 'gold' },
  claims: {},
  token: 'public-token',
}

const request = (more: Partial<MintRequest> = {}): MintRequest => ({
  issuer: 'https://gatehouse.internal',
  audience: ['orders', 'payments'],
  ttl: 60,
  principal,
  consumer: null,
  profile: [],
  reserved: new Set(RESERVED_CLAIMS),
  requestId: null,
  ...more,
})

describe('internal token claims', () => {
  it('carries who called, for whom, and for how long', () => {
    assert.deepEqual(
      { ...internalClaims(request(), 1000), jti: 'x' },
      {
        iss: 'https://gatehouse.internal',
        sub: 'alice',
        aud: ['orders', 'payments'],
        iat: 1000,
        nbf: 1000,
        exp: 1060,
        jti: 'x',
        sub_type: 'user',
        client_id: 'web',
        scope: 'orders:read orders:write',
        auth: { method: 'openid-connect', iss: 'https://id.example' },
      },
    )
  })

  it('applies profile sources in order and never lets them take a reserved claim', () => {
    const claims = internalClaims(
      request({
        profile: [
          { country: 'DE', sub: 'admin', aud: 'everything' },
          principal.attributes,
          { country: 'GB', iss: 'https://evil.example', scope: 'admin' },
        ],
      }),
      1000,
    )
    assert.equal(claims.country, 'GB')
    assert.equal(claims.tier, 'gold')
    assert.equal(claims.sub, 'alice')
    assert.deepEqual(claims.aud, ['orders', 'payments'])
    assert.equal(claims.iss, 'https://gatehouse.internal')
    assert.equal(claims.scope, 'orders:read orders:write')
  })

  it('keeps roles only as a list of strings', () => {
    assert.deepEqual(internalClaims(request({ profile: [{ roles: ['buyer', 'beta'] }] }), 1).roles, [
      'buyer',
      'beta',
    ])
    assert.equal('roles' in internalClaims(request({ profile: [{ roles: 'admin' }] }), 1), false)
    assert.equal('roles' in internalClaims(request({ profile: [{ roles: ['ok', 1] }] }), 1), false)
  })

  it('names the consumer without null members, and the request id only when asked', () => {
    const consumer = { id: 'c-1', username: 'acme', custom_id: null } as unknown as ConsumerEntity
    const claims = internalClaims(
      request({
        consumer,
        principal: { ...principal, issuer: null, clientId: null, scopes: [] },
        requestId: 'r-1',
      }),
      1,
    )
    assert.deepEqual(claims.consumer, { id: 'c-1', username: 'acme' })
    assert.deepEqual(claims.auth, { method: 'openid-connect' })
    assert.equal('client_id' in claims, false)
    assert.equal('scope' in claims, false)
    assert.equal(claims.txn, 'r-1')
  })

  it('passes on how a person authenticated (acr, amr, auth_time) from a provider, never from a profile', () => {
    const stepped = {
      ...principal,
      claims: { acr: 'urn:gatehouse:acr:2fa', amr: ['pwd', 'otp', 'mfa'], auth_time: 900 },
    }
    const claims = internalClaims(
      request({ principal: stepped, profile: [{ acr: 'forged', amr: ['hwk'], auth_time: 999 }] }),
      1000,
    )
    assert.equal(claims.acr, 'urn:gatehouse:acr:2fa')
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'])
    assert.equal(claims.auth_time, 900)
    const session = internalClaims(request({ principal: { ...stepped, method: 'session' } }), 1000)
    assert.deepEqual(session.amr, ['pwd', 'otp', 'mfa'])
    // A Kong-style jwt is the consumer's own assertion: its amr says nothing a service may rely on.
    const jwt = internalClaims(request({ principal: { ...stepped, method: 'jwt' } }), 1000)
    assert.equal('acr' in jwt || 'amr' in jwt || 'auth_time' in jwt, false)
    // Shapes other than the standard ones are left out.
    const odd = { ...principal, claims: { acr: 2, amr: 'mfa', auth_time: 'yesterday' } }
    const none = internalClaims(request({ principal: odd }), 1000)
    assert.equal('acr' in none || 'amr' in none || 'auth_time' in none, false)
  })
})
