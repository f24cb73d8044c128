/**
 * A corpus of hostile tokens (iam.md §4.3 and CVE shapes from §5) sent to a real gateway: each must be
 * refused with a 401 and a fixed message, never a 500, and afterwards the process must still serve a
 * valid token, have logged no error, and never have written a token to its logs.
 */
import assert from 'node:assert/strict'
import { createHmac, generateKeyPairSync } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { rawRequest } from '../../../test/harness/http.ts'
import { startUpstream, type Upstream } from '../../../test/harness/upstream.ts'
import {
  b64url,
  es256DerSignature,
  hs256Raw,
  nowSeconds,
  P256,
  P521,
  RSA,
  randomSecret,
  signToken,
} from './test-fixtures.ts'
import { MAX_TOKEN_LENGTH } from './verify-token.ts'

const SECRET = randomSecret()
const ATTACKER = generateKeyPairSync('ec', { namedCurve: 'P-256' })
/** The order n of the P-256 group: r = s = n is another invalid-signature shape. */
const P256_ORDER = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex')

const INVALID_JSON = 'Bad token; invalid JSON'
const INVALID_ALG = 'Bad token; invalid alg'
const BAD_SIGNATURE = 'Invalid signature'
const SIGNATURE_ENCODING = 'Bad token; invalid signature'
const NO_CREDENTIAL_KID = "No credentials found for given 'kid'"

interface Case {
  readonly name: string
  readonly token: string
  readonly message: string
  /** Route; default /api (key claim iss). */
  readonly path?: string
  /** Send in the query string (percent-encoded) instead of the Authorization header. */
  readonly inQuery?: boolean
}

/** Replaces one segment of a compact token. */
function withSegment(token: string, index: number, value: string): string {
  const parts = token.split('.')
  parts[index] = value
  return parts.join('.')
}

function signatureBytes(token: string): Buffer {
  return Buffer.from(token.split('.')[2]!, 'base64url')
}

