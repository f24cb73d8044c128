/**
 * Hostile tokens (iam.md §4.3 and the CVE shapes of §5) sent to a real gateway guarding a route with the
 * openid-connect plugin: each must get a 401 invalid_token with its fixed description — never a 500, never
 * the upstream — and afterwards the process must still serve a valid token, have logged no error, have
 * asked the issuer for its keys at most twice, and never have written a token to its logs.
 */
import assert from 'node:assert/strict'
import { createPublicKey, KeyObject, sign as nodeSign } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { rawRequest } from '../../../test/harness/http.ts'
import { startUpstream, type Upstream } from '../../../test/harness/upstream.ts'
import { MAX_TOKEN_LENGTH } from './access-tokens.ts'
import {
  accessClaims,
  b64url,
  DPOP_ALGS,
  hs256Raw,
  type SigningKey,
  signingKey,
  signWith,
  TestIssuer,
} from './test-fixtures.ts'

const AUD = 'https://api.shop.example'
const MALFORMED = 'The access token is malformed'
const ALG = 'The access token is signed with an algorithm this resource does not accept'
const UNKNOWN_KEY = 'The access token is signed with an unknown key'
const BAD_SIGNATURE = 'The access token signature is invalid'
const BAD_KID = 'The access token has an invalid kid header'
const UNKNOWN_ISSUER = 'The access token is from an issuer this resource does not trust'
/** The order n of the P-256 group: r = s = n is another invalid-signature shape. */
const P256_ORDER = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex')

interface Case {
  readonly name: string
  readonly token: string
  readonly description: string
}

function withSegment(token: string, index: number, value: string): string {
  const parts = token.split('.')
  parts[index] = value
  return parts.join('.')
}

/** ES256 over exactly these header and payload texts (or bytes), so jose's refusals to sign are bypassed. */
function es256Raw(header: string, payload: string | Buffer, key: SigningKey, der = false): string {
  const input = `${b64url(header)}.${b64url(typeof payload === 'string' ? payload : new Uint8Array(payload))}`
  const signature = nodeSign('sha256', Buffer.from(input), {
    key: KeyObject.from(key.privateKey),
    dsaEncoding: der ? 'der' : 'ieee-p1363',
  })
  return `${input}.${signature.toString('base64url')}`
}

