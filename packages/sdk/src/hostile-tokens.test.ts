/**
 * The hostile-token corpus (research/iam.md §4.3 and the CVE shapes of §5) against a verifier fetching a
 * real JWKS: each token must be refused with its exact code — a VerificationError, never a jose error or a
 * TypeError — without the token in the message, and the JWKS must be fetched at most twice for all of
 * them. A good token is still accepted afterwards. Over 400 lines because the corpus is one list, one
 * entry per hostile shape, so a new attack is one more entry.
 */
import assert from 'node:assert/strict'
import { createPublicKey, KeyObject } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { JWTPayload } from 'jose'
import { VerificationError, type VerificationErrorCode } from './errors.ts'
import {
  b64url,
  es256Raw,
  hs256Raw,
  ISSUER,
  internalClaims,
  JwksServer,
  nowSeconds,
  SERVICE,
  type SigningKey,
  signInternal,
  signingKey,
} from './test-fixtures.ts'
import { createVerifier, type Verifier } from './verifier.ts'

const TYP = 'gatehouse-internal+jwt'
/** The order n of the P-256 group: r = s = n is another invalid-signature shape. */
const P256_ORDER = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex')

interface Case {
  readonly name: string
  readonly token: unknown
  readonly code: VerificationErrorCode
  readonly claim?: string
  /** Verify with a verifier accepting ES256 only. */
  readonly esOnly?: true
}

function withSegment(token: string, index: number, value: string): string {
  const parts = token.split('.')
  parts[index] = value
  return parts.join('.')
}

const publicPem = (key: SigningKey): string =>
  createPublicKey(KeyObject.from(key.privateKey)).export({ format: 'pem', type: 'spki' }).toString()

function without(claims: JWTPayload, ...names: string[]): JWTPayload {
  const copy = { ...claims }
  for (const name of names) delete copy[name]
  return copy
}

