/**
 * The jwt plugin in front of a real upstream, row by row of Kong's contract (gateways.md b.4, J01–J33),
 * plus Gatehouse's additions (leeway, claims_to_headers) and the verified-token cache. Rows that cannot
 * happen here: J17 (a credential's consumer is resolved at load), J22 (an unknown anonymous consumer is a
 * configuration error: schema.test.ts), J23 (no gRPC), J24/J25 (hostile-tokens.test.ts).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { assertErrorBody } from '../../../test/harness/error-body.ts'
import { type GatehouseProcess, type LogLine, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type RawResponse, rawRequest } from '../../../test/harness/http.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'
import type { JwtAlgorithm } from './schema.ts'
import { ALGORITHMS, keyPairFor, nowSeconds, P256, RSA, randomSecret, signToken } from './test-fixtures.ts'

const SECRETS = { HS256: randomSecret(), HS384: randomSecret(), HS512: randomSecret() } as Record<
  string,
  string
>
const BOB_SECRET = randomSecret()
const OTHER_SECRET = randomSecret()
const B64_RAW = Buffer.from('0123456789abcdef'.repeat(4), 'hex')
const BEARER = 'Bearer'
const INVALID = 'Bearer error="invalid_token"'
const REALM_INVALID = 'Bearer realm="test-jwt", error="invalid_token"'

const hsKey = (alg: JwtAlgorithm) => (alg.startsWith('HS') ? SECRETS[alg]! : keyPairFor(alg).privateKey)

function credential(alg: JwtAlgorithm): object {
  return alg.startsWith('HS')
    ? { key: `alice-${alg}`, algorithm: alg, secret: SECRETS[alg] }
    : { key: `alice-${alg}`, algorithm: alg, rsa_public_key: keyPairFor(alg).publicPem }
}

function route(name: string, config: object = {}, more: object[] = []) {
  return { name, paths: [`/${name}`], plugins: [{ name: 'jwt', config }, ...more] }
}

function gatewayConfig(upstreamUrl: string): object {
  return {
    _format_version: '3.0',
    consumers: [
      {
        username: 'alice',
        custom_id: 'alice-1',
        jwt_secrets: ALGORITHMS.map(credential),
        acls: [{ group: 'admins' }],
      },
      { username: 'bob', jwt_secrets: [{ key: 'bob', secret: BOB_SECRET }] },
      { username: 'guest' },
      {
        username: 'encoded',
        jwt_secrets: [
          { key: 'b64', secret: B64_RAW.toString('base64url') },
          { key: 'not-b64', secret: 'this secret is not base64 at all!!' },
        ],
      },
    ],
    services: [
      {
        name: 'svc',
        url: upstreamUrl,
        routes: [
          route('default'),
          route('exp', { claims_to_verify: ['exp'] }),
          route('both', { claims_to_verify: ['nbf', 'exp'] }),
          route('nbf', { claims_to_verify: ['nbf'] }),
          route('max', { claims_to_verify: ['exp'], maximum_expiration: 300 }),
          route('kid', { key_claim_name: 'kid' }),
          route('aud', { key_claim_name: 'aud' }),
          route('b64', { secret_is_base64: true }),
          route('custom', {
            uri_param_names: ['token'],
            cookie_names: ['silly', 'crumble'],
            header_names: ['x-token'],
            realm: 'test-jwt',
          }),
          route('preflight', { run_on_preflight: false }),
          route('anon', { anonymous: 'guest' }),
          route('leeway', { claims_to_verify: ['exp', 'nbf'], leeway: 60 }),
          route('headers', {
            claims_to_headers: {
              sub: 'X-User-Sub',
              role: 'x-user-role',
              admin: 'x-user-admin',
              level: 'x-user-level',
              groups: 'x-user-groups',
              note: 'x-user-note',
            },
          }),
          route('acl', {}, [{ name: 'acl', config: { allow: ['admins'] } }]),
          route('anon-acl', { anonymous: 'guest' }, [{ name: 'acl', config: { allow: ['admins'] } }]),
          route('cache', { claims_to_verify: ['exp'] }),
        ],
      },
    ],
  }
}

describe('the jwt plugin in front of an upstream', () => {
  let upstream: Upstream
  let gh: GatehouseProcess

  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({ config: gatewayConfig(upstream.url) })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  const send = (path: string, headers: Record<string, string> | string[] = {}, method = 'GET') =>
    rawRequest(gh.proxyUrl + path, { method, headers })
  const bearer = (path: string, token: string, headers: Record<string, string> = {}) =>
    send(path, { authorization: `Bearer ${token}`, ...headers })
  const aliceToken = (claims: object = {}, header: object = {}) =>
    signToken('HS256', SECRETS.HS256!, { iss: 'alice-HS256', ...claims }, header)

  function passed(res: RawResponse): EchoBody {
    assert.equal(res.status, 200, res.body)
    return JSON.parse(res.body) as EchoBody
  }

  /**
   * A 401 whose body starts with Kong's (`kong`, its JSON text) and goes on with the gateway's members;
   * no token found (a challenge without an error) is GH_ERR_AUTH_CREDENTIALS_MISSING. Returns the body.
   */
  function refused(
    res: RawResponse,
    kong: string,
    challenge: string | undefined = INVALID,
  ): Record<string, unknown> {
    assert.equal(res.status, 401, res.body)
    assert.equal(res.headers['www-authenticate'], challenge)
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8')
    const code = challenge?.includes('error=')
      ? 'GH_ERR_AUTH_CREDENTIALS_INVALID'
      : 'GH_ERR_AUTH_CREDENTIALS_MISSING'
    return assertErrorBody(res, { kong: JSON.parse(kong) as Record<string, unknown>, code })
  }

  describe("Kong's answers when authentication fails", () => {
    it('J01: answers 401 Unauthorized with a bare Bearer challenge when no token is sent', async () => {
      refused(await send('/default'), '{"message":"Unauthorized"}', BEARER)
      refused(
        await send('/default', { authorization: 'Basic YWxpY2U6cHc=' }),
        '{"message":"Unauthorized"}',
        BEARER,
      )
    })

    it('J02: refuses two different tokens, one in the query and one in the header', async () => {
      const a = await aliceToken()
      const b = await signToken('HS256', BOB_SECRET, { iss: 'bob' })
      refused(await bearer(`/default?jwt=${a}`, b), '{"message":"Multiple tokens provided"}')
    })

    it('J03: refuses a query parameter without a value as an unrecognizable token', async () => {
      refused(await send('/default?jwt'), '{"message":"Unrecognizable token"}')
    })

    it('J04: refuses a token whose header or claims are not base64url JSON', async () => {
      const token = await aliceToken()
      const [h, p, s] = token.split('.')
      refused(
        await bearer('/default', `${h}.${p!.slice(0, -3)}x.${s}`),
        '{"message":"Bad token; invalid JSON"}',
      )
      refused(
        await bearer('/default', `e30.${p}.${s}`.replace('e30', '%%%')),
        '{"message":"Bad token; invalid JSON"}',
      )
    })

    it('J05: refuses an alg that is missing, not a string, none or unknown', async () => {
      const [, p, s] = (await aliceToken()).split('.')
      for (const header of [{ typ: 'JWT' }, { alg: 256 }, { alg: 'none' }, { alg: 'HS1' }]) {
        const h = Buffer.from(JSON.stringify(header)).toString('base64url')
        refused(await bearer('/default', `${h}.${p}.${s}`), '{"message":"Bad token; invalid alg"}')
      }
    })

    it('J06: refuses a token without the key claim, naming the configured claim', async () => {
      refused(
        await bearer('/default', await signToken('HS256', SECRETS.HS256!, { sub: 'x' })),
        `{"message":"No mandatory 'iss' in claims"}`,
      )
      refused(
        await bearer('/kid', await signToken('HS256', SECRETS.HS256!, { iss: 'alice-HS256' })),
        `{"message":"No mandatory 'kid' in claims"}`,
      )
    })

    it('J07: refuses an empty key claim', async () => {
      refused(
        await bearer('/default', await aliceToken({ iss: '' })),
        `{"message":"Invalid 'iss' in claims"}`,
      )
    })

    it('J08: refuses a key claim no credential has', async () => {
      refused(
        await bearer('/default', await aliceToken({ iss: 'nobody' })),
        `{"message":"No credentials found for given 'iss'"}`,
      )
    })

    it("J09: refuses a token whose alg is not the credential's algorithm", async () => {
      const token = await signToken('RS256', RSA.privateKey, { iss: 'alice-HS256' })
      refused(await bearer('/default', token), '{"message":"Invalid algorithm"}')
    })

    it('J10: refuses a token naming a credential whose secret cannot be used as configured', async () => {
      const token = await signToken('HS256', 'this secret is not base64 at all!!', { iss: 'not-b64' })
      refused(await bearer('/b64', token), '{"message":"Invalid key/secret"}')
      // The same credential works where secret_is_base64 is off.
      passed(await bearer('/default', token))
    })

    it('J11: refuses a token signed with another secret', async () => {
      const token = await signToken('HS256', OTHER_SECRET, { iss: 'alice-HS256' })
      refused(await bearer('/default', token), '{"message":"Invalid signature"}')
    })

    it("J12: lists every claim to verify that is missing, in the configured order, as Kong's only members (the message is the gateway's)", async () => {
      const body = refused(
        await bearer('/both', await aliceToken()),
        '{"nbf":"must be a number","exp":"must be a number"}',
      )
      assert.equal(body.message, 'nbf: must be a number; exp: must be a number')
      refused(
        await bearer('/exp', await aliceToken({ exp: String(nowSeconds() + 60) })),
        '{"exp":"must be a number"}',
      )
    })

    it('J13: refuses an expired token', async () => {
      refused(await bearer('/exp', await aliceToken({ exp: nowSeconds() - 10 })), '{"exp":"token expired"}')
    })

    it('J14: refuses a token that is not valid yet', async () => {
      refused(
        await bearer('/nbf', await aliceToken({ nbf: nowSeconds() + 600 })),
        '{"nbf":"token not valid yet"}',
      )
    })

    it('J15: refuses a token that lives longer than maximum_expiration', async () => {
      refused(
        await bearer('/max', await aliceToken({ exp: nowSeconds() + 3600 })),
        '{"exp":"exceeds maximum allowed expiration"}',
      )
    })

    it('J16: accepts a token inside maximum_expiration', async () => {
      passed(await bearer('/max', await aliceToken({ exp: nowSeconds() + 270 })))
    })

    it('J32: finds no token in `BEARER <t>` or a bare `<t>`', async () => {
      const token = await aliceToken()
      refused(
        await send('/default', { authorization: `BEARER ${token}` }),
        '{"message":"Unauthorized"}',
        BEARER,
      )
      refused(await send('/default', { authorization: token }), '{"message":"Unauthorized"}', BEARER)
      refused(
        await send('/default', { authorization: `Token x Bearer ${token}` }),
        '{"message":"Unauthorized"}',
        BEARER,
      )
    })

    it('J33: checks the signature before the claims, so a forged expired token is an invalid signature', async () => {
      const token = await signToken('HS256', OTHER_SECRET, { iss: 'alice-HS256', exp: nowSeconds() - 60 })
      refused(await bearer('/exp', token), '{"message":"Invalid signature"}')
    })

    it('J20: authenticates OPTIONS requests too by default', async () => {
      refused(await send('/default', {}, 'OPTIONS'), '{"message":"Unauthorized"}', BEARER)
    })
  })

  describe('accepting a valid token', () => {
    it('accepts every one of the 13 algorithms with a credential of that algorithm', async () => {
      for (const alg of ALGORITHMS) {
        const token = await signToken(alg, hsKey(alg), { iss: `alice-${alg}` })
        const seen = passed(await bearer('/default', token))
        assert.equal(seen.headers['x-credential-identifier'], `alice-${alg}`, alg)
      }
    })

    it("J18: sends the consumer's identity upstream, overwriting what the client claimed, and forwards the token", async () => {
      const token = await aliceToken()
      const seen = passed(
        await bearer('/default', token, {
          'x-consumer-id': 'spoofed',
          'x-consumer-username': 'admin',
          'x-credential-identifier': 'spoofed',
          'x-anonymous-consumer': 'false',
        }),
      )
      assert.match(seen.headers['x-consumer-id'] as string, /^[0-9a-f-]{36}$/)
      assert.equal(seen.headers['x-consumer-username'], 'alice')
      assert.equal(seen.headers['x-consumer-custom-id'], 'alice-1')
      assert.equal(seen.headers['x-credential-identifier'], 'alice-HS256')
      assert.equal(seen.headers['x-anonymous-consumer'], undefined)
      assert.equal(seen.headers.authorization, `Bearer ${token}`)
    })

    it('clears a custom id the client sent for a consumer that has none', async () => {
      const token = await signToken('HS256', BOB_SECRET, { iss: 'bob' })
      const seen = passed(await bearer('/default', token, { 'x-consumer-custom-id': 'admin-1' }))
      assert.equal(seen.headers['x-consumer-username'], 'bob')
      assert.equal(seen.headers['x-consumer-custom-id'], undefined)
    })

    it('J18: finds the token in ?jwt=, a custom query parameter, a custom header and `bearer` in lower case', async () => {
      const token = await aliceToken()
      passed(await send(`/default?jwt=${token}`))
      passed(await send(`/custom?token=${token}`))
      passed(await send('/custom', { 'x-token': `Bearer ${token}` }))
      passed(await send('/default', { authorization: `  bearer ${token}` }))
      refused(await send(`/custom?jwt=${token}`), '{"message":"Unauthorized"}', 'Bearer realm="test-jwt"')
    })

    it('J26: finds the key claim in the JOSE header when the claims lack it (kid)', async () => {
      const token = await signToken('HS256', SECRETS.HS256!, { sub: 'x' }, { kid: 'alice-HS256' })
      passed(await bearer('/kid', token))
    })

    it('J27: uses another claim as the key claim (aud) and sends the key as the credential identifier', async () => {
      const token = await signToken('HS256', SECRETS.HS256!, { aud: 'alice-HS256' })
      assert.equal(passed(await bearer('/aud', token)).headers['x-credential-identifier'], 'alice-HS256')
    })

    it('J28: decodes a base64 secret when secret_is_base64 is on', async () => {
      const token = await signToken('HS256', B64_RAW, { iss: 'b64' })
      passed(await bearer('/b64', token))
      refused(await bearer('/default', token), '{"message":"Invalid signature"}')
    })

    it('J29: reads only the first occurrence of a repeated token header', async () => {
      const token = await aliceToken()
      // A header list is sent as written, so it needs its own Host.
      const lines = ['host', 'localhost', 'x-token', `Bearer ${token}`, 'x-token', 'Bearer other']
      passed(await send('/custom', lines))
      refused(
        await send('/custom', [...lines.slice(0, 2), ...lines.slice(4), ...lines.slice(2, 4)]),
        '{"message":"Bad token; invalid JSON"}',
        REALM_INVALID,
      )
    })

    it('J30: reads the token from a listed cookie, and names the realm when its key is unknown', async () => {
      const token = await aliceToken()
      passed(await send('/custom', { cookie: `other=1; crumble=${token}` }))
      refused(
        await send('/custom', { cookie: `crumble=${await aliceToken({ iss: 'nobody' })}` }),
        `{"message":"No credentials found for given 'iss'"}`,
        REALM_INVALID,
      )
    })

    it('J31: counts the same token in the query and the header once', async () => {
      const token = await aliceToken()
      passed(await bearer(`/default?jwt=${token}`, token))
    })

    it('J19: lets OPTIONS through without a token when run_on_preflight is false', async () => {
      const seen = passed(await send('/preflight', {}, 'OPTIONS'))
      assert.equal(seen.headers['x-consumer-id'], undefined)
      refused(await send('/preflight'), '{"message":"Unauthorized"}', BEARER)
    })
  })

  describe('combining with anonymous and other plugins', () => {
    it('J21: lets a request without a valid token through as the anonymous consumer, with no credential', async () => {
      for (const res of [
        await send('/anon', { 'x-credential-identifier': 'spoofed' }),
        await bearer('/anon', await signToken('HS256', OTHER_SECRET, { iss: 'alice-HS256' })),
      ]) {
        const seen = passed(res)
        assert.equal(seen.headers['x-anonymous-consumer'], 'true')
        assert.equal(seen.headers['x-consumer-username'], 'guest')
        assert.equal(seen.headers['x-credential-identifier'], undefined)
      }
      const seen = passed(await bearer('/anon', await aliceToken()))
      assert.equal(seen.headers['x-consumer-username'], 'alice')
      assert.equal(seen.headers['x-anonymous-consumer'], undefined)
    })

    it('OR: the anonymous consumer reaches acl, which refuses it while a real member passes', async () => {
      const res = await send('/anon-acl')
      assert.equal(res.status, 403)
      assertErrorBody(res, {
        kong: { message: 'You cannot consume this service' },
        code: 'GH_ERR_AUTH_ACCESS_DENIED',
      })
      passed(await bearer('/anon-acl', await aliceToken()))
    })

    it('AND: without anonymous a failed token ends the request at jwt, before acl', async () => {
      refused(await send('/acl'), '{"message":"Unauthorized"}', BEARER)
      const bob = await bearer('/acl', await signToken('HS256', BOB_SECRET, { iss: 'bob' }))
      assert.equal(bob.status, 403)
      assert.equal(passed(await bearer('/acl', await aliceToken())).headers['x-consumer-groups'], 'admins')
    })
  })

  describe("Gatehouse's additions", () => {
    it('leeway accepts a token expired, or not valid yet, by less than the leeway, and no more', async () => {
      const now = nowSeconds()
      passed(await bearer('/leeway', await aliceToken({ exp: now - 30, nbf: now + 30 })))
      refused(
        await bearer('/leeway', await aliceToken({ exp: now - 90, nbf: now })),
        '{"exp":"token expired"}',
      )
      refused(
        await bearer('/leeway', await aliceToken({ exp: now + 60, nbf: now + 90 })),
        '{"nbf":"token not valid yet"}',
      )
    })

    it('claims_to_headers copies string, number and boolean claims and nothing else', async () => {
      const token = await aliceToken({
        sub: 'user-42',
        role: 'editor',
        admin: false,
        level: 3,
        groups: ['a', 'b'],
        note: 'line\nbreak',
      })
      const seen = passed(await bearer('/headers', token))
      assert.equal(seen.headers['x-user-sub'], 'user-42')
      assert.equal(seen.headers['x-user-role'], 'editor')
      assert.equal(seen.headers['x-user-admin'], 'false')
      assert.equal(seen.headers['x-user-level'], '3')
      assert.equal(seen.headers['x-user-groups'], undefined)
      assert.equal(seen.headers['x-user-note'], undefined)
    })

    it('claims_to_headers removes a copy the client sent, whether or not the token has the claim', async () => {
      const spoof = { 'x-user-role': 'admin', 'x-user-sub': 'root' }
      const seen = passed(await bearer('/headers', await aliceToken({ sub: 'user-42' }), spoof))
      assert.equal(seen.headers['x-user-sub'], 'user-42')
      assert.equal(seen.headers['x-user-role'], undefined)
      refused(await send('/headers', spoof), '{"message":"Unauthorized"}', BEARER)
    })
  })

  describe('the verified-token cache', () => {
    it('refuses a cached token once it expires, with the same answer as a fresh verification', async () => {
      const exp = nowSeconds() + 2
      const token = await aliceToken({ exp })
      passed(await bearer('/cache', token))
      passed(await bearer('/cache', token))
      await sleep(exp * 1000 - Date.now() + 100)
      refused(await bearer('/cache', token), '{"exp":"token expired"}')
    })

    it('checks the time claims again on every hit: a verified token not valid yet is refused until it is', async () => {
      const nbf = nowSeconds() + 2
      const token = await aliceToken({ nbf })
      refused(await bearer('/nbf', token), '{"nbf":"token not valid yet"}')
      refused(await bearer('/nbf', token), '{"nbf":"token not valid yet"}')
      await sleep(nbf * 1000 - Date.now() + 100)
      passed(await bearer('/nbf', token))
    })

    it('answers a cached token and a fresh one identically, identity headers included', async () => {
      const token = await signToken('ES256', P256.privateKey, { iss: 'alice-ES256', exp: nowSeconds() + 600 })
      const first = passed(await bearer('/cache', token))
      const second = passed(await bearer('/cache', token, { 'x-consumer-id': 'spoofed' }))
      for (const h of [
        'x-consumer-id',
        'x-consumer-username',
        'x-consumer-custom-id',
        'x-credential-identifier',
      ])
        assert.equal(second.headers[h], first.headers[h], h)
    })
  })
})

