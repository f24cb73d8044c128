/**
 * DPoP (RFC 9449) at the resource server, against a real gateway, issuer and upstream: a DPoP-bound
 * token (`cnf.jkt`) with a good proof reaches the upstream without the proof; each defect of a proof is
 * refused with its own reason (htm, htu, iat, jti replay, ath, another key, the bearer downgrade, no
 * proof, two proofs, private key material, alg none or HS256, …); the proof is checked on every request
 * although the token's verification is cached; `dpop.required`; terse answers; the URI the client used
 * behind a trusted proxy (X-Forwarded-*), and X-Forwarded-* ignored from anyone else.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { exportJWK } from 'jose'
import { assertErrorBody } from '../../../test/harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { type RawResponse, rawRequest } from '../../../test/harness/http.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'
import {
  accessClaims,
  assertRefusal,
  b64url,
  DPOP_ALGS,
  type DpopKey,
  dpopKey,
  dpopProof,
  hs256Raw,
  nowSeconds,
  type ProofOptions,
  signingKey,
  TestIssuer,
} from './test-fixtures.ts'

const AUD = 'https://api.shop.example'

describe('DPoP-bound access tokens', () => {
  let upstream: Upstream
  let issuer: TestIssuer
  let gh: GatehouseProcess
  let key: DpopKey
  let bound: string

  before(async () => {
    upstream = await startUpstream()
    issuer = await TestIssuer.start([await signingKey('ec-1')])
    key = await dpopKey('ES256')
    const base = { issuer: issuer.url, audience: AUD }
    const route = (name: string, config: object) => ({
      name,
      paths: [`/${name}`],
      plugins: [{ name: 'openid-connect', config: { ...base, ...config } }],
    })
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              route('api', { verbose_errors: true }),
              route('required', { verbose_errors: true, dpop: { required: true, algorithms: ['ES256'] } }),
              route('terse', {}),
            ],
          },
        ],
      },
    })
    bound = await boundToken(key)
  })
  after(async () => {
    await gh?.stop()
    await issuer?.stop()
    await upstream?.close()
  })

  const boundToken = (k: DpopKey, more: Record<string, unknown> = {}) =>
    issuer.sign('ec-1', accessClaims(issuer.url, AUD, { cnf: { jkt: k.jkt }, ...more }))
  const url = (path: string) => `${gh.proxyUrl}${path}`
  /** A proof for GET <path> with `token`, by `key` unless said otherwise. */
  const proof = (path: string, token: string, o: Partial<ProofOptions> & { by?: DpopKey } = {}) =>
    dpopProof(o.by ?? key, { htu: url(path), accessToken: token, ...o })
  const send = (path: string, headers: Record<string, string> | string[], method = 'GET') =>
    rawRequest(url(path), { method, headers })
  /** GET <path> with `token` and a proof for it (`o` changes the proof, not the request). */
  const withDpop = async (path: string, token: string, o: Partial<ProofOptions> & { by?: DpopKey } = {}) =>
    send(path, { authorization: `DPoP ${token}`, dpop: await proof(path, token, o) })

  function passed(res: RawResponse): EchoBody {
    assert.equal(res.status, 200, res.body)
    return JSON.parse(res.body) as EchoBody
  }

  /** A verbose refusal of the proof (invalid_dpop_proof) or of the binding (invalid_token). */
  function refused(
    res: RawResponse,
    reason: string,
    description: string,
    error = 'invalid_dpop_proof',
  ): void {
    assertRefusal(res, { scheme: 'dpop', error, description, reason })
  }

  describe('a good proof', () => {
    it('lets the token through and never sends the proof upstream', async () => {
      const echo = passed(await withDpop('/api', bound))
      assert.equal(echo.headers.dpop, undefined)
      assert.equal(echo.headers.authorization, `DPoP ${bound}`)
      assert.equal(echo.headers['x-authenticated-userid'], 'user-123')
      assert.equal(echo.url, '/', 'strip_path: the proof names the URI the client used, not the upstream one')
    })

    it('is checked on every request, though the token verification is remembered', async () => {
      passed(await withDpop('/api', bound))
      refused(
        await withDpop('/api', bound, { htm: 'POST' }),
        'dpop_htm',
        'The DPoP proof is for another HTTP method (htm)',
      )
      passed(await withDpop('/api', bound))
    })

    it('may name the URI with another case, the default port, a query or a fragment', async () => {
      const origin = new URL(gh.proxyUrl)
      for (const htu of [
        `HTTP://${origin.host.toUpperCase()}/api`,
        `${gh.proxyUrl}/api?page=2#top`,
        `${gh.proxyUrl}/./api`,
        `${gh.proxyUrl}/%61pi`,
      ])
        passed(await withDpop('/api', bound, { htu }))
    })

    it('works with any algorithm of the default list', async () => {
      for (const alg of ['EdDSA', 'RS256', 'PS256']) {
        const k = await dpopKey(alg)
        passed(await withDpop('/api', await boundToken(k), { by: k }))
      }
    })
  })

  describe('a defective proof', () => {
    it('is refused for another method, URI, or a missing htu', async () => {
      refused(
        await withDpop('/api', bound, { htm: 'get' }),
        'dpop_htm',
        'The DPoP proof is for another HTTP method (htm)',
      )
      const htu = 'The DPoP proof is for another URI (htu)'
      for (const other of [
        `${gh.proxyUrl}/api/more`,
        `${gh.proxyUrl}/other`,
        `https://${new URL(gh.proxyUrl).host}/api`,
        `http://localhost:${new URL(gh.proxyUrl).port}/api`,
        `http://user@${new URL(gh.proxyUrl).host}/api`,
        'not a url',
      ])
        refused(await withDpop('/api', bound, { htu: other }), 'dpop_htu', htu)
      refused(await withDpop('/api', bound, { claims: { htu: undefined } }), 'dpop_htu', htu)
    })

    it('is refused when too old or issued in the future (iat beyond max_age and leeway)', async () => {
      const iat = 'The DPoP proof is too old or issued in the future (iat)'
      refused(await withDpop('/api', bound, { claims: { iat: nowSeconds() - 120 } }), 'dpop_iat', iat)
      refused(await withDpop('/api', bound, { claims: { iat: nowSeconds() + 60 } }), 'dpop_iat', iat)
      refused(await withDpop('/api', bound, { claims: { iat: String(nowSeconds()) } }), 'dpop_iat', iat)
      passed(await withDpop('/api', bound, { claims: { iat: nowSeconds() - 50 } }))
    })

    it('is refused when used twice, and without a jti', async () => {
      const once = await proof('/api', bound)
      passed(await send('/api', { authorization: `DPoP ${bound}`, dpop: once }))
      refused(
        await send('/api', { authorization: `DPoP ${bound}`, dpop: once }),
        'dpop_replay',
        'The DPoP proof was used before (jti)',
      )
      refused(
        await withDpop('/api', bound, { claims: { jti: undefined } }),
        'dpop_jti',
        'The DPoP proof has no valid jti',
      )
      refused(
        await withDpop('/api', bound, { claims: { jti: 'x'.repeat(300) } }),
        'dpop_jti',
        'The DPoP proof has no valid jti',
      )
    })

    it('is refused for another access token (ath), or without ath', async () => {
      const description = 'The DPoP proof is for another access token (ath)'
      const other = await boundToken(key)
      refused(await withDpop('/api', bound, { accessToken: other }), 'dpop_ath', description)
      refused(await withDpop('/api', bound, { claims: { ath: undefined } }), 'dpop_ath', description)
    })

    it('is refused when signed by another key than the token is bound to', async () => {
      refused(
        await withDpop('/api', bound, { by: await dpopKey() }),
        'dpop_jkt_mismatch',
        'The DPoP proof is signed with another key than the one the access token is bound to',
        'invalid_token',
      )
      // The bound key's jwk in the header, but the signature made with another key.
      const impostor = await dpopKey()
      refused(
        await withDpop('/api', bound, { by: impostor, header: { jwk: key.publicJwk } }),
        'dpop_bad_signature',
        'The DPoP proof signature is invalid',
      )
    })

    it('is refused when missing, or sent twice', async () => {
      refused(
        await send('/api', { authorization: `DPoP ${bound}` }),
        'dpop_missing',
        'A DPoP proof is required with a DPoP-bound access token',
      )
      const [p1, p2] = [await proof('/api', bound), await proof('/api', bound)]
      refused(
        // A header list (to send two DPoP lines) gets no Host from node:http, so it is given here.
        await send('/api', [
          'host',
          new URL(gh.proxyUrl).host,
          'authorization',
          `DPoP ${bound}`,
          'dpop',
          p1,
          'DPoP',
          p2,
        ]),
        'dpop_multiple',
        'The request has more than one DPoP header',
      )
    })

    it('is refused with private key material, no jwk, or a jwk that is not a key', async () => {
      const k = await dpopKey()
      const privateJwk = { ...(await exportJWK(k.privateKey)) }
      const token = await boundToken(k)
      refused(
        await withDpop('/api', token, { by: k, header: { jwk: privateJwk } }),
        'dpop_private_key',
        'The DPoP proof jwk header contains private key material',
      )
      const noJwk = 'The DPoP proof has no usable public jwk header'
      refused(await withDpop('/api', bound, { header: { jwk: undefined } }), 'dpop_bad_jwk', noJwk)
      refused(
        await withDpop('/api', bound, { header: { jwk: { ...key.publicJwk, x: 'AAAA' } } }),
        'dpop_bad_jwk',
        noJwk,
      )
    })

    it('is refused signed with alg none or HS256, or of another type than dpop+jwt', async () => {
      const alg = 'The DPoP proof is signed with an algorithm this resource does not accept'
      const claims = { htm: 'GET', htu: url('/api'), iat: nowSeconds(), jti: randomUUID(), ath: '' }
      const none = `${b64url({ alg: 'none', typ: 'dpop+jwt', jwk: key.publicJwk })}.${b64url(claims)}.`
      refused(await send('/api', { authorization: `DPoP ${bound}`, dpop: none }), 'dpop_alg_not_allowed', alg)
      const hs = hs256Raw(
        { alg: 'HS256', typ: 'dpop+jwt', jwk: { kty: 'oct', k: 'c2VjcmV0' } },
        claims,
        'secret',
      )
      refused(await send('/api', { authorization: `DPoP ${bound}`, dpop: hs }), 'dpop_alg_not_allowed', alg)
      for (const typ of ['JWT', 'at+jwt', undefined])
        refused(
          await withDpop('/api', bound, { header: { typ } }),
          'dpop_wrong_type',
          'The DPoP proof is not of type dpop+jwt',
        )
    })

    it('is refused when malformed or too long, never with a 500', async () => {
      for (const value of ['x', 'a.b', 'a.b.c.d', `${b64url('["x"]')}.e30.`, 'é'])
        refused(
          await send('/api', { authorization: `DPoP ${bound}`, dpop: value }),
          'dpop_malformed',
          'The DPoP proof is malformed',
        )
      refused(
        await send('/api', {
          authorization: `DPoP ${bound}`,
          dpop: `${await proof('/api', bound)}${'A'.repeat(8192)}`,
        }),
        'dpop_too_long',
        'The DPoP proof is too long',
      )
    })
  })

  describe('the binding between token and scheme', () => {
    it('refuses a DPoP-bound token presented as a bearer token (downgrade)', async () => {
      assertRefusal(
        await send('/api', { authorization: `Bearer ${bound}`, dpop: await proof('/api', bound) }),
        {
          description: 'DPoP-bound token presented as a bearer token',
          reason: 'dpop_bearer_downgrade',
        },
      )
    })

    it('refuses a token that is not DPoP-bound presented with the DPoP scheme', async () => {
      const plain = await issuer.sign('ec-1', accessClaims(issuer.url, AUD))
      refused(
        await withDpop('/api', plain),
        'dpop_not_bound',
        'The access token is not DPoP-bound but was presented with the DPoP scheme',
        'invalid_token',
      )
    })

    it('refuses an invalid token presented with the DPoP scheme as invalid_token on the DPoP challenge', async () => {
      const expired = await boundToken(key, { exp: nowSeconds() - 60 })
      refused(await withDpop('/api', expired), 'oidc_expired', 'The access token expired', 'invalid_token')
    })

    it('records DPoP refusals with their own code and reason', async () => {
      await send('/api', { authorization: `Bearer ${bound}`, 'x-request-id': 'dpop-downgrade' })
      const line = await gh.waitForLog((l) => l.request_id === 'dpop-downgrade')
      assert.equal(line.error_code, 'GH_ERR_AUTH_DPOP_INVALID')
      assert.equal(line.error_detail, 'dpop_bearer_downgrade')
    })

    it('ignores X-Forwarded-* from a client that is not a trusted proxy when reading the URI', async () => {
      const forwarded = {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'api.shop.example',
        'x-forwarded-port': '443',
      }
      const spoofed = await proof('/api', bound, { htu: 'https://api.shop.example/api' })
      refused(
        await send('/api', { authorization: `DPoP ${bound}`, dpop: spoofed, ...forwarded }),
        'dpop_htu',
        'The DPoP proof is for another URI (htu)',
      )
      passed(
        await send('/api', {
          authorization: `DPoP ${bound}`,
          dpop: await proof('/api', bound),
          ...forwarded,
        }),
      )
    })

    it('removes a DPoP header a client sends with a bearer token before forwarding', async () => {
      const plain = await issuer.sign('ec-1', accessClaims(issuer.url, AUD))
      const echo = passed(await send('/api', { authorization: `Bearer ${plain}`, dpop: 'anything' }))
      assert.equal(echo.headers.dpop, undefined)
    })
  })

  describe('dpop.required', () => {
    it('accepts only DPoP-bound tokens with their proof, and offers only the DPoP challenge', async () => {
      passed(await withDpop('/required', bound))
      const plain = await issuer.sign('ec-1', accessClaims(issuer.url, AUD))
      assertRefusal(await send('/required', { authorization: `Bearer ${plain}` }), {
        dpopOnly: true,
        algs: 'ES256',
        description: 'This resource requires a DPoP-bound access token',
        reason: 'dpop_required',
      })
      const none = await send('/required', {})
      assert.equal(none.status, 401)
      assert.equal(none.headers['www-authenticate'], 'DPoP algs="ES256"')
      assertErrorBody(none, {
        kong: {
          error: 'unauthorized',
          error_description: 'A DPoP-bound access token is required',
          reason: 'oidc_no_token',
        },
        code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
      })
    })

    it('refuses a proof signed with an algorithm outside its dpop.algorithms', async () => {
      const k = await dpopKey('EdDSA')
      assertRefusal(await withDpop('/required', await boundToken(k), { by: k }), {
        dpopOnly: true,
        algs: 'ES256',
        error: 'invalid_dpop_proof',
        description: 'The DPoP proof is signed with an algorithm this resource does not accept',
        reason: 'dpop_alg_not_allowed',
      })
    })
  })

  describe('terse answers', () => {
    it('describe every proof failure alike, and keep the reason for the access log', async () => {
      const res = await send('/terse', {
        authorization: `DPoP ${bound}`,
        dpop: await proof('/terse', bound, { htm: 'PUT' }),
        'x-request-id': 'dpop-terse',
      })
      assertRefusal(res, {
        scheme: 'dpop',
        error: 'invalid_dpop_proof',
        description: 'The DPoP proof is invalid',
      })
      assert.equal(res.headers['www-authenticate']?.startsWith(`DPoP algs="${DPOP_ALGS}"`), true)
      const line = await gh.waitForLog((l) => l.request_id === 'dpop-terse')
      assert.equal(line.error_code, 'GH_ERR_AUTH_DPOP_INVALID')
      assert.equal(line.error_detail, 'dpop_htm')
      assertRefusal(await send('/terse', { authorization: `Bearer ${bound}` }), {
        description: 'The access token is invalid',
        code: 'GH_ERR_AUTH_DPOP_INVALID',
      })
    })
  })
})