async function corpus(jwks: JwksServer): Promise<Case[]> {
  const es = jwks.keys.get('es-1')!
  const rsa = jwks.keys.get('rsa-1')!
  const attacker = await signingKey('es-1')
  const claims = internalClaims()
  const claimsText = JSON.stringify(claims)
  const good = await jwks.sign('es-1', claims)
  const [goodHeader, goodPayload, goodSignature] = good.split('.') as [string, string, string]
  const header = (more: object = {}) => JSON.stringify({ alg: 'ES256', typ: TYP, kid: 'es-1', ...more })
  const unsigned = (h: object) => `${b64url(h)}.${goodPayload}.`
  const signed = (more: Record<string, unknown>) => jwks.sign('es-1', internalClaims(more))
  const now = nowSeconds()
  const standard = Buffer.from(goodSignature, 'base64url').toString('base64').replace(/=+$/, '')
  const standardBase64 = /[+/]/.test(standard) ? standard : `+${standard.slice(1)}`

  return [
    // alg none and algorithm confusion (CVE-2015-9235, CVE-2016-10555, CVE-2022-23541, CVE-2023-48223 shapes)
    {
      name: 'alg none',
      token: unsigned({ alg: 'none', typ: TYP, kid: 'es-1' }),
      code: 'GH_SDK_ALG_NOT_ALLOWED',
    },
    {
      name: 'alg NONE',
      token: unsigned({ alg: 'NONE', typ: TYP, kid: 'es-1' }),
      code: 'GH_SDK_ALG_NOT_ALLOWED',
    },
    {
      name: 'alg none keeping the ES256 signature',
      token: withSegment(good, 0, b64url({ alg: 'none', typ: TYP, kid: 'es-1' })),
      code: 'GH_SDK_ALG_NOT_ALLOWED',
    },
    {
      name: 'HS256 keyed with the EC public key as PEM',
      token: hs256Raw({ alg: 'HS256', typ: TYP, kid: 'es-1' }, claims, publicPem(es)),
      code: 'GH_SDK_ALG_NOT_ALLOWED',
    },
    {
      name: 'HS256 keyed with the EC public key as JWK JSON',
      token: hs256Raw({ alg: 'HS256', typ: TYP, kid: 'es-1' }, claims, JSON.stringify(es.publicJwk)),
      code: 'GH_SDK_ALG_NOT_ALLOWED',
    },
    {
      name: 'HS256 keyed with the RSA public key as PEM',
      token: hs256Raw({ alg: 'HS256', typ: TYP, kid: 'rsa-1' }, claims, publicPem(rsa)),
      code: 'GH_SDK_ALG_NOT_ALLOWED',
    },
    {
      name: 'HS256 keyed with the RSA public key as JWK JSON',
      token: hs256Raw({ alg: 'HS256', typ: TYP, kid: 'rsa-1' }, claims, JSON.stringify(rsa.publicJwk)),
      code: 'GH_SDK_ALG_NOT_ALLOWED',
    },
    {
      name: 'RS256 validly signed by a published key when only ES256 is allowed',
      token: await jwks.sign('rsa-1', claims),
      code: 'GH_SDK_ALG_NOT_ALLOWED',
      esOnly: true,
    },
    {
      name: 'RS256 validly signed by a published key under the default algorithms',
      token: await jwks.sign('rsa-1', claims),
      code: 'GH_SDK_ALG_NOT_ALLOWED',
    },
    {
      name: 'EdDSA validly signed when only ES256 is allowed',
      token: await jwks.sign('ed-1', claims),
      code: 'GH_SDK_ALG_NOT_ALLOWED',
      esOnly: true,
    },
    {
      name: 'no alg',
      token: es256Raw(JSON.stringify({ typ: TYP, kid: 'es-1' }), claimsText, es),
      code: 'GH_SDK_TOKEN_MALFORMED',
    },
    // keys: a kid is a lookup key only; keys offered by the token are never used (RFC 8725 §3.10, CVE-2018-0114)
    {
      name: 'unknown kid',
      token: await signInternal(attacker, claims, { kid: 'nope' }),
      code: 'GH_SDK_KEY_UNKNOWN',
    },
    {
      name: 'no kid',
      token: await jwks.sign('es-1', claims, { kid: undefined }),
      code: 'GH_SDK_KEY_UNKNOWN',
      claim: 'kid',
    },
    {
      name: 'empty kid',
      token: await jwks.sign('es-1', claims, { kid: '' }),
      code: 'GH_SDK_KEY_UNKNOWN',
      claim: 'kid',
    },
    {
      name: 'kid path traversal',
      token: await signInternal(attacker, claims, { kid: '../../../../dev/null' }),
      code: 'GH_SDK_KEY_UNKNOWN',
    },
    {
      name: 'a known kid, signed by a key not in the JWKS',
      token: await signInternal(attacker, claims),
      code: 'GH_SDK_SIGNATURE_INVALID',
    },
    {
      name: 'ES256 token naming the EdDSA key',
      token: await signInternal(es, claims, { kid: 'ed-1' }),
      code: 'GH_SDK_KEY_UNKNOWN',
    },
    {
      name: 'jku pointing at an attacker JWKS',
      token: await signInternal(attacker, claims, { jku: 'https://evil.example/jwks.json', kid: 'evil' }),
      code: 'GH_SDK_KEY_UNKNOWN',
    },
    {
      name: 'jku with a trusted kid, signed by the attacker',
      token: await signInternal(attacker, claims, { jku: 'https://evil.example/jwks.json' }),
      code: 'GH_SDK_SIGNATURE_INVALID',
    },
    {
      name: 'embedded jwk of the attacker key with a trusted kid',
      token: await signInternal(attacker, claims, { jwk: attacker.publicJwk }),
      code: 'GH_SDK_SIGNATURE_INVALID',
    },
    {
      name: 'embedded jwk of the attacker key and no kid',
      token: await signInternal(attacker, claims, { jwk: attacker.publicJwk, kid: undefined }),
      code: 'GH_SDK_KEY_UNKNOWN',
    },
    {
      name: 'embedded x5c',
      token: await signInternal(attacker, claims, {
        x5c: [Buffer.from('not a certificate').toString('base64')],
      }),
      code: 'GH_SDK_SIGNATURE_INVALID',
    },
    // JWS extensions jose refuses
    {
      name: 'unknown crit, validly signed',
      token: es256Raw(header({ crit: ['exp-ext'], 'exp-ext': 1 }), claimsText, es),
      code: 'GH_SDK_TOKEN_MALFORMED',
    },
    {
      name: 'empty crit, validly signed',
      token: es256Raw(header({ crit: [] }), claimsText, es),
      code: 'GH_SDK_TOKEN_MALFORMED',
    },
    {
      name: 'b64=false, validly signed',
      token: es256Raw(header({ b64: false, crit: ['b64'] }), claimsText, es),
      code: 'GH_SDK_TOKEN_MALFORMED',
    },
    // token type confusion (RFC 8725 §3.11, 3.12)
    {
      name: 'an access token (typ at+jwt)',
      token: await jwks.sign('es-1', claims, { typ: 'at+jwt' }),
      code: 'GH_SDK_TYPE_INVALID',
      claim: 'typ',
    },
    {
      name: 'an ID token (typ JWT)',
      token: await jwks.sign('es-1', claims, { typ: 'JWT' }),
      code: 'GH_SDK_TYPE_INVALID',
    },
    {
      name: 'no typ',
      token: await jwks.sign('es-1', claims, { typ: undefined }),
      code: 'GH_SDK_TYPE_INVALID',
    },
    {
      name: 'a DPoP proof type',
      token: await jwks.sign('es-1', claims, { typ: 'dpop+jwt' }),
      code: 'GH_SDK_TYPE_INVALID',
    },
    {
      name: 'an ID-token-shaped token (aud a client id, nonce, no typ)',
      token: await jwks.sign('es-1', { ...claims, aud: 'shop-web', nonce: 'n-1' }, { typ: undefined }),
      code: 'GH_SDK_TYPE_INVALID',
    },
    // time
    { name: 'expired', token: await signed({ exp: now - 60 }), code: 'GH_SDK_EXPIRED' },
    { name: 'nbf in the future', token: await signed({ nbf: now + 600 }), code: 'GH_SDK_NOT_YET_VALID' },
    {
      name: 'iat in the future',
      token: await signed({ iat: now + 600, nbf: now - 1 }),
      code: 'GH_SDK_ISSUED_IN_FUTURE',
    },
    {
      name: 'too old (iat an hour ago, exp ahead)',
      token: await signed({ iat: now - 3600, nbf: now - 3600 }),
      code: 'GH_SDK_TOO_OLD',
    },
    {
      name: 'no exp',
      token: await jwks.sign('es-1', without(claims, 'exp')),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'exp',
    },
    {
      name: 'no iat',
      token: await jwks.sign('es-1', without(claims, 'iat')),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'iat',
    },
    {
      name: 'exp a string',
      token: es256Raw(header(), JSON.stringify({ ...claims, exp: String(claims.exp) }), es),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'exp',
    },
    // issuer and audience (RFC 8725 §3.8, 3.9; CVE-2025-30144, CVE-2020-26160 shapes)
    {
      name: 'another issuer',
      token: await signed({ iss: 'https://evil.test' }),
      code: 'GH_SDK_ISSUER_INVALID',
      claim: 'iss',
    },
    {
      name: 'the issuer with a trailing slash',
      token: await signed({ iss: `${ISSUER}/` }),
      code: 'GH_SDK_ISSUER_INVALID',
    },
    {
      name: 'iss an array naming the issuer',
      token: await signed({ iss: [ISSUER] }),
      code: 'GH_SDK_ISSUER_INVALID',
    },
    {
      name: 'no iss',
      token: await jwks.sign('es-1', without(claims, 'iss')),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'iss',
    },
    {
      name: 'another audience',
      token: await signed({ aud: ['billing'] }),
      code: 'GH_SDK_AUDIENCE_INVALID',
      claim: 'aud',
    },
    { name: 'an empty audience', token: await signed({ aud: [] }), code: 'GH_SDK_AUDIENCE_INVALID' },
    {
      name: 'aud a string, not an array',
      token: await signed({ aud: SERVICE }),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'aud',
    },
    {
      name: 'aud an array holding a number',
      token: await signed({ aud: [SERVICE, 7] }),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'aud',
    },
    // the claims contract
    {
      name: 'no sub',
      token: await jwks.sign('es-1', without(claims, 'sub')),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'sub',
    },
    {
      name: 'sub an object',
      token: await signed({ sub: { id: 'admin' } }),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'sub',
    },
    {
      name: 'sub only through __proto__',
      token: es256Raw(header(), claimsText.replace('"sub":', '"__proto__":{"sub":"admin"},"x":'), es),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'sub',
    },
    {
      name: 'no jti',
      token: await jwks.sign('es-1', without(claims, 'jti')),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'jti',
    },
    {
      name: 'sub_type admin',
      token: await signed({ sub_type: 'admin' }),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'sub_type',
    },
    {
      name: 'no sub_type',
      token: await jwks.sign('es-1', without(claims, 'sub_type')),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'sub_type',
    },
    {
      name: 'scope an array',
      token: await signed({ scope: ['orders:read'] }),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'scope',
    },
    {
      name: 'roles a string',
      token: await signed({ roles: 'admin' }),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'roles',
    },
    {
      name: 'consumer without an id',
      token: await signed({ consumer: { username: 'x' } }),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'consumer',
    },
    {
      name: 'no auth',
      token: await jwks.sign('es-1', without(claims, 'auth')),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'auth',
    },
    {
      name: 'client_id null',
      token: await signed({ client_id: null }),
      code: 'GH_SDK_CLAIM_INVALID',
      claim: 'client_id',
    },
    // signatures (CVE-2022-21449 "psychic signatures" and friends)
    {
      name: 'ES256 signature of 64 zero bytes (r = s = 0)',
      token: withSegment(good, 2, b64url(new Uint8Array(64))),
      code: 'GH_SDK_SIGNATURE_INVALID',
    },
    {
      name: 'ES256 signature with r = s = n',
      token: withSegment(good, 2, b64url(Buffer.concat([P256_ORDER, P256_ORDER]))),
      code: 'GH_SDK_SIGNATURE_INVALID',
    },
    { name: 'signature stripped', token: withSegment(good, 2, ''), code: 'GH_SDK_SIGNATURE_INVALID' },
    {
      name: 'tampered payload with the original signature',
      token: withSegment(good, 1, b64url({ ...claims, sub: 'admin' })),
      code: 'GH_SDK_SIGNATURE_INVALID',
    },
    // duplicate members (RFC 8725 §2.6)
    {
      name: 'duplicate sub claim, validly signed',
      token: es256Raw(header(), `${claimsText.slice(0, -1)},"sub":"admin"}`, es),
      code: 'GH_SDK_TOKEN_MALFORMED',
    },
    {
      name: 'duplicate sub claim spelled with an escape, validly signed',
      token: es256Raw(header(), `${claimsText.slice(0, -1)},"\\u0073ub":"admin"}`, es),
      code: 'GH_SDK_TOKEN_MALFORMED',
    },
    {
      name: 'duplicate alg header, validly signed',
      token: es256Raw(`${header().slice(0, -1)},"alg":"ES256"}`, claimsText, es),
      code: 'GH_SDK_TOKEN_MALFORMED',
    },
    // size
    {
      name: 'one character over the 8192 cap',
      token: `${good}${'A'.repeat(8192 - good.length + 1)}`,
      code: 'GH_SDK_TOKEN_TOO_LONG',
    },
    {
      name: 'a 1 MB validly signed token',
      token: await signed({ pad: 'x'.repeat(750_000) }),
      code: 'GH_SDK_TOKEN_TOO_LONG',
    },
    // garbage
    { name: 'an empty string', token: '', code: 'GH_SDK_TOKEN_MISSING' },
    { name: 'undefined', token: undefined, code: 'GH_SDK_TOKEN_MISSING' },
    { name: 'a number', token: 42, code: 'GH_SDK_TOKEN_MALFORMED' },
    { name: 'an object', token: { toString: () => good }, code: 'GH_SDK_TOKEN_MALFORMED' },
    { name: 'garbage', token: 'garbage', code: 'GH_SDK_TOKEN_MALFORMED' },
    { name: 'two segments', token: `${goodHeader}.${goodPayload}`, code: 'GH_SDK_TOKEN_MALFORMED' },
    { name: 'four segments', token: `${good}.${goodPayload}`, code: 'GH_SDK_TOKEN_MALFORMED' },
    {
      name: 'five segments, JWE-shaped',
      token: `${goodHeader}..${goodPayload}.${goodPayload}.x`,
      code: 'GH_SDK_TOKEN_MALFORMED',
    },
    { name: 'empty segments', token: '..', code: 'GH_SDK_TOKEN_MALFORMED' },
    { name: 'the Bearer prefix left on', token: `Bearer ${good}`, code: 'GH_SDK_TOKEN_MALFORMED' },
    { name: 'a newline inside', token: good.replace('.', '.\n'), code: 'GH_SDK_TOKEN_MALFORMED' },
    {
      name: 'padding on the header',
      token: withSegment(good, 0, `${goodHeader}=`),
      code: 'GH_SDK_TOKEN_MALFORMED',
    },
    {
      name: 'signature in standard base64 (+/)',
      token: withSegment(good, 2, standardBase64),
      code: 'GH_SDK_TOKEN_MALFORMED',
    },
    { name: 'a.b.c', token: 'a.b.c', code: 'GH_SDK_TOKEN_MALFORMED' },
    {
      name: 'header a JSON array',
      token: es256Raw('["ES256"]', claimsText, es),
      code: 'GH_SDK_TOKEN_MALFORMED',
    },
    { name: 'payload not JSON', token: es256Raw(header(), 'hello', es), code: 'GH_SDK_TOKEN_MALFORMED' },
    { name: 'payload null', token: es256Raw(header(), 'null', es), code: 'GH_SDK_TOKEN_MALFORMED' },
    {
      name: 'invalid UTF-8 in the payload, validly signed',
      token: es256Raw(header(), new Uint8Array([0x7b, 0xff, 0x7d]), es),
      code: 'GH_SDK_TOKEN_MALFORMED',
    },
  ]
}

