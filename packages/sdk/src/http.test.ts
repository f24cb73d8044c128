/**
 * `gatehouse-sdk/http` on a real node:http server: the 401/503 answers (RFC 6750 challenges, JSON body,
 * no token echoed), `req.identity`, the custom header, optional mode, and the guard used directly.
 */
import assert from 'node:assert/strict'
import { createServer, type Server, type ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
import type { VerificationError } from './errors.ts'
import { type AuthenticatedRequest, authenticate } from './http.ts'
import {
  close,
  ISSUER,
  internalClaims,
  listen,
  nowSeconds,
  SERVICE,
  type SigningKey,
  signInternal,
  signingKey,
  unusedPort,
} from './test-fixtures.ts'
import { createVerifier, type Verifier } from './verifier.ts'

describe('gatehouse-sdk/http', () => {
  let key: SigningKey
  let verifier: Verifier
  const servers: Server[] = []
  const refusals: string[] = []

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler)
    servers.push(server)
    return listen(server)
  }
  const whoami = (req: AuthenticatedRequest, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ subject: req.identity?.subject ?? null }))
  }

  before(async () => {
    key = await signingKey('es-1')
    verifier = createVerifier({ issuer: ISSUER, audience: SERVICE, jwks: { keys: [key.publicJwk] } })
  })
  after(() => Promise.all(servers.map(close)))

  it('lets a request with a good bearer token through with req.identity set', async () => {
    const url = await serve(authenticate(verifier).protect(whoami))
    const token = await signInternal(key, internalClaims())
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const res = await fetch(url, { headers: { authorization: `${scheme} ${token}` } })
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { subject: 'user-123' })
    }
  })

  it('answers a request without a token 401 with a bare Bearer challenge', async () => {
    const url = await serve(authenticate(verifier).protect(whoami))
    for (const headers of [{}, { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: 'Bearer' }]) {
      const res = await fetch(url, { headers })
      assert.equal(res.status, 401)
      assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="orders"')
      assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8')
      assert.equal(res.headers.get('cache-control'), 'no-store')
      assert.deepEqual(await res.json(), {
        error: 'unauthorized',
        error_description: 'A bearer token is required',
        code: 'GH_SDK_TOKEN_MISSING',
      })
    }
  })

  it('answers a bad token 401 invalid_token with its description and code, never echoing the token', async () => {
    const guard = authenticate(verifier, {
      realm: 'orders "api"',
      onRefuse: (err: VerificationError) => refusals.push(err.code),
    })
    const url = await serve(guard.protect(whoami))
    const token = await signInternal(key, internalClaims({ exp: nowSeconds() - 60 }))
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.status, 401)
    assert.equal(
      res.headers.get('www-authenticate'),
      'Bearer realm="orders \\"api\\"", error="invalid_token", error_description="The token expired"',
    )
    const text = await res.text()
    assert.deepEqual(JSON.parse(text), {
      error: 'invalid_token',
      error_description: 'The token expired',
      code: 'GH_SDK_EXPIRED',
    })
    for (const segment of token.split('.')) assert.ok(!text.includes(segment))
    assert.deepEqual(refusals, ['GH_SDK_EXPIRED'])
  })

  it('answers 503 with Retry-After and no challenge when the gateway keys are unavailable', async () => {
    const down = createVerifier({
      issuer: ISSUER,
      audience: SERVICE,
      jwksUrl: `http://127.0.0.1:${await unusedPort()}/jwks`,
    })
    const url = await serve(authenticate(down).protect(whoami))
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${await signInternal(key, internalClaims())}` },
    })
    assert.equal(res.status, 503)
    assert.ok(Number(res.headers.get('retry-after')) >= 1)
    assert.equal(res.headers.get('www-authenticate'), null)
    assert.equal(((await res.json()) as { code: string }).code, 'GH_SDK_KEYS_UNAVAILABLE')
  })

  it('reads the raw token from another header when told to, and ignores Authorization then', async () => {
    const url = await serve(authenticate(verifier, { header: 'X-Internal-Token' }).protect(whoami))
    const token = await signInternal(key, internalClaims())
    const ok = await fetch(url, { headers: { 'x-internal-token': token } })
    assert.deepEqual(await ok.json(), { subject: 'user-123' })
    const other = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(other.status, 401)
  })

  it('lets requests without a token through in optional mode, but still refuses a bad one', async () => {
    const url = await serve(authenticate(verifier, { optional: true }).protect(whoami))
    const anonymous = await fetch(url)
    assert.deepEqual([anonymous.status, await anonymous.json()], [200, { subject: null }])
    const bad = await fetch(url, { headers: { authorization: 'Bearer not.a.token' } })
    assert.equal(bad.status, 401)
    assert.equal(((await bad.json()) as { code: string }).code, 'GH_SDK_TOKEN_MALFORMED')
  })

  it('can be awaited directly: resolves the identity, or null once it has answered', async () => {
    const guard = authenticate(verifier)
    const seen: (string | null)[] = []
    const url = await serve(async (req, res) => {
      const identity = await guard(req, res)
      seen.push(identity?.subject ?? null)
      if (identity === null) return
      assert.equal((req as AuthenticatedRequest).identity, identity)
      res.end('ok')
    })
    const good = await fetch(url, {
      headers: { authorization: `Bearer ${await signInternal(key, internalClaims())}` },
    })
    assert.equal(await good.text(), 'ok')
    assert.equal((await fetch(url)).status, 401)
    assert.deepEqual(seen, ['user-123', null])
  })

  it('calls next() connect-style only for requests that may proceed', async () => {
    const guard = authenticate(verifier)
    let nextCalls = 0
    const url = await serve((req, res) => {
      void guard(req, res, () => {
        nextCalls++
        res.end('next')
      })
    })
    await fetch(url)
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${await signInternal(key, internalClaims())}` },
    })
    assert.equal(await res.text(), 'next')
    assert.equal(nextCalls, 1)
  })

  it('refuses a bad header option and a missing verifier at creation', () => {
    assert.throws(
      () => authenticate(verifier, { header: 'bad header' }),
      /"header" must be an HTTP header name/,
    )
    assert.throws(() => authenticate(undefined as unknown as Verifier), /needs a verifier/)
    assert.throws(() => authenticate(verifier, { realm: 'a\r\nb' }), /"realm" must be printable ASCII/)
  })
})