async function corpus(): Promise<Case[]> {
  const claims = { iss: 'hs', sub: 'alice', exp: nowSeconds() + 600 }
  const hs = await signToken('HS256', SECRET, claims)
  const es = await signToken('ES256', P256.privateKey, { ...claims, iss: 'es' })
  const es512 = await signToken('ES512', P521.privateKey, { ...claims, iss: 'es512' })
  const ps = await signToken('PS256', RSA.privateKey, { ...claims, iss: 'ps' })
  const [hsHeader, hsPayload] = hs.split('.') as [string, string, string]
  const esInput = es.split('.').slice(0, 2).join('.')
  const attackerJwk = ATTACKER.publicKey.export({ format: 'jwk' })
  const rsaJwkText = JSON.stringify(RSA.publicKey.export({ format: 'jwk' }))
  const huge = await signToken('HS256', SECRET, { ...claims, pad: 'x'.repeat(750_000) })
  const none = (alg: string) => `${b64url({ alg, typ: 'JWT' })}.${hsPayload}.`
  const hsCrit = (header: string, payload = '{"iss":"hs"}') => hs256Raw(header, payload, SECRET)
  const b64FalseInput = `${b64url('{"alg":"HS256","b64":false,"crit":["b64"]}')}.{"iss":"hs"}`
  const standardBase64 = signatureBytes(hs).toString('base64').replace(/=+$/, '')

  const cases: Case[] = [
    // alg none and its spellings (CVE-2015-9235 shape)
    { name: 'alg none, empty signature', token: none('none'), message: INVALID_ALG },
    { name: 'alg NONE', token: none('NONE'), message: INVALID_ALG },
    { name: 'alg None', token: none('None'), message: INVALID_ALG },
    { name: 'alg nOnE', token: none('nOnE'), message: INVALID_ALG },
    {
      name: 'alg none keeping an old ES256 signature',
      token: withSegment(es, 0, b64url({ alg: 'none' })),
      message: INVALID_ALG,
    },
    { name: 'alg as an array', token: hsCrit('{"alg":["HS256"]}'), message: INVALID_ALG },
    { name: 'alg as an object', token: hsCrit('{"alg":{"HS256":true}}'), message: INVALID_ALG },
    { name: 'alg null', token: hsCrit('{"alg":null}'), message: INVALID_ALG },
    // algorithm confusion: HS256 keyed with the RSA public key (CVE-2016-10555, CVE-2023-48223 shapes)
    {
      name: 'HS256 signed with the RSA public key PEM, naming an RS256 credential',
      token: hs256Raw('{"alg":"HS256"}', '{"iss":"rs"}', RSA.publicPem),
      message: 'Invalid algorithm',
    },
    {
      name: 'HS256 signed with the RSA public JWK text, naming an RS256 credential',
      token: hs256Raw('{"alg":"HS256"}', '{"iss":"rs"}', rsaJwkText),
      message: 'Invalid algorithm',
    },
    // kid injection (RFC 8725 §3.10)
    {
      name: 'kid path traversal with an empty HMAC key',
      token: hs256Raw('{"alg":"HS256","kid":"../../../../dev/null"}', '{"sub":"x"}', ''),
      message: NO_CREDENTIAL_KID,
      path: '/kid',
    },
    {
      name: 'kid SQL injection',
      token: hs256Raw(`{"alg":"HS256","kid":"x' UNION SELECT 'k'--"}`, '{"sub":"x"}', 'k'),
      message: NO_CREDENTIAL_KID,
      path: '/kid',
    },
    // keys offered by the token itself are never used (CVE-2018-0114 shape)
    {
      name: 'jku pointing at an attacker JWKS, signed with the attacker key',
      token: await signToken(
        'ES256',
        ATTACKER.privateKey,
        { iss: 'es' },
        { jku: 'https://evil.example/jwks.json', kid: 'evil' },
      ),
      message: BAD_SIGNATURE,
    },
    {
      name: 'x5u pointing at an attacker certificate',
      token: await signToken(
        'ES256',
        ATTACKER.privateKey,
        { iss: 'es' },
        { x5u: 'https://evil.example/cert.pem' },
      ),
      message: BAD_SIGNATURE,
    },
    {
      name: 'embedded jwk of the attacker key',
      token: await signToken('ES256', ATTACKER.privateKey, { iss: 'es' }, { jwk: attackerJwk as never }),
      message: BAD_SIGNATURE,
    },
    {
      name: 'embedded x5c of the attacker key',
      token: await signToken(
        'ES256',
        ATTACKER.privateKey,
        { iss: 'es' },
        {
          x5c: [ATTACKER.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')],
        },
      ),
      message: BAD_SIGNATURE,
    },
    // JWS extensions
    {
      name: 'unknown crit, validly signed',
      token: hsCrit('{"alg":"HS256","crit":["exp-ext"],"exp-ext":1}'),
      message: 'Bad token; unsupported crit',
    },
    {
      name: 'empty crit, validly signed',
      token: hsCrit('{"alg":"HS256","crit":[]}'),
      message: 'Bad token; unsupported crit',
    },
    {
      name: 'b64=false with an encoded-looking payload',
      token: hsCrit('{"alg":"HS256","b64":false,"crit":["b64"]}'),
      message: 'Bad token; unsupported crit',
    },
    {
      name: 'b64=false with a raw JSON payload',
      token: `${b64FalseInput}.${createHmac('sha256', SECRET).update(b64FalseInput).digest('base64url')}`,
      message: INVALID_JSON,
    },
    // encoding
    { name: 'empty token segments', token: '..', message: INVALID_JSON },
    { name: 'empty header segment', token: withSegment(hs, 0, ''), message: INVALID_JSON },
    { name: 'empty payload segment', token: withSegment(hs, 1, ''), message: INVALID_JSON },
    {
      name: 'padding on the header segment',
      token: withSegment(hs, 0, `${hsHeader}=`),
      message: INVALID_JSON,
    },
    { name: 'padding on the signature', token: `${hs}=`, message: SIGNATURE_ENCODING },
    {
      name: 'signature in standard base64 (+/)',
      token: withSegment(hs, 2, /[+/]/.test(standardBase64) ? standardBase64 : `+${standardBase64.slice(1)}`),
      message: SIGNATURE_ENCODING,
    },
    {
      name: 'junk characters in the payload',
      token: withSegment(hs, 1, `${hsPayload}*!`),
      message: INVALID_JSON,
    },
    { name: 'a space inside the token', token: hs.replace('.', '. '), message: INVALID_JSON },
    {
      name: 'a newline inside the token (in the query)',
      token: hs.replace('.', '.\n'),
      message: INVALID_JSON,
      inQuery: true,
    },
    { name: 'two segments', token: hs.split('.').slice(0, 2).join('.'), message: INVALID_JSON },
    { name: 'four segments', token: `${hs}.${hsPayload}`, message: INVALID_JSON },
    {
      name: 'five segments, JWE-shaped',
      token: `${hsHeader}..${hsPayload}.${hsPayload}.x`,
      message: INVALID_JSON,
    },
    { name: 'a 1 MB token', token: huge, message: 'Bad token; too long' },
    {
      name: `one character over the ${MAX_TOKEN_LENGTH}-character cap`,
      token: `${hs}${'A'.repeat(MAX_TOKEN_LENGTH - hs.length + 1)}`,
      message: 'Bad token; too long',
    },
    { name: 'truncated signature', token: hs.slice(0, -8), message: BAD_SIGNATURE },
    { name: 'truncated inside the payload', token: hs.slice(0, hsHeader.length + 12), message: INVALID_JSON },
    // JSON that is not one object (Kong answers 500 to some of these: J25)
    { name: 'header not JSON', token: hsCrit('not-json'), message: INVALID_JSON },
    { name: 'payload not JSON', token: hs256Raw('{"alg":"HS256"}', 'hello', SECRET), message: INVALID_JSON },
    {
      name: 'payload a JSON array',
      token: hs256Raw('{"alg":"HS256"}', '[1,2]', SECRET),
      message: INVALID_JSON,
    },
    { name: 'payload null', token: hs256Raw('{"alg":"HS256"}', 'null', SECRET), message: INVALID_JSON },
    { name: 'payload a number', token: hs256Raw('{"alg":"HS256"}', '42', SECRET), message: INVALID_JSON },
    { name: 'payload a string', token: hs256Raw('{"alg":"HS256"}', '"hs"', SECRET), message: INVALID_JSON },
    {
      name: 'header a JSON array',
      token: hs256Raw('["HS256"]', '{"iss":"hs"}', SECRET),
      message: INVALID_JSON,
    },
    { name: 'header null', token: hs256Raw('null', '{"iss":"hs"}', SECRET), message: INVALID_JSON },
    { name: 'header a number', token: hs256Raw('7', '{"iss":"hs"}', SECRET), message: INVALID_JSON },
    // duplicate members: JSON.parse keeps the last, other parsers the first (RFC 8725 §2.6)
    {
      name: 'duplicate sub claim, validly signed',
      token: hs256Raw('{"alg":"HS256"}', '{"iss":"hs","sub":"alice","sub":"admin"}', SECRET),
      message: INVALID_JSON,
    },
    {
      name: 'duplicate iss claim, validly signed',
      token: hs256Raw('{"alg":"HS256"}', '{"iss":"nobody","iss":"hs"}', SECRET),
      message: INVALID_JSON,
    },
    {
      name: 'duplicate alg, none then HS256',
      token: hs256Raw('{"alg":"none","alg":"HS256"}', '{"iss":"hs"}', SECRET),
      message: INVALID_JSON,
    },
    {
      name: 'duplicate alg written with an escape',
      token: hs256Raw('{"alg":"HS256","\\u0061lg":"HS256"}', '{"iss":"hs"}', SECRET),
      message: INVALID_JSON,
    },
    {
      name: 'invalid UTF-8 in the payload',
      token: hs256Raw('{"alg":"HS256"}', Buffer.from([0x7b, 0xff, 0x7d]), SECRET),
      message: INVALID_JSON,
    },
    {
      name: 'a lone UTF-16 surrogate written as UTF-8 bytes',
      token: hs256Raw('{"alg":"HS256"}', Buffer.from('{"iss":"hs","x":"\xed\xa0\x80"}', 'latin1'), SECRET),
      message: INVALID_JSON,
    },
    // claims that are the wrong type or try to reach the prototype
    {
      name: 'iss as a number',
      token: hs256Raw('{"alg":"HS256"}', '{"iss":1}', SECRET),
      message: "Invalid 'iss' in claims",
    },
    {
      name: 'iss as an object',
      token: hs256Raw('{"alg":"HS256"}', '{"iss":{"hs":1}}', SECRET),
      message: "Invalid 'iss' in claims",
    },
    {
      name: 'iss as an array',
      token: hs256Raw('{"alg":"HS256"}', '{"iss":["hs"]}', SECRET),
      message: "Invalid 'iss' in claims",
    },
    {
      name: 'iss only through __proto__',
      token: hs256Raw('{"alg":"HS256"}', '{"__proto__":{"iss":"hs"}}', SECRET),
      message: "No mandatory 'iss' in claims",
    },
    // signatures (CVE-2022-21449 "psychic signatures" and friends)
    {
      name: 'ES256 signature of 64 zero bytes (r = s = 0)',
      token: withSegment(es, 2, b64url(new Uint8Array(64))),
      message: BAD_SIGNATURE,
    },
    {
      name: 'ES256 signature with r = s = n',
      token: withSegment(es, 2, b64url(Buffer.concat([P256_ORDER, P256_ORDER]))),
      message: BAD_SIGNATURE,
    },
    {
      name: 'ES256 signature in DER instead of r‖s',
      token: withSegment(es, 2, es256DerSignature(esInput, P256.privateKey)),
      message: BAD_SIGNATURE,
    },
    {
      name: 'ES256 signature one byte short',
      token: withSegment(es, 2, b64url(signatureBytes(es).subarray(0, 63))),
      message: BAD_SIGNATURE,
    },
    {
      name: 'ES256 signature one byte long',
      token: withSegment(es, 2, b64url(Buffer.concat([signatureBytes(es), Buffer.of(0)]))),
      message: BAD_SIGNATURE,
    },
    {
      name: 'ES512 signature of 131 bytes',
      token: withSegment(es512, 2, b64url(signatureBytes(es512).subarray(1))),
      message: BAD_SIGNATURE,
    },
    {
      name: 'PS256 signature of 255 bytes',
      token: withSegment(ps, 2, b64url(signatureBytes(ps).subarray(1))),
      message: BAD_SIGNATURE,
    },
    {
      name: 'PS256 signature of 512 bytes',
      token: withSegment(ps, 2, b64url(Buffer.concat([signatureBytes(ps), signatureBytes(ps)]))),
      message: BAD_SIGNATURE,
    },
    {
      name: 'RS-signed token presented for a PS256 credential',
      token: withSegment(
        await signToken('RS256', RSA.privateKey, { iss: 'ps' }),
        0,
        b64url({ alg: 'PS256' }),
      ),
      message: BAD_SIGNATURE,
    },
    {
      name: 'tampered payload with the original signature',
      token: withSegment(hs, 1, b64url({ ...claims, sub: 'admin' })),
      message: BAD_SIGNATURE,
    },
    { name: 'signature stripped', token: withSegment(hs, 2, ''), message: BAD_SIGNATURE },
    {
      name: 'a signature that is one base64url character',
      token: withSegment(hs, 2, 'A'),
      message: SIGNATURE_ENCODING,
    },
    {
      name: 'tampered header with the original signature',
      token: withSegment(hs, 0, b64url({ alg: 'HS256', kid: 'other' })),
      message: BAD_SIGNATURE,
    },
  ]
  return cases
}

describe('hostile tokens', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  let cases: Case[] = []

  before(async () => {
    cases = await corpus()
    upstream = await startUpstream()
    gh = await startGatehouse({
      // debug: the plugin's refusal reasons are logged too, and must not carry tokens either
      env: { GATEHOUSE_LOG_LEVEL: 'debug' },
      config: {
        _format_version: '3.0',
        proxy: { max_header_size: 1_048_576 },
        consumers: [
          {
            username: 'victim',
            jwt_secrets: [
              { key: 'hs', secret: SECRET },
              { key: 'rs', algorithm: 'RS256', rsa_public_key: RSA.publicPem },
              { key: 'ps', algorithm: 'PS256', rsa_public_key: RSA.publicPem },
              { key: 'es', algorithm: 'ES256', rsa_public_key: P256.publicPem },
              { key: 'es512', algorithm: 'ES512', rsa_public_key: P521.publicPem },
            ],
          },
        ],
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              { name: 'api', paths: ['/api'], plugins: [{ name: 'jwt' }] },
              { name: 'kid', paths: ['/kid'], plugins: [{ name: 'jwt', config: { key_claim_name: 'kid' } }] },
            ],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  it('refuses every token of the corpus with a 401 and its fixed message, and none reaches the upstream', async () => {
    assert.ok(cases.length >= 60, `only ${cases.length} cases`)
    const failures: string[] = []
    for (const c of cases) {
      const path = c.path ?? '/api'
      const res = c.inQuery
        ? await rawRequest(`${gh.proxyUrl}${path}?jwt=${encodeURIComponent(c.token)}`)
        : await rawRequest(gh.proxyUrl + path, { headers: { authorization: `Bearer ${c.token}` } })
      let message: unknown
      try {
        message = (JSON.parse(res.body) as { message?: unknown }).message
      } catch {
        message = undefined
      }
      if (res.status !== 401 || message !== c.message)
        failures.push(`${c.name}: ${res.status} ${res.body.slice(0, 200)} (expected 401 ${c.message})`)
    }
    assert.deepEqual(failures, [])
    assert.equal(upstream.requests.length, 0)
  })

  it('still serves a valid token after the corpus, and logged no error and no token', async () => {
    const token = await signToken('ES256', P256.privateKey, { iss: 'es', exp: nowSeconds() + 60 })
    const res = await rawRequest(`${gh.proxyUrl}/api`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.status, 200, res.body)
    await gh.waitForLog((l) => l.type === 'access' && l.status === 200)
    assert.equal(gh.child.exitCode, null)
    assert.deepEqual(
      gh.lines.filter((l) => l.level === 'error' || l.level === 'fatal'),
      [],
    )
    assert.equal(gh.stderr, '')
    assert.ok(
      gh.lines.some((l) => l.msg === 'jwt refused the token'),
      'the refusals are logged at debug',
    )
    const logged = gh.stdout
    const leaked = [...cases.map((c) => c.token), token].filter((t) => t.length >= 16 && logged.includes(t))
    assert.deepEqual(leaked, [])
    for (const segment of token.split('.')) assert.ok(!logged.includes(segment))
  })
})
