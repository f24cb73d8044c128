/**
 * The internal-token plugin against a real gateway, upstream and user-info service: what the upstream
 * receives in each mode (verified here with jose against the gateway's own JWKS, pinning typ, iss and
 * aud as a service would), that the caller's credential never reaches it, enrichment with its cache and
 * failure policies, reuse of minted tokens and their invalidation by a key rotation.
 */
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { after, before, describe, it } from 'node:test'
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose'
import {
  type GatehouseProcess,
  runCli,
  startGatehouse,
  writeTempConfig,
} from '../../../test/harness/gatehouse.ts'
import { rawRequest } from '../../../test/harness/http.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

const ISSUER = 'https://gatehouse.test'
const API_KEY = 'partner-key-0123456789abcdef'
const JWT_SECRET = 'login-server-secret-0123456789abcdef'
const INTERNAL_TYPE = 'gatehouse-internal+jwt'

describe('internal-token', () => {
  let upstream: Upstream
  let users: Upstream
  let usersDown = false
  let gh: GatehouseProcess

  before(async () => {
    upstream = await startUpstream()
    users = await startUpstream((req: IncomingMessage, res: ServerResponse) => {
      const sub = decodeURIComponent((req.url ?? '').replace('/users/', ''))
      if (usersDown) {
        res.writeHead(500).end()
        return
      }
      if (sub === 'nobody') {
        res.writeHead(404).end()
        return
      }
      const body = JSON.stringify({
        country: 'GB',
        customer_type: 'premium',
        password_hash: 'never copied',
        sub: 'spoofed',
      })
      res.writeHead(200, { 'content-type': 'application/json' }).end(body)
    })
    const enrich = (more: object = {}) => ({
      url: `${users.url}/users/{sub}`,
      claims: ['country', 'customer_type'],
      ...more,
    })
    const route = (name: string, plugins: object[]) => ({ name, paths: [`/${name}`], plugins })
    const keyAuth = { name: 'key-auth' }
    const jwt = { name: 'jwt', config: { cookie_names: ['session_jwt'] } }
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        internal_tokens: { issuer: ISSUER },
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              route('orders', [
                keyAuth,
                {
                  name: 'internal-token',
                  config: { audience: 'orders', also_audiences: ['payments'], enrich: enrich() },
                },
              ]),
              route('profile', [
                jwt,
                {
                  name: 'internal-token',
                  config: { audience: 'profile', claims_from_token: ['country'] },
                },
              ]),
              route('forward', [jwt, { name: 'internal-token', config: { mode: 'forward' } }]),
              route('headers', [keyAuth, { name: 'internal-token', config: { mode: 'headers' } }]),
              route('custom-header', [
                { name: 'key-auth', config: { anonymous: 'guest' } },
                { name: 'internal-token', config: { audience: 'reports', header: 'X-Internal-Token' } },
              ]),
              route('strict', [
                keyAuth,
                { name: 'internal-token', config: { audience: 'strict', enrich: enrich() } },
              ]),
              route('lenient', [
                keyAuth,
                {
                  name: 'internal-token',
                  config: { audience: 'lenient', enrich: enrich({ on_failure: 'continue' }) },
                },
              ]),
              route('per-request', [
                keyAuth,
                { name: 'internal-token', config: { audience: 'audit', request_id_claim: true } },
              ]),
            ],
          },
        ],
        consumers: [
          { username: 'partner', keyauth_credentials: [{ key: API_KEY }] },
          { username: 'nobody', keyauth_credentials: [{ key: 'nobody-key-0123456789abcdef' }] },
          { username: 'guest' },
          { username: 'login-server', jwt_secrets: [{ key: 'login-server', secret: JWT_SECRET }] },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
    await users?.close()
  })

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await rawRequest(gh.proxyUrl + path, { headers })
    return {
      status: res.status,
      body: res.status === 200 ? (JSON.parse(res.body) as EchoBody) : null,
      raw: res,
    }
  }
  const jwks = async () =>
    createLocalJWKSet(
      (await (await fetch(`${gh.proxyUrl}/.well-known/gatehouse/jwks.json`)).json()) as JSONWebKeySet,
    )
  /** Verifies as a service would: our typ, our issuer, its own audience. */
  const verify = async (token: string, audience: string): Promise<JWTPayload> =>
    (
      await jwtVerify(token, await jwks(), {
        issuer: ISSUER,
        audience,
        typ: INTERNAL_TYPE,
        algorithms: ['ES256'],
      })
    ).payload
  const bearer = (body: EchoBody | null): string => {
    const value = body?.headers.authorization
    assert.equal(typeof value, 'string', 'the upstream got an Authorization header')
    assert.match(value as string, /^Bearer /)
    return (value as string).slice('Bearer '.length)
  }
  const loginToken = (claims: JWTPayload) =>
    new SignJWT({ iss: 'login-server', ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET))

  it('replaces an API key with an internal token for the route’s audiences, with the enriched profile', async () => {
    const res = await get(`/orders?apikey=${API_KEY}&page=2`, { 'x-request-id': 'it-orders' })
    assert.equal(res.status, 200)
    assert.equal(res.body!.url, '/?page=2', 'the key is not forwarded in the query')
    assert.equal(res.body!.headers.apikey, undefined)
    const token = bearer(res.body)
    assert.deepEqual(decodeProtectedHeader(token).typ, INTERNAL_TYPE)
    const claims = await verify(token, 'payments')
    assert.equal(claims.sub, 'partner')
    assert.equal(claims.sub_type, 'client')
    assert.equal(claims.client_id, 'partner')
    assert.deepEqual(claims.aud, ['orders', 'payments'])
    assert.equal(claims.exp! - claims.iat!, 60)
    assert.equal(claims.nbf, claims.iat)
    assert.equal(typeof claims.jti, 'string')
    assert.deepEqual(claims.auth, { method: 'key-auth' })
    assert.equal((claims.consumer as { username: string }).username, 'partner')
    assert.equal(claims.country, 'GB')
    assert.equal(claims.customer_type, 'premium')
    assert.equal(claims.password_hash, undefined, 'only the configured members are copied')
    assert.equal(claims.txn, undefined)
    assert.equal(res.body!.headers['x-request-id'], 'it-orders', 'the request id travels in its header')
  })

  it('reuses the minted token and the user-info answer for the same caller', async () => {
    const before = users.requests.length
    const first = bearer((await get('/orders', { apikey: API_KEY })).body)
    const second = bearer((await get('/orders', { apikey: API_KEY })).body)
    assert.equal(second, first)
    assert.equal(users.requests.length, before, 'the profile was cached by the first test')
    const other = bearer((await get('/strict', { apikey: API_KEY })).body)
    assert.notEqual(other, first, 'each route has its own audience')
  })

  it('mints a fresh token once the signing key is rotated, and publishes both keys', async () => {
    const before = bearer((await get('/orders', { apikey: API_KEY })).body)
    const rotated = await gh.admin('/internal-tokens/keys/rotate', { method: 'POST' })
    assert.equal(rotated.status, 201)
    const after = bearer((await get('/orders', { apikey: API_KEY })).body)
    assert.notEqual(after, before)
    assert.notEqual(decodeProtectedHeader(after).kid, decodeProtectedHeader(before).kid)
    await verify(before, 'orders')
    await verify(after, 'orders')
    const keys = (await (await gh.admin('/internal-tokens/keys')).json()) as { data: { state: string }[] }
    assert.deepEqual(keys.data.map((k) => k.state).sort(), ['active', 'retired'])
    const adminJwks = await (await gh.admin('/internal-tokens/jwks.json')).text()
    assert.equal(adminJwks, await (await fetch(`${gh.proxyUrl}/.well-known/gatehouse/jwks.json`)).text())
  })

  it('takes the subject of a Kong-style jwt, copies listed claims, and drops the token from its cookie', async () => {
    const token = await loginToken({ sub: 'alice', country: 'US', roles: ['admin'] })
    const res = await get('/profile', { cookie: `theme=dark; session_jwt=${token}; lang=en` })
    assert.equal(res.status, 200)
    assert.equal(res.body!.headers.cookie, 'theme=dark; lang=en')
    const claims = await verify(bearer(res.body), 'profile')
    assert.equal(claims.sub, 'alice')
    assert.equal(claims.sub_type, 'user')
    assert.equal(claims.country, 'US')
    assert.equal(claims.roles, undefined, 'claims not listed are not copied')
    assert.deepEqual(claims.auth, { method: 'jwt', iss: 'login-server' })
    assert.ok(!JSON.stringify(res.body!.headers).includes(token), 'the public token is nowhere upstream')
  })

  it('forwards the verified token as it came in mode forward', async () => {
    const token = await loginToken({ sub: 'alice' })
    const res = await get(`/forward?jwt=${token}&q=1`)
    assert.equal(res.status, 200)
    assert.equal(res.body!.url, '/?q=1')
    assert.equal(res.body!.headers.authorization, `Bearer ${token}`)
  })

  it('sends only consumer headers in mode headers, leaving the credential as the auth plugin does', async () => {
    const res = await get('/headers', { apikey: API_KEY, authorization: 'Bearer not-ours' })
    assert.equal(res.status, 200)
    assert.equal(res.body!.headers['x-consumer-username'], 'partner')
    assert.equal(res.body!.headers.apikey, API_KEY)
    assert.equal(res.body!.headers.authorization, 'Bearer not-ours')
  })

  it('never passes on a token header the client sent, and mints nothing for anonymous callers', async () => {
    const anonymous = await get('/custom-header', {
      'x-internal-token': 'forged',
      authorization: 'Bearer forged',
    })
    assert.equal(anonymous.status, 200)
    assert.equal(anonymous.body!.headers['x-internal-token'], undefined)
    assert.equal(anonymous.body!.headers.authorization, undefined)
    assert.equal(anonymous.body!.headers['x-anonymous-consumer'], 'true')

    const partner = await get('/custom-header', { apikey: API_KEY, 'x-internal-token': 'forged' })
    const token = partner.body!.headers['x-internal-token'] as string
    assert.notEqual(token, 'forged')
    assert.equal((await verify(token, 'reports')).sub, 'partner')
  })

  it('mints without profile claims for a subject the user-info service does not know (404)', async () => {
    const claims = await verify(
      bearer((await get('/orders', { apikey: 'nobody-key-0123456789abcdef' })).body),
      'orders',
    )
    assert.equal(claims.sub, 'nobody')
    assert.equal(claims.country, undefined)
  })

  it('answers 503 when the user-info service fails and the route fails closed, or continues without it', async () => {
    usersDown = true
    try {
      // A new route instance would have an empty cache; these two have not asked for this caller yet.
      const strict = await rawRequest(`${gh.proxyUrl}/strict`, {
        headers: { apikey: 'nobody-key-0123456789abcdef', 'x-request-id': 'it-strict' },
      })
      assert.equal(strict.status, 503)
      assert.equal(strict.headers['retry-after'], '1')
      const line = await gh.waitForLog((l) => l.request_id === 'it-strict' && l.msg === 'request')
      assert.equal(line.error_code, 'GH_ERR_IDENTITY_ENRICHMENT_UNAVAILABLE')
      const warning = await gh.waitForLog((l) => l.msg === 'user-info lookup failed')
      assert.equal(warning.reason, 'answered HTTP 500 (expected 200 or 404)')

      const lenient = await get('/lenient', { apikey: 'nobody-key-0123456789abcdef' })
      assert.equal(lenient.status, 200)
      assert.equal((await verify(bearer(lenient.body), 'lenient')).sub, 'nobody')
    } finally {
      usersDown = false
    }
  })

  it('puts the request id in txn and mints per request with request_id_claim', async () => {
    const a = bearer((await get('/per-request', { apikey: API_KEY, 'x-request-id': 'req-a' })).body)
    const b = bearer((await get('/per-request', { apikey: API_KEY, 'x-request-id': 'req-b' })).body)
    assert.equal((await verify(a, 'audit')).txn, 'req-a')
    assert.equal((await verify(b, 'audit')).txn, 'req-b')
  })

  it('serves the JWKS read-only on the proxy listener', async () => {
    const res = await fetch(`${gh.proxyUrl}/.well-known/gatehouse/jwks.json`, { method: 'POST' })
    assert.equal(res.status, 405)
    const get = await fetch(`${gh.proxyUrl}/.well-known/gatehouse/jwks.json`)
    assert.equal(get.headers.get('content-type'), 'application/jwk-set+json')
  })
})

