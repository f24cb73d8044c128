/**
 * `gatehouse-sdk/express` in a real Express 5 app on a real port: authenticate, requireScope (403 with
 * an `insufficient_scope` challenge naming the scopes), requireRole, optional mode, `req.identity`.
 */
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import express from 'express'
import { authenticate, requireRole, requireScope } from './express.ts'
import {
  close,
  ISSUER,
  internalClaims,
  SERVICE,
  type SigningKey,
  signInternal,
  signingKey,
} from './test-fixtures.ts'
import { createVerifier } from './verifier.ts'

describe('gatehouse-sdk/express', () => {
  let key: SigningKey
  let server: Server
  let url: string
  let token: string

  before(async () => {
    key = await signingKey('es-1')
    token = await signInternal(key, internalClaims())
    const verifier = createVerifier({ issuer: ISSUER, audience: SERVICE, jwks: { keys: [key.publicJwk] } })
    const app = express()
    app.get('/public', authenticate(verifier, { optional: true }), (req, res) => {
      res.json({ subject: req.identity?.subject ?? null })
    })
    app.use('/api', authenticate(verifier))
    app.get('/api/orders', requireScope('orders:read'), (req, res) => {
      res.json({ subject: req.identity?.subject, scopes: req.identity?.scopes })
    })
    app.delete('/api/orders', requireScope('orders:read', 'orders:delete'), (_req, res) => {
      res.json({ deleted: true })
    })
    app.get('/api/beta', requireRole('beta'), (_req, res) => {
      res.json({ beta: true })
    })
    app.get('/api/admin', requireRole('admin'), (_req, res) => {
      res.json({ admin: true })
    })
    server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  after(() => close(server))

  const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } })

  it('sets req.identity for a good token and lets requireScope pass when every scope is held', async () => {
    const res = await fetch(`${url}/api/orders`, bearer(token))
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { subject: 'user-123', scopes: ['orders:read', 'orders:write'] })
  })

  it('answers 401 with the RFC 6750 challenge before any route runs', async () => {
    const missing = await fetch(`${url}/api/orders`)
    assert.equal(missing.status, 401)
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="orders"')
    assert.equal(((await missing.json()) as { code: string }).code, 'GH_SDK_TOKEN_MISSING')
    const typo = await fetch(`${url}/api/orders`, bearer(`${token}x`))
    assert.equal(typo.status, 401)
    assert.match(
      typo.headers.get('www-authenticate')!,
      /^Bearer realm="orders", error="invalid_token", error_description="/,
    )
    assert.equal(((await typo.json()) as { code: string }).code, 'GH_SDK_SIGNATURE_INVALID')
  })

  it('answers 403 insufficient_scope naming the required scopes when one is missing', async () => {
    const res = await fetch(`${url}/api/orders`, { ...bearer(token), method: 'DELETE' })
    assert.equal(res.status, 403)
    assert.equal(
      res.headers.get('www-authenticate'),
      'Bearer error="insufficient_scope", error_description="The token lacks a scope this operation requires", scope="orders:read orders:delete"',
    )
    assert.deepEqual(await res.json(), {
      error: 'insufficient_scope',
      error_description: 'The token lacks a scope this operation requires',
      code: 'GH_SDK_SCOPE_INSUFFICIENT',
    })
  })

  it('lets requireRole pass a caller with the role and answers 403 GH_SDK_ROLE_MISSING otherwise', async () => {
    assert.equal((await fetch(`${url}/api/beta`, bearer(token))).status, 200)
    const res = await fetch(`${url}/api/admin`, bearer(token))
    assert.equal(res.status, 403)
    assert.equal(res.headers.get('www-authenticate'), null)
    assert.equal(((await res.json()) as { code: string }).code, 'GH_SDK_ROLE_MISSING')
  })

  it('serves anonymous requests in optional mode with req.identity null', async () => {
    const anonymous = await fetch(`${url}/public`)
    assert.deepEqual([anonymous.status, await anonymous.json()], [200, { subject: null }])
    const known = await fetch(`${url}/public`, bearer(token))
    assert.deepEqual(await known.json(), { subject: 'user-123' })
    assert.equal((await fetch(`${url}/public`, bearer('x.y.z'))).status, 401)
  })

  it('refuses requireScope without scopes or with characters a scope cannot hold', () => {
    assert.throws(() => requireScope(), /requireScope needs at least one scope/)
    assert.throws(() => requireScope('orders read"'), /RFC 6749 scope characters/)
    assert.throws(() => requireRole(''), /role names must be non-empty strings/)
  })
})