describe('DPoP behind a trusted proxy', () => {
  let upstream: Upstream
  let issuer: TestIssuer
  let gh: GatehouseProcess

  before(async () => {
    upstream = await startUpstream()
    issuer = await TestIssuer.start([await signingKey('ec-1')])
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        proxy: { trusted_ips: ['127.0.0.0/8'] },
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [{ name: 'api', paths: ['/api'] }],
            plugins: [
              { name: 'openid-connect', config: { issuer: issuer.url, audience: AUD, verbose_errors: true } },
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

  it('takes the URI the client used from X-Forwarded-Proto, -Host, -Port and -Path', async () => {
    const key = await dpopKey()
    const token = await issuer.sign('ec-1', accessClaims(issuer.url, AUD, { cnf: { jkt: key.jkt } }))
    const forwarded = {
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'API.shop.example',
      'x-forwarded-port': '443',
      'x-forwarded-path': '/edge/api',
    }
    const send = async (htu: string) =>
      rawRequest(`${gh.proxyUrl}/api`, {
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await dpopProof(key, { htu, accessToken: token }),
          ...forwarded,
        },
      })
    assert.equal((await send('https://api.shop.example/edge/api')).status, 200)
    for (const htu of [
      `${gh.proxyUrl}/api`,
      'https://api.shop.example/api',
      'http://api.shop.example/edge/api',
    ])
      assertRefusal(await send(htu), {
        scheme: 'dpop',
        error: 'invalid_dpop_proof',
        description: 'The DPoP proof is for another URI (htu)',
        reason: 'dpop_htu',
      })
  })
})
