/**
 * The exact RFC 6750 answer for each way an access token can fail at the openid-connect plugin (status,
 * WWW-Authenticate challenges, `{error, error_description, reason}` body with `verbose_errors`, access-log
 * reason), the terse answers of the default, the leeway on time claims, and the scope check, against a
 * real gateway, issuer and upstream.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { assertErrorBody } from '../../../test/harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type RawResponse, rawRequest } from '../../../test/harness/http.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'
import {
  accessClaims,
  assertRefusal,
  DPOP_ALGS,
  nowSeconds,
  signingKey,
  signWith,
  TestIssuer,
} from './test-fixtures.ts'

const AUD = 'https://api.shop.example'
const JSON_TYPE = 'application/json; charset=utf-8'
/** RFC 6750's members of the answer to a request without a token; the gateway's members follow them. */
const NO_TOKEN_BODY = { error: 'unauthorized', error_description: 'A bearer access token is required' }
const NO_TOKEN_VERBOSE = { ...NO_TOKEN_BODY, reason: 'oidc_no_token' }
const MISSING = 'GH_ERR_AUTH_CREDENTIALS_MISSING'

/** A route answering with verbose_errors (precise descriptions and reasons) unless the config says otherwise. */
function route(name: string, config: object) {
  return {
    name,
    paths: [`/${name}`],
    plugins: [{ name: 'openid-connect', config: { verbose_errors: true, ...config } }],
  }
}

