/**
 * One error body for every refusal (issue 15, docs/errors.md): through the real process, one refusal of
 * each plugin that refuses has Kong's members first, exactly, then `message` (when Kong has none),
 * `code`, `error`, `statusCode` and `request_id`; `X-Gatehouse-Error` is the access log's `error_code`,
 * and `request_id` (also in `X-Request-ID`) is the access log's. The refusal's own headers
 * (WWW-Authenticate, Retry-After, RateLimit-*) are still there, and an upstream's own 4xx is told apart.
 */
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { signingKey, TestIssuer } from '../../src/plugins/openid-connect/test-fixtures.ts'
import { assertErrorBody, type ErrorAnswer, type ExpectedError } from '../harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { type RawResponse, rawRequest } from '../harness/http.ts'
import { closedPort, echoHandler, startUpstream, type Upstream } from '../harness/upstream.ts'
import { ALICE } from '../identity/support/gateway.ts'
import { SessionGateway, type Signed } from '../session/gateway.ts'
import { Jar } from '../session/support.ts'

const JWT_SECRET = 'error-bodies-jwt-secret-0123456789abcdef'
const KEY = 'error-bodies-key-0123456789abcdef'

/** An HS256 token for the `issuer` credential, signed with `secret`. */
function hs256(claims: object, secret = JWT_SECRET): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url')
  const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iss: 'issuer', ...claims })}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/**
 * The answer follows the rule, and the access log agrees: the line with the body's request_id has the
 * status and, as error_code, the code the header names.
 */
async function assertLogged(
  gh: GatehouseProcess,
  answer: ErrorAnswer,
  expected: ExpectedError,
): Promise<Record<string, unknown>> {
  const body = assertErrorBody(answer, expected)
  const line = await gh.waitForLog((l) => l.type === 'access' && l.request_id === body.request_id)
  assert.equal(line.status, answer.status)
  assert.equal(line.error_code, expected.code)
  return body
}

describe('error bodies of the refusing plugins', () => {
  let upstream: Upstream
  let part: Upstream
  let issuer: TestIssuer
  let gh: GatehouseProcess

  before(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/refuses') {
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"not you"}')
        return
      }
      echoHandler(req, res)
    })
    part = await startUpstream((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"not for you"}')
    })
    issuer = await TestIssuer.start([await signingKey('ec-1')])
    const users = `http://127.0.0.1:${await closedPort()}`
    const route = (name: string, plugins: object[]) => ({ name, paths: [`/${name}`], plugins })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              route('key-auth', [{ name: 'key-auth' }]),
              route('basic-auth', [{ name: 'basic-auth', config: { realm: 'shop' } }]),
              route('jwt', [{ name: 'jwt' }]),
              route('jwt-exp', [{ name: 'jwt', config: { claims_to_verify: ['exp'] } }]),
              route('openid-connect', [
                { name: 'openid-connect', config: { issuer: issuer.url, audience: 'https://api.test' } },
              ]),
              route('acl', [{ name: 'key-auth' }, { name: 'acl', config: { allow: ['admins'] } }]),
              route('rate-limiting', [{ name: 'rate-limiting', config: { minute: 1 } }]),
              route('internal-token', [
                { name: 'key-auth' },
                {
                  name: 'internal-token',
                  config: {
                    audience: 'orders',
                    enrich: { url: `${users}/users/{sub}`, claims: ['country'] },
                  },
                },
              ]),
              route('plain', []),
            ],
          },
          { name: 'parts', url: part.url },
        ],
        routes: [
          {
            name: 'composed',
            paths: ['/composed'],
            composition: {
              parts: [{ name: 'product', service: 'parts', path: '/p', required: true, public: true }],
            },
          },
        ],
        consumers: [
          {
            username: 'bob',
            keyauth_credentials: [{ key: KEY }],
            jwt_secrets: [{ key: 'issuer', secret: JWT_SECRET }],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await issuer?.stop()
    await Promise.all([upstream?.close(), part?.close()])
  })

  const send = (path: string, headers: Record<string, string> = {}): Promise<RawResponse> =>
    rawRequest(gh.proxyUrl + path, { headers })

  it("key-auth: Kong's 401 message and challenge, then the gateway's members", async () => {
    const res = await send('/key-auth')
    assert.equal(res.status, 401)
    assert.equal(res.headers['www-authenticate'], 'Key')
    await assertLogged(gh, res, {
      kong: { message: 'No API key found in request' },
      code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
    })
  })

  it('basic-auth: 401 Unauthorized with its realm', async () => {
    const res = await send('/basic-auth', { authorization: `Basic ${btoa('bob:wrong')}` })
    assert.equal(res.status, 401)
    assert.equal(res.headers['www-authenticate'], 'Basic realm="shop"')
    await assertLogged(gh, res, {
      kong: { message: 'Unauthorized' },
      code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
    })
  })

  it("jwt: Kong's message for a bad signature, and Kong's claim members (then ours) for an expired token", async () => {
    const forged = await send('/jwt', {
      authorization: `Bearer ${hs256({}, 'another-secret-0123456789abcdefghij')}`,
    })
    assert.equal(forged.status, 401)
    assert.equal(forged.headers['www-authenticate'], 'Bearer error="invalid_token"')
    await assertLogged(gh, forged, {
      kong: { message: 'Invalid signature' },
      code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
    })
    const expired = await send('/jwt-exp', { authorization: `Bearer ${hs256({ exp: 1_000_000_000 })}` })
    assert.equal(expired.status, 401)
    await assertLogged(gh, expired, {
      kong: { exp: 'token expired' },
      code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
      message: 'exp: token expired',
    })
  })

  it("openid-connect: RFC 6750's members first, its `error` kept, then the gateway's", async () => {
    const res = await send('/openid-connect')
    assert.equal(res.status, 401)
    assert.match(res.headers['www-authenticate'] ?? '', /^Bearer realm="gatehouse", DPoP algs=/)
    await assertLogged(gh, res, {
      kong: { error: 'unauthorized', error_description: 'A bearer access token is required' },
      code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
      message: 'A bearer access token is required',
    })
  })

  it('acl: 403 "You cannot consume this service"', async () => {
    const res = await send('/acl', { apikey: KEY })
    assert.equal(res.status, 403)
    await assertLogged(gh, res, {
      kong: { message: 'You cannot consume this service' },
      code: 'GH_ERR_AUTH_ACCESS_DENIED',
    })
  })

  it('rate-limiting: 429 with Retry-After and the rate-limit headers, unchanged', async () => {
    // One request a minute: the second is refused, or the third when the first two straddle a minute.
    let res = await send('/rate-limiting')
    for (let i = 0; i < 2 && res.status !== 429; i++) res = await send('/rate-limiting')
    assert.equal(res.status, 429)
    assert.equal(res.headers['ratelimit-remaining'], '0')
    assert.equal(res.headers['x-ratelimit-limit-minute'], '1')
    assert.equal(res.headers['retry-after'], res.headers['ratelimit-reset'])
    await assertLogged(gh, res, { kong: { message: 'API rate limit exceeded' }, code: 'GH_ERR_RATE_LIMITED' })
  })

  it("internal-token: 503 with Retry-After when the caller's profile cannot be had (fail closed)", async () => {
    const res = await send('/internal-token', { apikey: KEY })
    assert.equal(res.status, 503)
    assert.equal(res.headers['retry-after'], '1')
    await assertLogged(gh, res, {
      kong: { message: 'The caller’s profile is unavailable; try again shortly' },
      code: 'GH_ERR_IDENTITY_ENRICHMENT_UNAVAILABLE',
    })
  })

  it("composition: a required part's 403 is the answer's status, as the gateway's error", async () => {
    const res = await send('/composed')
    assert.equal(res.status, 403)
    await assertLogged(gh, res, {
      code: 'GH_ERR_COMPOSITION_PART_REFUSED',
      message: "The composition's part was refused by its service: product (403)",
    })
  })

  it('the core: no route is the envelope alone, with the same headers', async () => {
    const res = await send('/nowhere', { 'x-request-id': 'error-bodies-404' })
    assert.equal(res.status, 404)
    const body = await assertLogged(gh, res, {
      code: 'GH_ERR_ROUTE_NOT_FOUND',
      message: 'no Route matched with those values',
    })
    assert.equal(body.request_id, 'error-bodies-404', "the client's well-formed id")
  })

  it("the gateway's own endpoints: a method the internal tokens' JWKS does not take is a coded 405", async () => {
    const res = await rawRequest(`${gh.proxyUrl}/.well-known/gatehouse/jwks.json`, { method: 'POST' })
    assert.equal(res.status, 405)
    assert.equal(res.headers.allow, 'GET, HEAD')
    await assertLogged(gh, res, { code: 'GH_ERR_ENDPOINT_METHOD_NOT_ALLOWED', message: 'Method not allowed' })
  })

  it("an upstream's own 4xx has no X-Gatehouse-Error, and its body is the upstream's", async () => {
    const res = await send('/plain/refuses')
    assert.equal(res.status, 403)
    assert.equal(res.headers['x-gatehouse-error'], undefined)
    assert.equal(res.body, '{"message":"not you"}')
  })
})