async function corpus(issuer: TestIssuer): Promise<Case[]> {
  const ec = issuer.keys.get('ec-1')!
  const rsa = issuer.keys.get('rsa-1')!
  const attacker = await signingKey('ec-1')
  const claims = accessClaims(issuer.url, AUD)
  const claimsText = JSON.stringify(claims)
  const good = await issuer.sign('ec-1', claims)
  const [goodHeader, goodPayload] = good.split('.') as [string, string, string]
  const goodSignature = Buffer.from(good.split('.')[2]!, 'base64url')
  const header = (more: object) => JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'ec-1', ...more })
  const unsigned = (h: object) => `${b64url(h)}.${goodPayload}.`
  const rsaModulus = rsa.publicJwk.n!
  const attackerJwk = attacker.publicJwk
  const standardBase64 = goodSignature.toString('base64').replace(/=+$/, '')
  const atHeader = { typ: 'at+jwt', kid: 'rsa-1' }

  return [
    // alg none and its spellings (CVE-2015-9235 shape)
    { name: 'alg none', token: unsigned({ alg: 'none', typ: 'at+jwt', kid: 'ec-1' }), description: ALG },
    { name: 'alg NONE', token: unsigned({ alg: 'NONE', typ: 'at+jwt', kid: 'ec-1' }), description: ALG },
    { name: 'alg None', token: unsigned({ alg: 'None', typ: 'at+jwt', kid: 'ec-1' }), description: ALG },
    {
      name: 'alg none keeping the ES256 signature',
      token: withSegment(good, 0, b64url({ alg: 'none', typ: 'at+jwt', kid: 'ec-1' })),
      description: ALG,
    },
    {
      name: 'alg as an array',
      token: es256Raw('{"alg":["ES256"],"kid":"ec-1"}', claimsText, ec),
      description: ALG,
    },
    { name: 'alg null', token: es256Raw('{"alg":null,"kid":"ec-1"}', claimsText, ec), description: ALG },
    { name: 'no alg', token: es256Raw('{"kid":"ec-1","typ":"at+jwt"}', claimsText, ec), description: ALG },
    // algorithm confusion: HS256 keyed with the issuer's public key (CVE-2016-10555, CVE-2023-48223 shapes)
    {
      name: 'HS256 keyed with the RSA public key (PEM) under the RSA kid',
      token: hs256Raw({ alg: 'HS256', ...atHeader }, claims, publicPem(rsa)),
      description: ALG,
    },
    {
      name: 'HS256 keyed with the RSA public JWK text',
      token: hs256Raw({ alg: 'HS256', ...atHeader }, claims, JSON.stringify(rsa.publicJwk)),
      description: ALG,
    },
    {
      name: 'HS256 keyed with the RSA modulus',
      token: hs256Raw({ alg: 'HS256', ...atHeader }, claims, rsaModulus),
      description: ALG,
    },
    {
      name: 'HS256 keyed with the EC public JWK text',
      token: hs256Raw({ alg: 'HS256', typ: 'at+jwt', kid: 'ec-1' }, claims, JSON.stringify(ec.publicJwk)),
      description: ALG,
    },
    {
      name: 'an algorithm the route does not accept (PS256 over an RSA key)',
      token: withSegment(await issuer.sign('rsa-1', claims), 0, b64url({ alg: 'PS256', ...atHeader })),
      description: ALG,
    },
    // kid: a string when present, and only ever a lookup key (RFC 8725 §3.10)
    {
      name: 'no kid, signed by the attacker',
      token: await signWith(attacker, claims, { kid: undefined }),
      description: BAD_SIGNATURE,
    },
    { name: 'empty kid', token: await issuer.sign('ec-1', claims, { kid: '' }), description: BAD_KID },
    { name: 'kid a number', token: es256Raw(header({ kid: 1 }), claimsText, ec), description: BAD_KID },
    {
      name: 'kid an object',
      token: es256Raw(header({ kid: { a: 1 } }), claimsText, ec),
      description: BAD_KID,
    },
    {
      name: 'kid path traversal',
      token: await signWith(attacker, claims, { kid: '../../../../dev/null' }),
      description: UNKNOWN_KEY,
    },
    {
      name: 'kid SQL injection',
      token: await signWith(attacker, claims, { kid: "x' UNION SELECT 'k'--" }),
      description: UNKNOWN_KEY,
    },
    {
      name: 'ES256 token naming the RSA kid',
      token: await signWith(ec, claims, { kid: 'rsa-1' }),
      description: UNKNOWN_KEY,
    },
    // keys offered by the token itself are never used (CVE-2018-0114 shape)
    {
      name: 'jku pointing at an attacker JWKS',
      token: await signWith(attacker, claims, { jku: 'https://evil.example/jwks.json', kid: 'evil' }),
      description: UNKNOWN_KEY,
    },
    {
      name: 'jku with a trusted kid, signed by the attacker',
      token: await signWith(attacker, claims, { jku: 'https://evil.example/jwks.json' }),
      description: BAD_SIGNATURE,
    },
    {
      name: 'x5u pointing at an attacker certificate',
      token: await signWith(attacker, claims, { x5u: 'https://evil.example/cert.pem' }),
      description: BAD_SIGNATURE,
    },
    {
      name: 'embedded jwk of the attacker key',
      token: await signWith(attacker, claims, { jwk: attackerJwk }),
      description: BAD_SIGNATURE,
    },
    {
      name: 'embedded x5c of the attacker key',
      token: await signWith(attacker, claims, { x5c: [Buffer.from('not a certificate').toString('base64')] }),
      description: BAD_SIGNATURE,
    },
    // JWS extensions
    {
      name: 'unknown crit, validly signed',
      token: es256Raw(header({ crit: ['exp-ext'], 'exp-ext': 1 }), claimsText, ec),
      description: MALFORMED,
    },
    {
      name: 'empty crit, validly signed',
      token: es256Raw(header({ crit: [] }), claimsText, ec),
      description: MALFORMED,
    },
    {
      name: 'b64=false, validly signed',
      token: es256Raw(header({ b64: false, crit: ['b64'] }), claimsText, ec),
      description: MALFORMED,
    },
    // duplicate members: jose keeps the last, another reader the first (RFC 8725 §2.6)
    {
      name: 'duplicate sub claim, validly signed',
      token: es256Raw(header({}), `${claimsText.slice(0, -1)},"sub":"admin"}`, ec),
      description: MALFORMED,
    },
    {
      name: 'duplicate alg header, validly signed',
      token: es256Raw(`${header({}).slice(0, -1)},"alg":"ES256"}`, claimsText, ec),
      description: MALFORMED,
    },
    // encoding
    { name: 'empty segments', token: '..', description: MALFORMED },
    {
      name: 'padding on the header segment',
      token: withSegment(good, 0, `${goodHeader}=`),
      description: MALFORMED,
    },
    {
      name: 'signature in standard base64 (+/)',
      token: withSegment(
        good,
        2,
        /[+/]/.test(standardBase64) ? standardBase64 : `+${standardBase64.slice(1)}`,
      ),
      description: MALFORMED,
    },
    {
      name: 'junk characters in the payload',
      token: withSegment(good, 1, `${goodPayload}*!`),
      description: MALFORMED,
    },
    { name: 'a space inside the token', token: good.replace('.', '. '), description: MALFORMED },
    { name: 'two segments', token: good.split('.').slice(0, 2).join('.'), description: MALFORMED },
    { name: 'four segments', token: `${good}.${goodPayload}`, description: MALFORMED },
    {
      name: 'five segments, JWE-shaped',
      token: `${goodHeader}..${goodPayload}.${goodPayload}.x`,
      description: MALFORMED,
    },
    {
      name: `one character over the ${MAX_TOKEN_LENGTH}-character cap`,
      token: `${good}${'A'.repeat(MAX_TOKEN_LENGTH - good.length + 1)}`,
      description: 'The access token is too long',
    },
    {
      name: 'a 1 MB validly signed token',
      token: await issuer.sign('ec-1', { ...claims, pad: 'x'.repeat(750_000) }),
      description: 'The access token is too long',
    },
    // JSON that is not one object, or not UTF-8
    {
      name: 'header not JSON',
      token: `${b64url('not-json')}.${goodPayload}.${good.split('.')[2]}`,
      description: MALFORMED,
    },
    { name: 'header a JSON array', token: es256Raw('["ES256"]', claimsText, ec), description: MALFORMED },
    { name: 'payload not JSON', token: es256Raw(header({}), 'hello', ec), description: MALFORMED },
    { name: 'payload a JSON array', token: es256Raw(header({}), '[1,2]', ec), description: MALFORMED },
    { name: 'payload null', token: es256Raw(header({}), 'null', ec), description: MALFORMED },
    { name: 'payload a string', token: es256Raw(header({}), '"sub"', ec), description: MALFORMED },
    {
      name: 'invalid UTF-8 in the payload',
      token: es256Raw(header({}), Buffer.from([0x7b, 0xff, 0x7d]), ec),
      description: MALFORMED,
    },
    // claims of the wrong type, or only on the prototype
    {
      name: 'iss a number',
      token: es256Raw(header({}), JSON.stringify({ ...claims, iss: 1 }), ec),
      description: UNKNOWN_ISSUER,
    },
    {
      name: 'iss a list naming the issuer',
      token: es256Raw(header({}), JSON.stringify({ ...claims, iss: [issuer.url] }), ec),
      description: UNKNOWN_ISSUER,
    },
    {
      name: 'duplicate iss claim, validly signed',
      token: es256Raw(header({}), `${claimsText.slice(0, -1)},"iss":"https://evil.example"}`, ec),
      description: MALFORMED,
    },
    {
      name: 'cnf binding the token to an mTLS certificate this resource cannot check',
      token: await issuer.sign('ec-1', {
        ...claims,
        cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' },
      }),
      description: 'The access token is bound to a key in a way this resource cannot check (cnf)',
    },
    {
      name: 'cnf.jkt not a thumbprint',
      token: await issuer.sign('ec-1', { ...claims, cnf: { jkt: 42 } }),
      description: 'The access token has an invalid cnf claim',
    },
    {
      name: 'aud an object',
      token: es256Raw(header({}), JSON.stringify({ ...claims, aud: { [AUD]: true } }), ec),
      description: 'The access token is not meant for this resource',
    },
    {
      name: 'exp a string',
      token: es256Raw(header({}), JSON.stringify({ ...claims, exp: String(claims.exp) }), ec),
      description: 'The access token has an invalid exp claim',
    },
    {
      name: 'sub an object',
      token: es256Raw(header({}), JSON.stringify({ ...claims, sub: { id: 'admin' } }), ec),
      description: 'The access token has an invalid sub claim',
    },
    {
      name: 'sub with a line break (header injection)',
      token: es256Raw(header({}), JSON.stringify({ ...claims, sub: 'alice\r\nx-consumer-id: admin' }), ec),
      description: 'The access token has an invalid sub claim',
    },
    {
      name: 'sub only through __proto__',
      token: es256Raw(header({}), claimsText.replace('"sub":', '"__proto__":{"sub":"admin"},"x":'), ec),
      description: 'The access token lacks a required sub claim',
    },
    // signatures (CVE-2022-21449 "psychic signatures" and friends)
    {
      name: 'ES256 signature of 64 zero bytes (r = s = 0)',
      token: withSegment(good, 2, b64url(new Uint8Array(64))),
      description: BAD_SIGNATURE,
    },
    {
      name: 'ES256 signature with r = s = n',
      token: withSegment(good, 2, b64url(Buffer.concat([P256_ORDER, P256_ORDER]))),
      description: BAD_SIGNATURE,
    },
    {
      name: 'ES256 signature in DER instead of r‖s',
      token: es256Raw(header({}), claimsText, ec, true),
      description: BAD_SIGNATURE,
    },
    {
      name: 'ES256 signature one byte short',
      token: withSegment(good, 2, b64url(goodSignature.subarray(0, 63))),
      description: BAD_SIGNATURE,
    },
    { name: 'signature stripped', token: withSegment(good, 2, ''), description: BAD_SIGNATURE },
    {
      name: 'tampered payload with the original signature',
      token: withSegment(good, 1, b64url({ ...claims, sub: 'admin' })),
      description: BAD_SIGNATURE,
    },
    {
      name: 'tampered header with the original signature',
      token: withSegment(good, 0, b64url({ alg: 'ES256', typ: 'at+jwt', kid: 'ec-1', x: 1 })),
      description: BAD_SIGNATURE,
    },
  ]
}