describe('hostile internal tokens', () => {
  let jwks: JwksServer
  let cases: Case[] = []
  let verifier: Verifier
  let esOnly: Verifier

  before(async () => {
    jwks = await JwksServer.start([
      await signingKey('es-1', 'ES256'),
      await signingKey('ed-1', 'EdDSA'),
      await signingKey('rsa-1', 'RS256'),
    ])
    cases = await corpus(jwks)
    verifier = createVerifier({ issuer: ISSUER, audience: SERVICE, jwksUrl: jwks.url })
    esOnly = createVerifier({ issuer: ISSUER, audience: SERVICE, jwksUrl: jwks.url, algorithms: ['ES256'] })
  })
  after(() => jwks.stop())

  it('refuses every token of the corpus with its exact code, as a VerificationError that does not echo it', async () => {
    assert.ok(cases.length >= 70, `only ${cases.length} cases`)
    const failures: string[] = []
    for (const c of cases) {
      try {
        await (c.esOnly ? esOnly : verifier).verify(c.token as string)
        failures.push(`${c.name}: accepted`)
      } catch (err) {
        if (!(err instanceof VerificationError)) {
          failures.push(`${c.name}: threw ${String(err)}`)
          continue
        }
        const problems = []
        if (err.code !== c.code) problems.push(`code ${err.code}, expected ${c.code}`)
        if (err.status !== 401) problems.push(`status ${err.status}`)
        if (c.claim !== undefined && err.claim !== c.claim)
          problems.push(`claim ${err.claim}, expected ${c.claim}`)
        if (typeof c.token === 'string' && c.token.length > 8 && err.message.includes(c.token))
          problems.push('the message holds the token')
        if (problems.length > 0) failures.push(`${c.name}: ${problems.join('; ')}`)
      }
    }
    assert.deepEqual(failures, [])
  })

  it('still accepts a good token afterwards, having fetched the JWKS at most twice', async () => {
    const identity = await verifier.verify(await jwks.sign('es-1'))
    assert.equal(identity.subject, 'user-123')
    assert.ok(jwks.fetches >= 1 && jwks.fetches <= 2, `the JWKS was fetched ${jwks.fetches} times`)
  })

  it('refuses an ES256 token minted for another audience even with every other claim right', async () => {
    const token = await jwks.sign('es-1', internalClaims({ aud: ['billing', 'pricing'] }))
    await assert.rejects(verifier.verify(token), { code: 'GH_SDK_AUDIENCE_INVALID', status: 401 })
    const billing = createVerifier({ issuer: ISSUER, audience: 'billing', jwksUrl: jwks.url })
    assert.equal((await billing.verify(token)).subject, 'user-123')
  })
})
