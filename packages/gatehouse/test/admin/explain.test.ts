/**
 * "Why was this refused?" (POST /explain, issue 12) against a real gateway: each plugin's verdict in the
 * order its access phase runs, with the codes and reasons of the access log, for an expired JWT, a
 * missing key, a key whose consumer acl refuses, a key that passes everything (would forward) and a
 * rate limit at its limit; and that a dry run is one: the upstream and the user-info service receive
 * nothing, rate-limiting counts nothing (the real requests after it get the counts they would have),
 * and neither the answer nor the log holds the token or the key sent.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { SignJWT } from 'jose'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

const ALICE_KEY = 'alice-explain-key-0123456789'
const BOB_KEY = 'bob-explain-key-9876543210'
const JWT_SECRET = 'explain-test-jwt-secret-of-at-least-32-bytes'

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field
type Json = any

describe('POST /explain', () => {
  let upstream: Upstream
  let userInfo: Upstream
  let gh: GatehouseProcess
  let expired: string

  async function explain(body: unknown): Promise<{ status: number; body: Json; text: string }> {
    const res = await gh.admin('/explain', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: JSON.parse(text), text }
  }

  /** name → verdict of each plugin, in the order listed. */
  const verdicts = (answer: Json) => answer.plugins.map((p: Json) => [p.name, p.verdict])

  before(async () => {
    upstream = await startUpstream()
    userInfo = await startUpstream()
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'orders',
            url: upstream.url,
            routes: [
              {
                name: 'jwt-route',
                paths: ['/jwt'],
                plugins: [{ name: 'jwt', config: { claims_to_verify: ['exp'] } }],
              },
              {
                name: 'keys-route',
                paths: ['/keys'],
                plugins: [
                  { name: 'key-auth' },
                  { name: 'acl', config: { allow: ['staff'] } },
                  // A year: the window cannot end during the test and reset the counts it checks.
                  { name: 'rate-limiting', config: { year: 2, limit_by: 'consumer' } },
                ],
              },
              {
                name: 'minted',
                paths: ['/minted'],
                plugins: [
                  { name: 'key-auth' },
                  {
                    name: 'internal-token',
                    config: {
                      audience: 'orders',
                      enrich: { url: `${userInfo.url}/users/{sub}`, claims: ['country'] },
                    },
                  },
                ],
              },
            ],
          },
          {
            name: 'chat',
            url: upstream.url.replace('http:', 'ws:'),
            routes: [
              { name: 'chat-ws', protocols: ['ws'], paths: ['/chat'], plugins: [{ name: 'key-auth' }] },
            ],
          },
          {
            name: 'echo-grpc',
            url: upstream.url.replace('http:', 'grpc:'),
            routes: [
              { name: 'echo', protocols: ['grpc'], paths: ['/test.Echo/'], plugins: [{ name: 'key-auth' }] },
            ],
          },
        ],
        consumers: [
          { username: 'alice', keyauth_credentials: [{ key: ALICE_KEY }], acls: [{ group: 'staff' }] },
          { username: 'bob', keyauth_credentials: [{ key: BOB_KEY }] },
          { username: 'issuer', jwt_secrets: [{ key: 'issuer-a', secret: JWT_SECRET }] },
        ],
      },
    })
    expired = await new SignJWT({ sub: 'someone' })
      .setProtectedHeader({ alg: 'HS256', kid: 'kid-1' })
      .setIssuer('issuer-a')
      .setIssuedAt(1_700_000_000)
      .setExpirationTime(1_700_000_600)
      .sign(new TextEncoder().encode(JWT_SECRET))
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
    await userInfo?.close()
  })

  it('explains an expired JWT: jwt refuses it with the access log’s code and reason', async () => {
    const r = await explain({ route: 'jwt-route', headers: { Authorization: `Bearer ${expired}` } })
    assert.equal(r.status, 200, r.text)
    assert.equal(r.body.route.name, 'jwt-route')
    assert.equal(r.body.routing, 'named; the router picks this route for this request too')
    assert.deepEqual(r.body.plugins, [
      {
        name: 'jwt',
        id: r.body.plugins[0].id,
        priority: 1450,
        scope: 'route',
        verdict: 'refused',
        status: 401,
        code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
        reason: 'jwt_claims',
        message: 'exp: token expired',
      },
    ])
    assert.equal(r.body.outcome.result, 'refused')
    assert.equal(r.body.outcome.status, 401)
    assert.equal(r.body.outcome.body.exp, 'token expired', 'Kong’s body, as the client gets it')
    assert.equal(r.body.outcome.body.code, 'GH_ERR_AUTH_CREDENTIALS_INVALID')
    assert.equal(r.body.outcome.headers['x-gatehouse-error'], 'GH_ERR_AUTH_CREDENTIALS_INVALID')
    assert.equal(r.body.consumer, null)
    // The token is described, never echoed.
    assert.ok(!r.text.includes(expired) && !r.text.includes(expired.split('.')[2]!))
    const sent = r.body.request.sent[0]
    assert.deepEqual(
      [sent.where, sent.name, sent.scheme, sent.looks_like.alg, sent.looks_like.kid, sent.looks_like.iss],
      ['header', 'authorization', 'Bearer', 'HS256', 'kid-1', 'issuer-a'],
    )
    assert.deepEqual(
      [sent.looks_like.expires_at, sent.looks_like.expired],
      ['2023-11-14T22:23:20.000Z', true],
    )
  })

  it('explains a missing key: key-auth refuses, and nothing after it is evaluated', async () => {
    const r = await explain({ method: 'GET', path: '/keys/orders/1' })
    assert.equal(r.body.route.name, 'keys-route')
    assert.equal(r.body.routing, 'matched by the router')
    assert.deepEqual(verdicts(r.body), [
      ['key-auth', 'refused'],
      ['acl', 'not_evaluated'],
      ['rate-limiting', 'not_evaluated'],
    ])
    const keyAuth = r.body.plugins[0]
    assert.deepEqual(
      [keyAuth.status, keyAuth.code, keyAuth.reason, keyAuth.message],
      [401, 'GH_ERR_AUTH_CREDENTIALS_MISSING', 'key_auth_no_key', 'No API key found in request'],
    )
    assert.equal(r.body.outcome.headers['www-authenticate'], 'Key')
    assert.equal(r.body.outcome.body.message, 'No API key found in request')
  })

  it('explains a good key whose consumer acl refuses: key-auth passes, acl refuses', async () => {
    const r = await explain({ route: 'keys-route', headers: { apikey: BOB_KEY } })
    assert.deepEqual(verdicts(r.body), [
      ['key-auth', 'passed'],
      ['acl', 'refused'],
      ['rate-limiting', 'not_evaluated'],
    ])
    assert.deepEqual(
      [r.body.plugins[1].status, r.body.plugins[1].code, r.body.plugins[1].reason],
      [403, 'GH_ERR_AUTH_ACCESS_DENIED', 'acl_group_not_allowed'],
    )
    assert.equal(r.body.consumer.username, 'bob')
    assert.deepEqual([r.body.outcome.result, r.body.outcome.status], ['refused', 403])
    assert.ok(!r.text.includes(BOB_KEY))
    assert.deepEqual(r.body.request.sent, [
      { where: 'header', name: 'apikey', looks_like: { type: 'a value', characters: BOB_KEY.length } },
    ])
  })

  it('explains a key that passes everything: would be forwarded, and the upstream receives nothing', async () => {
    const r = await explain({ method: 'GET', path: '/keys/orders', query: { apikey: ALICE_KEY } })
    assert.deepEqual(verdicts(r.body), [
      ['key-auth', 'passed'],
      ['acl', 'passed'],
      ['rate-limiting', 'passed'],
    ])
    assert.equal(r.body.consumer.username, 'alice')
    assert.equal(r.body.outcome.result, 'forwarded')
    assert.equal(r.body.outcome.service.name, 'orders')
    assert.deepEqual(r.body.outcome.upstream, {
      method: 'GET',
      path: '/orders',
      query_parameters: ['apikey'],
    })
    assert.equal(r.body.outcome.identity_headers['x-consumer-username'], 'alice')
    assert.equal(r.body.outcome.identity_headers['x-consumer-groups'], 'staff')
    assert.ok(!r.text.includes(ALICE_KEY))
    assert.equal(upstream.requests.length, 0, 'nothing was forwarded')
  })

  it('reports rate-limiting’s count without consuming it, and refuses at the limit', async () => {
    const real = async () => {
      const res = await gh.proxy('/keys/orders', { headers: { apikey: ALICE_KEY } })
      await res.arrayBuffer()
      return [res.status, res.headers.get('x-ratelimit-remaining-year')]
    }
    const counted = async () => {
      const r = await explain({ route: 'keys-route', headers: { apikey: ALICE_KEY } })
      const rl = r.body.plugins[2]
      return [rl.verdict, rl.notes.rate_limit.windows[0].counted, rl.notes.rate_limit.windows[0].remaining]
    }
    assert.deepEqual(await real(), [200, '1'])
    assert.deepEqual(await counted(), ['passed', 1, 1])
    assert.deepEqual(await counted(), ['passed', 1, 1], 'the first explanation counted nothing')
    assert.deepEqual(await real(), [200, '0'], 'the real request got the count it would have without them')

    const atLimit = await explain({ route: 'keys-route', headers: { apikey: ALICE_KEY } })
    const rl = atLimit.body.plugins[2]
    assert.deepEqual(
      [rl.verdict, rl.status, rl.code, rl.reason],
      ['refused', 429, 'GH_ERR_RATE_LIMITED', 'rate_limit_exceeded'],
    )
    assert.equal(rl.notes.rate_limit.windows[0].counted, 2)
    assert.deepEqual(
      [atLimit.body.outcome.status, atLimit.body.outcome.headers['retry-after'] !== undefined],
      [429, true],
    )
    assert.deepEqual(await real(), [429, '0'])
    assert.equal(upstream.requests.length, 2, 'only the two admitted real requests reached the upstream')
  })

  it('says what internal-token would mint — claims, audience, key — and signs nothing nor asks user-info', async () => {
    const r = await explain({ route: 'minted', headers: { apikey: ALICE_KEY } })
    assert.deepEqual(verdicts(r.body), [
      ['key-auth', 'passed'],
      ['internal-token', 'passed'],
    ])
    const notes = r.body.plugins[1].notes
    assert.match(notes.enrichment, /not asked in a dry run/)
    const minted = notes.internal_token
    assert.deepEqual(
      [minted.signed, minted.audience, minted.claims.sub, minted.claims.aud, minted.claims.consumer.username],
      [false, ['orders'], 'alice', ['orders'], 'alice'],
    )
    assert.match(minted.kid, /.+/)
    assert.ok(!/eyJ[\w-]+\.eyJ[\w-]+\./.test(r.text), 'no token in the answer')
    assert.equal(userInfo.requests.length, 0, 'the user-info service was not asked')
    assert.equal(r.body.outcome.result, 'forwarded')
    assert.ok(r.body.outcome.header_names.includes('authorization'))
  })

  it('explains a request no route matches, and refuses bad bodies naming the field', async () => {
    const none = await explain({ path: '/nowhere' })
    assert.deepEqual(
      [none.body.route, none.body.outcome.result, none.body.outcome.status, none.body.outcome.code],
      [null, 'refused', 404, 'GH_ERR_ROUTE_NOT_FOUND'],
    )
    const unknown = await explain({ route: 'nope' })
    assert.deepEqual(
      [unknown.status, unknown.body.code, unknown.body.message],
      [404, 'GH_ERR_ADMIN_NOT_FOUND', "no route 'nope'"],
    )
    const empty = await explain({})
    assert.deepEqual([empty.status, empty.body.message], [400, 'name a route, or give the request’s path'])
    const bad = await explain({ path: 'keys', headers: { 'bad header': 'x', Host: 'a' }, client_ip: 'me' })
    assert.equal(bad.status, 400)
    assert.deepEqual(Object.keys(bad.body.fields).toSorted(), [
      'client_ip',
      'headers.Host',
      'headers.bad header',
      'path',
    ])
  })

  it('explains a WebSocket handshake on a ws route: its plugins on the handshake, and what is forwarded', async () => {
    // The route's own protocol by default: a handshake, with the Upgrade headers a client sends.
    const refused = await explain({ route: 'chat-ws' })
    assert.equal(refused.body.request.protocol, 'ws')
    assert.deepEqual(verdicts(refused.body), [['key-auth', 'refused']])
    assert.equal(refused.body.outcome.status, 401)
    const ok = await explain({ path: '/chat', protocol: 'ws', headers: { apikey: ALICE_KEY } })
    assert.equal(ok.body.route.name, 'chat-ws')
    assert.equal(ok.body.outcome.result, 'forwarded')
    assert.match(ok.body.outcome.what, /as a WebSocket handshake to service 'chat'/)
    // A plain request is no match for a ws route (as in the proxy: 404).
    const plain = await explain({ path: '/chat', protocol: 'http', headers: { apikey: ALICE_KEY } })
    assert.equal(plain.body.outcome.code, 'GH_ERR_ROUTE_NOT_FOUND')
    // A handshake on an http route whose service does not allow the upgrade is refused, as the proxy does.
    const onHttp = await explain({ path: '/keys/x', protocol: 'ws', headers: { apikey: ALICE_KEY } })
    assert.equal(onHttp.body.outcome.code, 'GH_ERR_WEBSOCKET_NOT_ALLOWED')
  })

  it('explains a gRPC call: refusals say the grpc-status the client reads', async () => {
    const refused = await explain({ path: '/test.Echo/Say', protocol: 'grpc' })
    assert.equal(refused.body.route.name, 'echo')
    assert.equal(refused.body.request.method, 'POST')
    assert.equal(refused.body.outcome.status, 401)
    assert.equal(refused.body.outcome.grpc_status, 16, 'UNAUTHENTICATED')
    const ok = await explain({ route: 'echo', headers: { apikey: ALICE_KEY } })
    assert.match(ok.body.outcome.what, /as a gRPC call over HTTP\/2 to service 'echo-grpc'/)
    // A gRPC call on an http route is refused, never passed on as HTTP/1.1.
    const onHttp = await explain({ path: '/keys/x', protocol: 'grpc', headers: { apikey: ALICE_KEY } })
    assert.equal(onHttp.body.outcome.code, 'GH_ERR_GRPC_ROUTE_REQUIRED')
    assert.equal(onHttp.body.outcome.grpc_status, 5, 'NOT_FOUND')
  })

  it('writes neither the token nor a key into the log', async () => {
    await gh.waitForLog((l) => l.msg === 'request explained')
    for (const secret of [expired, ALICE_KEY, BOB_KEY])
      assert.ok(!gh.stdout.includes(secret) && !gh.stderr.includes(secret), 'a credential was logged')
    const line = gh.lines.find((l) => l.msg === 'request explained' && l.route === 'jwt-route')
    assert.deepEqual(
      [line?.result, line?.status, line?.code],
      ['refused', 401, 'GH_ERR_AUTH_CREDENTIALS_INVALID'],
    )
    // The last real request's line may still be on its way.
    await gh.waitForLog(() => gh.accessLines().length >= 3)
    assert.deepEqual(
      gh.accessLines().map((l) => [l.status, l.path]),
      [
        [200, '/keys/orders'],
        [200, '/keys/orders'],
        [429, '/keys/orders'],
      ],
      'only the real requests are in the access log',
    )
  })
})