describe('error bodies of the session plugin', () => {
  let gw: SessionGateway
  let alice: Signed
  before(async () => {
    gw = await SessionGateway.start()
    alice = await gw.signedIn('', ALICE)
  })
  after(() => gw?.stop())

  const answer = async (res: Response): Promise<ErrorAnswer> => ({
    status: res.status,
    headers: res.headers,
    body: await res.text(),
  })

  it("401 without a session: message and login first, then the gateway's members", async () => {
    const res = await gw.call(new Jar(), '/api/orders')
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Session')
    await assertLogged(gw.gh, await answer(res), {
      kong: { message: 'Unauthorized', login: '/login' },
      code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
    })
  })

  it('403 for a state-changing call from another site (CSRF)', async () => {
    const res = await gw.call(alice.jar, '/api/orders', {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
    })
    assert.equal(res.status, 403)
    await assertLogged(gw.gh, await answer(res), {
      kong: { message: 'Cross-site request refused: send the CSRF token or make the request from this site' },
      code: 'GH_ERR_AUTH_ACCESS_DENIED',
    })
  })

  it("405 for a method the plugin's own paths do not take", async () => {
    const res = await gw.call(new Jar(), '/login', { method: 'PUT' })
    assert.equal(res.status, 405)
    assert.equal(res.headers.get('allow'), 'GET, HEAD')
    await assertLogged(gw.gh, await answer(res), {
      code: 'GH_ERR_ENDPOINT_METHOD_NOT_ALLOWED',
      message: 'Method not allowed',
    })
  })

  it('a sign-in page (HTML) carries X-Gatehouse-Error and X-Request-ID too, its body unchanged', async () => {
    const res = await fetch(`${gw.origin}/callback?state=x&code=y`, { headers: { 'x-request-id': 'page-1' } })
    assert.equal(res.status, 400)
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/)
    assert.equal(res.headers.get('x-gatehouse-error'), 'GH_ERR_REQUEST_INVALID')
    assert.equal(res.headers.get('x-request-id'), 'page-1')
    assert.match(await res.text(), /Sign-in expired/)
    const line = await gw.gh.waitForLog((l) => l.type === 'access' && l.request_id === 'page-1')
    assert.equal(line.error_code, 'GH_ERR_REQUEST_INVALID')
  })
})