function publicPem(key: SigningKey): string {
  return createPublicKey(KeyObject.from(key.privateKey)).export({ format: 'pem', type: 'spki' }).toString()
}

describe('hostile access tokens', () => {
  let upstream: Upstream
  let issuer: TestIssuer
  let gh: GatehouseProcess
  let cases: Case[] = []

  before(async () => {
    issuer = await TestIssuer.start([await signingKey('ec-1', 'ES256'), await signingKey('rsa-1', 'RS256')])
    cases = await corpus(issuer)
    upstream = await startUpstream()
    gh = await startGatehouse({
      // debug: refusal reasons are logged too, and must not carry tokens either
      env: { GATEHOUSE_LOG_LEVEL: 'debug' },
      config: {
        _format_version: '3.0',
        proxy: { max_header_size: 1_048_576 },
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              {
                name: 'api',
                paths: ['/api'],
                plugins: [
                  {
                    name: 'openid-connect',
                    config: { issuer: issuer.url, audience: AUD, verbose_errors: true },
                  },
                ],
              },
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

  it('refuses every token of the corpus with a 401 invalid_token and its fixed description', async () => {
    assert.ok(cases.length >= 50, `only ${cases.length} cases`)
    const failures: string[] = []
    for (const c of cases) {
      const res = await rawRequest(`${gh.proxyUrl}/api`, { headers: { authorization: `Bearer ${c.token}` } })
      const challenge = `Bearer realm="gatehouse", error="invalid_token", error_description="${c.description}", DPoP algs="${DPOP_ALGS}"`
      let body: unknown
      try {
        body = JSON.parse(res.body)
      } catch {
        body = res.body
      }
      const expected = { error: 'invalid_token', error_description: c.description }
      // RFC 6750's members (and the reason: verbose_errors), then the gateway's (docs/errors.md).
      const { error, error_description, reason, code } = (body ?? {}) as Record<string, unknown>
      if (
        res.status !== 401 ||
        res.headers['www-authenticate'] !== challenge ||
        !isDeepEqual({ error, error_description }, expected) ||
        typeof reason !== 'string' ||
        typeof code !== 'string' ||
        res.headers['x-gatehouse-error'] !== code
      )
        failures.push(`${c.name}: ${res.status} ${res.body.slice(0, 200)} (expected 401 ${c.description})`)
    }
    assert.deepEqual(failures, [])
    assert.equal(upstream.requests.length, 0)
  })

  it('still serves a valid token afterwards, asked the issuer for keys at most twice, and logged no error and no token', async () => {
    const token = await issuer.sign('ec-1', accessClaims(issuer.url, AUD))
    const res = await rawRequest(`${gh.proxyUrl}/api`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.status, 200, res.body)
    assert.equal(issuer.served.discovery, 1)
    assert.ok(issuer.served.jwks <= 2, `the JWKS was fetched ${issuer.served.jwks} times`)
    await gh.waitForLog((l) => l.type === 'access' && l.status === 200)
    assert.equal(gh.child.exitCode, null)
    assert.deepEqual(
      gh.lines.filter((l) => l.level === 'error' || l.level === 'fatal' || l.level === 'warn'),
      [],
    )
    assert.equal(gh.stderr, '')
    assert.ok(
      gh.lines.some((l) => l.msg === 'openid-connect refused the request'),
      'refusals are logged at debug',
    )
    const logged = gh.stdout
    const leaked = [...cases.map((c) => c.token), token].filter((t) => t.length >= 16 && logged.includes(t))
    assert.deepEqual(leaked, [])
    for (const segment of token.split('.')) assert.ok(!logged.includes(segment))
  })
})

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepEqual(a, b)
    return true
  } catch {
    return false
  }
}
