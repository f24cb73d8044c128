/**
 * `gatehouse-sdk/fastify` in a real Fastify 5 app on a real port: the plugin's hook covers the scope it
 * is registered in, decorates `request.identity`, answers 401/403 like the other adapters, and the
 * `authenticate` hook works alone on a chosen route (optional mode).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import Fastify, { type FastifyInstance } from 'fastify'
import { authenticate, gatehouse, requireRole, requireScope } from './fastify.ts'
import {
  ISSUER,
  internalClaims,
  SERVICE,
  type SigningKey,
  signInternal,
  signingKey,
} from './test-fixtures.ts'
import { createVerifier } from './verifier.ts'

describe('gatehouse-sdk/fastify', () => {
  let key: SigningKey
  let app: FastifyInstance
  let url: string
  let token: string
  let handlerRuns = 0

  before(async () => {
    key = await signingKey('es-1')
    token = await signInternal(key, internalClaims())
    const verifier = createVerifier({ issuer: ISSUER, audience: SERVICE, jwks: { keys: [key.publicJwk] } })
    app = Fastify()
    app.get('/health', async () => ({ ok: true }))
    app.get('/maybe', { onRequest: authenticate(verifier, { optional: true }) }, async (request) => ({
      subject: request.identity?.subject ?? null,
    }))
    await app.register(async (api) => {
      await api.register(gatehouse, { verifier })
      api.get('/api/orders', { onRequest: requireScope('orders:read') }, async (request) => {
        handlerRuns++
        return { subject: request.identity?.subject, kind: request.identity?.kind }
      })
      api.post('/api/orders', { onRequest: requireScope('orders:delete') }, async () => {
        handlerRuns++
        return { deleted: true }
      })
      api.get('/api/admin', { onRequest: requireRole('admin') }, async () => {
        handlerRuns++
        return { admin: true }
      })
    })
    url = await app.listen({ port: 0, host: '127.0.0.1' })
  })
  after(() => app.close())

  const bearer = (t: string) => ({ headers: { authorization: `Bearer ${t}` } })

  it('decorates request.identity for a good token inside the scope the plugin was registered in', async () => {
    const res = await fetch(`${url}/api/orders`, bearer(token))
    assert.equal(res.status, 200)
    assert.deepEqual(await res.json(), { subject: 'user-123', kind: 'user' })
  })

  it('answers 401 before the handler runs, with the challenge and JSON body', async () => {
    const runs = handlerRuns
    const missing = await fetch(`${url}/api/orders`)
    assert.equal(missing.status, 401)
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="orders"')
    assert.equal(missing.headers.get('content-type'), 'application/json; charset=utf-8')
    assert.deepEqual(await missing.json(), {
      error: 'unauthorized',
      error_description: 'A bearer token is required',
      code: 'GH_SDK_TOKEN_MISSING',
    })
    const wrongType = await signInternal(key, internalClaims(), { typ: 'at+jwt' })
    const typed = await fetch(`${url}/api/orders`, bearer(wrongType))
    assert.equal(typed.status, 401)
    assert.equal(
      typed.headers.get('www-authenticate'),
      'Bearer realm="orders", error="invalid_token", error_description="The token is not a Gatehouse internal token (typ)"',
    )
    assert.equal(((await typed.json()) as { code: string }).code, 'GH_SDK_TYPE_INVALID')
    assert.equal(handlerRuns, runs)
  })

  it('answers 403 insufficient_scope and GH_SDK_ROLE_MISSING from the route hooks', async () => {
    const scope = await fetch(`${url}/api/orders`, { ...bearer(token), method: 'POST' })
    assert.equal(scope.status, 403)
    assert.match(
      scope.headers.get('www-authenticate')!,
      /error="insufficient_scope".*, scope="orders:delete"$/,
    )
    assert.equal(((await scope.json()) as { code: string }).code, 'GH_SDK_SCOPE_INSUFFICIENT')
    const role = await fetch(`${url}/api/admin`, bearer(token))
    assert.equal(role.status, 403)
    assert.equal(((await role.json()) as { code: string }).code, 'GH_SDK_ROLE_MISSING')
  })

  it('leaves routes outside the plugin scope alone, and serves anonymous requests in optional mode', async () => {
    assert.equal((await fetch(`${url}/health`)).status, 200)
    const anonymous = await fetch(`${url}/maybe`)
    assert.deepEqual([anonymous.status, await anonymous.json()], [200, { subject: null }])
    const known = await fetch(`${url}/maybe`, bearer(token))
    assert.deepEqual(await known.json(), { subject: 'user-123' })
    assert.equal((await fetch(`${url}/maybe`, bearer('x.y.z'))).status, 401)
  })
})