describe('openid-connect answers', () => {
  let upstream: Upstream
  let issuer: TestIssuer
  let gh: GatehouseProcess

  before(async () => {
    upstream = await startUpstream()
    issuer = await TestIssuer.start([await signingKey('ec-1', 'ES256'), await signingKey('rsa-1', 'RS256')])
    const base = { issuer: issuer.url, audience: AUD }
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              route('api', base),
              route('es-only', { ...base, algorithms: ['ES256'] }),
              route('scoped', { ...base, required_scopes: ['orders:read', 'orders:write'] }),
              route('aged', { ...base, max_token_age: 60 }),
              route('exact', { ...base, leeway: 0 }),
              route('by-email', { ...base, consumer_claim: 'email', realm: 'shop "api"' }),
              route('terse', { ...base, verbose_errors: false }),
              route('terse-scoped', { ...base, verbose_errors: false, required_scopes: ['orders:write'] }),
              route('terse-down', {
                verbose_errors: false,
                issuer: 'http://127.0.0.1:9',
                audience: AUD,
                jwks_cache: { timeout: 1 },
              }),
            ],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await issuer?.stop()
    await upstream?.close()
  })

  const send = (path: string, headers: Record<string, string> = {}) =>
    rawRequest(gh.proxyUrl + path, { headers })
  const bearer = (path: string, token: string, headers: Record<string, string> = {}) =>
    send(path, { authorization: `Bearer ${token}`, ...headers })
  const token = (more: Record<string, unknown> = {}, header: Record<string, unknown> = {}, kid = 'ec-1') =>
    issuer.sign(kid, accessClaims(issuer.url, AUD, more), header)

  function passed(res: RawResponse): EchoBody {
    assert.equal(res.status, 200, res.body)
    return JSON.parse(res.body) as EchoBody
  }

  /** A 401 invalid_token with exactly this description and reason, in the challenges and the body. */
  function invalid(res: RawResponse, description: string, reason: string, realm = 'gatehouse'): void {
    assertRefusal(res, { description, reason, realm })
  }

  describe('RFC 6750 answers', () => {
    it('answers 401 with bare Bearer and DPoP challenges (no error code) when no token is sent', async () => {
      for (const headers of [{}, { authorization: 'Basic YWxpY2U6cHc=' }, { authorization: 'Bearerish x' }]) {
        const res = await send('/api', headers)
        assert.equal(res.status, 401)
        assert.equal(res.headers['www-authenticate'], `Bearer realm="gatehouse", DPoP algs="${DPOP_ALGS}"`)
        assert.equal(res.headers['content-type'], JSON_TYPE)
        assertErrorBody(res, { kong: NO_TOKEN_VERBOSE, code: MISSING })
      }
    })

    it('does not read a token from the query string (RFC 9700 §4.3.2)', async () => {
      const res = await send(`/api?access_token=${await token()}`)
      assert.equal(res.status, 401)
      assertErrorBody(res, { kong: NO_TOKEN_VERBOSE, code: MISSING })
    })

    it('refuses a Bearer value that is not a b64token, or a token that is not a compact JWS', async () => {
      for (const value of ['Bearer', 'Bearer a b', 'Bearer {}', 'Bearer a.b', 'Bearer a.b.c.d']) {
        invalid(
          await send('/api', { authorization: value }),
          'The access token is malformed',
          'oidc_malformed',
        )
      }
    })

    it('refuses an expired token', async () => {
      invalid(
        await bearer('/api', await token({ exp: nowSeconds() - 60 })),
        'The access token expired',
        'oidc_expired',
      )
    })

    it('refuses a token for another audience, or a list without this resource', async () => {
      const description = 'The access token is not meant for this resource'
      const reason = 'oidc_wrong_audience'
      invalid(await bearer('/api', await token({ aud: 'https://other.example' })), description, reason)
      invalid(await bearer('/api', await token({ aud: ['https://other.example'] })), description, reason)
      invalid(await bearer('/api', await token({ aud: [] })), description, reason)
      invalid(
        await bearer('/api', await token({ aud: undefined })),
        'The access token lacks a required aud claim',
        'oidc_missing_claim:aud',
      )
    })

    it('refuses a token from another issuer, the same issuer with a trailing slash included', async () => {
      const description = 'The access token is from an issuer this resource does not trust'
      for (const iss of ['https://evil.example', `${issuer.url}/`, undefined, 42])
        invalid(await bearer('/api', await token({ iss })), description, 'oidc_unknown_issuer')
    })

    it('refuses an ID-token-like token, and any type but an access token (typ confusion)', async () => {
      const description = 'The token is not an access token (typ)'
      const idToken = await token(
        { aud: AUD, nonce: 'n-0S6_WzA2Mj', auth_time: nowSeconds() },
        { typ: 'JWT' },
      )
      invalid(await bearer('/api', idToken), description, 'oidc_wrong_type')
      for (const typ of [undefined, 'dpop+jwt', 'text/at+jwt'])
        invalid(await bearer('/api', await token({}, { typ })), description, 'oidc_wrong_type')
    })

    it('refuses a kid that is not a non-empty string, or one the issuer does not publish', async () => {
      for (const kid of ['', 1, { a: 1 }])
        invalid(
          await bearer('/api', await token({}, { kid })),
          'The access token has an invalid kid header',
          'oidc_bad_kid',
        )
      invalid(
        await bearer('/api', await token({}, { kid: 'ec-2' })),
        'The access token is signed with an unknown key',
        'oidc_unknown_key',
      )
    })

    it('refuses an algorithm the route does not accept, before fetching any key', async () => {
      const served = { ...issuer.served }
      invalid(
        await bearer('/es-only', await token({}, {}, 'rsa-1')),
        'The access token is signed with an algorithm this resource does not accept',
        'oidc_alg_not_allowed',
      )
      assert.deepEqual(issuer.served, served)
    })

    it('refuses a token signed by another key under a published kid', async () => {
      const impostor = await signingKey('ec-1')
      const forged = await signWith(impostor, accessClaims(issuer.url, AUD))
      invalid(await bearer('/api', forged), 'The access token signature is invalid', 'oidc_bad_signature')
    })

    it('refuses a token missing exp, iat or sub, naming the claim', async () => {
      for (const claim of ['exp', 'iat', 'sub'])
        invalid(
          await bearer('/api', await token({ [claim]: undefined })),
          `The access token lacks a required ${claim} claim`,
          `oidc_missing_claim:${claim}`,
        )
      invalid(
        await bearer('/api', await token({ exp: String(nowSeconds() + 60) })),
        'The access token has an invalid exp claim',
        'oidc_invalid_claim:exp',
      )
      invalid(
        await bearer('/api', await token({ sub: 42 })),
        'The access token has an invalid sub claim',
        'oidc_invalid_claim:sub',
      )
    })

    it('refuses a token that is not valid yet, or issued in the future', async () => {
      invalid(
        await bearer('/api', await token({ nbf: nowSeconds() + 600 })),
        'The access token is not valid yet',
        'oidc_not_yet_valid',
      )
      invalid(
        await bearer('/api', await token({ iat: nowSeconds() + 600 })),
        'The access token was issued in the future',
        'oidc_issued_in_future',
      )
    })

    it('refuses a token older than max_token_age even before its exp', async () => {
      invalid(
        await bearer('/aged', await token({ iat: nowSeconds() - 120 })),
        'The access token is too old',
        'oidc_too_old',
      )
      passed(await bearer('/aged', await token({ iat: nowSeconds() - 30 })))
      invalid(
        await bearer('/aged', await token({ iat: nowSeconds() + 600 })),
        'The access token was issued in the future',
        'oidc_issued_in_future',
      )
    })

    it('refuses a token without the consumer_claim, escaping the realm in the challenge', async () => {
      invalid(
        await bearer('/by-email', await token()),
        'The access token lacks a required email claim',
        'oidc_missing_claim:email',
        'shop \\"api\\"',
      )
    })

    it('logs why a request was refused, as a stable code and reason, without the token', async () => {
      const expired = await token({ exp: nowSeconds() - 60 })
      await bearer('/api', expired, { 'x-request-id': 'oidc-expired' })
      await send('/api', { 'x-request-id': 'oidc-none' })
      await bearer('/scoped', await token(), { 'x-request-id': 'oidc-scope' })
      const expiredLine = await gh.waitForLog((l) => l.request_id === 'oidc-expired')
      assert.equal(expiredLine.error_code, 'GH_ERR_AUTH_CREDENTIALS_INVALID')
      assert.equal(expiredLine.error_detail, 'oidc_expired')
      const none = await gh.waitForLog((l) => l.request_id === 'oidc-none')
      assert.equal(none.error_code, 'GH_ERR_AUTH_CREDENTIALS_MISSING')
      assert.equal(none.error_detail, 'oidc_no_token')
      const scope = await gh.waitForLog((l) => l.request_id === 'oidc-scope')
      assert.equal(scope.status, 403)
      assert.equal(scope.error_code, 'GH_ERR_AUTH_SCOPE_INSUFFICIENT')
      assert.equal(scope.error_detail, 'oidc_insufficient_scope')
      assert.ok(!gh.stdout.includes(expired.split('.')[2]!), 'no token in the logs')
    })
  })

  describe('terse answers (verbose_errors: false, the default)', () => {
    const TERSE = 'The access token is invalid'

    it('describes every token failure alike, and still logs the precise reason', async () => {
      const forged = await signWith(await signingKey('ec-1'), accessClaims(issuer.url, AUD))
      const cases: [Record<string, string>, string][] = [
        [{ authorization: 'Bearer a.b' }, 'oidc_malformed'],
        [{ authorization: `Bearer ${await token({ exp: nowSeconds() - 60 })}` }, 'oidc_expired'],
        [{ authorization: `Bearer ${await token({ aud: 'https://other.example' })}` }, 'oidc_wrong_audience'],
        [{ authorization: `Bearer ${await token({ iss: 'https://evil.example' })}` }, 'oidc_unknown_issuer'],
        [{ authorization: `Bearer ${forged}` }, 'oidc_bad_signature'],
      ]
      for (const [i, [headers, reason]] of cases.entries()) {
        assertRefusal(await send('/terse', { ...headers, 'x-request-id': `terse-${i}` }), {
          description: TERSE,
        })
        const line = await gh.waitForLog((l) => l.request_id === `terse-${i}`)
        assert.equal(line.error_detail, reason)
        assert.equal(line.error_code, 'GH_ERR_AUTH_CREDENTIALS_INVALID')
      }
    })

    it('keeps its own words for a missing token, a missing scope and unreachable keys', async () => {
      const none = await send('/terse')
      assert.equal(none.status, 401)
      assertErrorBody(none, { kong: NO_TOKEN_BODY, code: MISSING })
      assertRefusal(await bearer('/terse-scoped', await token()), {
        status: 403,
        error: 'insufficient_scope',
        description: 'The access token lacks a scope this resource requires',
        scope: 'orders:write',
      })
      const key = issuer.keys.get('ec-1')!
      const unreachable = await signWith(key, accessClaims('http://127.0.0.1:9', AUD))
      assertRefusal(await bearer('/terse-down', unreachable), {
        description: "The issuer's keys are unavailable; the access token cannot be verified",
      })
    })
  })

  describe('tokens without a kid', () => {
    it('are verified with the one key the issuer publishes for their alg', async () => {
      passed(await bearer('/api', await token({}, { kid: undefined })))
      passed(await bearer('/api', await token({}, { kid: undefined }, 'rsa-1')))
    })
  })

  describe('a token accepted before (verified-token cache)', () => {
    it('is refused once it expires, with the answer a fresh verification gives', async () => {
      const t = await token({ exp: nowSeconds() + 1 })
      passed(await bearer('/exact', t))
      passed(await bearer('/exact', t))
      await sleep(2100)
      invalid(await bearer('/exact', t), 'The access token expired', 'oidc_expired')
    })

    it('is refused once it is older than max_token_age', async () => {
      // max_token_age 60 with the default 5 s leeway: a token issued 62 s ago is too old 4 s from now.
      const t = await token({ iat: nowSeconds() - 62 })
      passed(await bearer('/aged', t))
      await sleep(1100)
      passed(await bearer('/aged', t))
      await sleep(4200)
      invalid(await bearer('/aged', t), 'The access token is too old', 'oidc_too_old')
    })

    it('still needs the scopes of every route it is sent to', async () => {
      const t = await token({ scope: 'orders:read' })
      passed(await bearer('/api', t))
      passed(await bearer('/api', t))
      assert.equal((await bearer('/scoped', t)).status, 403)
      assert.equal((await bearer('/scoped', t)).status, 403)
    })
  })

  describe('leeway (default 5 s)', () => {
    it('accepts exp, nbf and iat a few seconds off, and refuses them beyond the leeway', async () => {
      const now = nowSeconds()
      passed(await bearer('/api', await token({ exp: now - 2 })))
      passed(await bearer('/api', await token({ nbf: now + 2 })))
      passed(await bearer('/api', await token({ iat: now + 2 })))
      invalid(
        await bearer('/api', await token({ exp: now - 10 })),
        'The access token expired',
        'oidc_expired',
      )
      invalid(
        await bearer('/api', await token({ nbf: now + 20 })),
        'The access token is not valid yet',
        'oidc_not_yet_valid',
      )
      invalid(
        await bearer('/api', await token({ iat: now + 20 })),
        'The access token was issued in the future',
        'oidc_issued_in_future',
      )
    })

    it('tolerates nothing with leeway 0', async () => {
      invalid(
        await bearer('/exact', await token({ exp: nowSeconds() - 1 })),
        'The access token expired',
        'oidc_expired',
      )
      invalid(
        await bearer('/exact', await token({ nbf: nowSeconds() + 3 })),
        'The access token is not valid yet',
        'oidc_not_yet_valid',
      )
    })
  })

  describe('scopes', () => {
    const description = 'The access token lacks a scope this resource requires'

    function insufficient(res: RawResponse): void {
      assertRefusal(res, {
        status: 403,
        error: 'insufficient_scope',
        description,
        reason: 'oidc_insufficient_scope',
        scope: 'orders:read orders:write',
      })
    }

    it('lets a token through that carries every required scope, in any order, among others', async () => {
      passed(await bearer('/scoped', await token({ scope: 'orders:write openid orders:read' })))
    })

    it('answers 403 insufficient_scope naming the required scopes when one is missing', async () => {
      insufficient(await bearer('/scoped', await token({ scope: 'orders:read' })))
      insufficient(await bearer('/scoped', await token({ scope: 'orders:read orders:writer' })))
    })

    it('answers 403 when the scope claim is absent or not a space-separated string', async () => {
      insufficient(await bearer('/scoped', await token({ scope: undefined })))
      insufficient(await bearer('/scoped', await token({ scope: ['orders:read', 'orders:write'] })))
    })
  })
})