describe('internal-token configuration', () => {
  const check = (plugin: object) => {
    const { file } = writeTempConfig({
      _format_version: '3.0',
      services: [
        { name: 's', url: 'http://127.0.0.1:1', routes: [{ name: 'r', paths: ['/'], plugins: [plugin] }] },
      ],
    })
    return runCli(['config', 'check', file])
  }

  it('names what is wrong: a missing audience, a reserved claim, a URL without {sub}', async () => {
    const noAudience = await check({ name: 'internal-token', config: {} })
    assert.equal(noAudience.code, 1)
    assert.match(noAudience.stderr, /plugins\[0\]\.config\.audience: is required with mode mint/)
    const reserved = await check({
      name: 'internal-token',
      config: {
        audience: 'a',
        enrich: { url: 'http://users/{sub}', claims: ['sub'] },
        claims_from_token: ['aud'],
      },
    })
    assert.match(reserved.stderr, /enrich\.claims\[0\]: is set by the gateway/)
    assert.match(reserved.stderr, /claims_from_token\[0\]: is set by the gateway/)
    const noSub = await check({
      name: 'internal-token',
      config: { audience: 'a', enrich: { url: 'http://users/me', claims: ['country'] } },
    })
    assert.match(noSub.stderr, /enrich\.url: must contain \{sub\}/)
  })
})