describe('the jwt plugin across a configuration reload', () => {
  let upstream: Upstream
  let gh: GatehouseProcess

  const config = (withBob: boolean) => ({
    _format_version: '3.0',
    consumers: [
      { username: 'bob', jwt_secrets: withBob ? [{ key: 'bob', secret: BOB_SECRET }] : [] },
      { username: 'carol', jwt_secrets: [{ key: 'carol', secret: OTHER_SECRET }] },
    ],
    services: [{ name: 'svc', url: upstream.url, routes: [route('api', { claims_to_verify: ['exp'] })] }],
  })

  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({ config: config(true) })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  it('refuses a cached token after a reload removed its credential', async () => {
    const token = await signToken('HS256', BOB_SECRET, { iss: 'bob', exp: nowSeconds() + 600 })
    const call = () => rawRequest(`${gh.proxyUrl}/api`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal((await call()).status, 200)
    assert.equal((await call()).status, 200)
    const before = new Set(gh.lines)
    const loaded = gh.waitForLog(
      (l: LogLine) => !before.has(l) && l.msg === 'configuration loaded' && l.source === gh.configFile,
    )
    gh.writeConfig(config(false))
    gh.signal('SIGHUP')
    await loaded
    const res = await call()
    assert.equal(res.status, 401)
    assertErrorBody(res, {
      kong: { message: "No credentials found for given 'iss'" },
      code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
    })
  })
})
