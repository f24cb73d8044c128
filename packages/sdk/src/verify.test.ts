/**
 * createVerifier with good tokens, the identity it returns, and the options it refuses at creation.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { ERROR_CODES, INTERNAL_TOKEN_TYPE, VerificationError } from './index.ts'
import type { VerifierOptions } from './options.ts'
import {
  ISSUER,
  internalClaims,
  JwksServer,
  nowSeconds,
  SERVICE,
  signInternal,
  signingKey,
} from './test-fixtures.ts'
import { createVerifier } from './verifier.ts'

describe('verifying internal tokens', () => {
  let jwks: JwksServer
  before(async () => {
    jwks = await JwksServer.start([await signingKey('es-1', 'ES256'), await signingKey('ed-1', 'EdDSA')])
  })
  after(() => jwks.stop())

  const verifier = () => createVerifier({ issuer: ISSUER, audience: SERVICE, jwksUrl: jwks.url })

  it('accepts an ES256 token and reads every identity field from it', async () => {
    const claims = internalClaims()
    const token = await jwks.sign('es-1', claims)
    const identity = await verifier().verify(token)
    assert.equal(identity.subject, 'user-123')
    assert.equal(identity.kind, 'user')
    assert.equal(identity.clientId, 'shop-web')
    assert.deepEqual(identity.scopes, ['orders:read', 'orders:write'])
    assert.deepEqual(identity.roles, ['customer', 'beta'])
    assert.deepEqual(identity.audience, [SERVICE, 'pricing'])
    assert.equal(identity.issuer, ISSUER)
    assert.equal(identity.issuedAt.getTime(), (claims.iat as number) * 1000)
    assert.equal(identity.expiresAt.getTime(), (claims.exp as number) * 1000)
    assert.equal(identity.tokenId, claims.jti)
    assert.equal(identity.requestId, 'req-abc-123')
    assert.equal(identity.authMethod, 'openid-connect')
    assert.equal(identity.authIssuer, 'https://idp.test')
    assert.deepEqual(identity.consumer, { id: 'c-42', username: 'alice', customId: 'crm-7' })
    assert.equal(identity.claims.email, 'alice@example.test')
    assert.equal(identity.claims.country, 'NL')
    assert.equal(identity.token, token)
    assert.equal(identity.acr, null)
    assert.deepEqual(identity.amr, [])
    assert.equal(identity.authTime, null)
    assert.equal(identity.hasAmr('mfa'), false)
  })

  it('reads how the person signed in (acr, amr, auth_time), and refuses those claims in other shapes', async () => {
    const authTime = Math.floor(Date.now() / 1000) - 30
    const claims = internalClaims({
      acr: 'urn:gatehouse:acr:2fa',
      amr: ['pwd', 'otp', 'mfa'],
      auth_time: authTime,
    })
    const identity = await verifier().verify(await jwks.sign('es-1', claims))
    assert.equal(identity.acr, 'urn:gatehouse:acr:2fa')
    assert.deepEqual(identity.amr, ['pwd', 'otp', 'mfa'])
    assert.equal(identity.authTime?.getTime(), authTime * 1000)
    assert.ok(identity.hasAmr('mfa', 'otp') && !identity.hasAmr('hwk'))
    assert.ok(identity.authenticatedWithin(600) && !identity.authenticatedWithin(10))
    for (const [claim, value] of [
      ['amr', 'mfa'],
      ['amr', ['pwd', 1]],
      ['auth_time', '1700000000'],
      ['acr', 2],
    ] as const) {
      const bad = await jwks.sign('es-1', internalClaims({ [claim]: value }))
      await assert.rejects(verifier().verify(bad), (err: Error & { code?: string; claim?: string }) => {
        assert.equal(err.code, 'GH_SDK_CLAIM_INVALID')
        assert.equal(err.claim, claim)
        return true
      })
    }
  })

  it('accepts an EdDSA (Ed25519) token', async () => {
    const identity = await verifier().verify(await jwks.sign('ed-1'))
    assert.equal(identity.subject, 'user-123')
  })

  it('reads a client-credentials caller as kind client, and absent optional claims as null or empty', async () => {
    const claims = internalClaims({ sub: 'billing-batch', sub_type: 'client', client_id: 'billing-batch' })
    for (const name of ['scope', 'roles', 'consumer', 'txn']) delete claims[name]
    claims.auth = { method: 'key-auth' }
    const identity = await verifier().verify(await jwks.sign('es-1', claims))
    assert.equal(identity.kind, 'client')
    assert.equal(identity.subject, 'billing-batch')
    assert.equal(identity.clientId, 'billing-batch')
    assert.deepEqual([identity.scopes, identity.roles], [[], []])
    assert.equal(identity.consumer, null)
    assert.equal(identity.requestId, null)
    assert.equal(identity.authIssuer, null)
    assert.equal(identity.authMethod, 'key-auth')
  })

  it('accepts a client whose client id is not its subject (a Kong-style jwt without sub), and reads empty optional strings as null', async () => {
    const claims = internalClaims({ sub: 'partner-app', sub_type: 'client', client_id: 'shop-web', txn: '' })
    claims.auth = { method: 'jwt', iss: '' }
    const identity = await verifier().verify(await jwks.sign('es-1', claims))
    assert.deepEqual(
      [identity.kind, identity.subject, identity.clientId],
      ['client', 'partner-app', 'shop-web'],
    )
    assert.deepEqual([identity.requestId, identity.authIssuer], [null, null])
  })

  it('hands out a frozen identity with frozen claims, whose JSON form leaves the token out', async () => {
    const token = await jwks.sign('es-1')
    const identity = await verifier().verify(token)
    assert.ok(
      Object.isFrozen(identity) && Object.isFrozen(identity.claims) && Object.isFrozen(identity.scopes),
    )
    assert.ok(Object.isFrozen(identity.claims.aud) && Object.isFrozen(identity.claims.consumer))
    assert.throws(() => {
      ;(identity as { subject: string }).subject = 'admin'
    }, TypeError)
    assert.throws(() => {
      ;(identity.roles as string[]).push('admin')
    }, TypeError)
    const json = JSON.stringify(identity)
    assert.ok(!json.includes(token.split('.')[2]!), 'the signature is not in the JSON')
    assert.equal(JSON.parse(json).subject, 'user-123')
  })

  it('answers hasScope and hasRole true only when every name is held', async () => {
    const identity = await verifier().verify(await jwks.sign('es-1'))
    assert.equal(identity.hasScope('orders:read'), true)
    assert.equal(identity.hasScope('orders:read', 'orders:write'), true)
    assert.equal(identity.hasScope('orders:read', 'orders:delete'), false)
    assert.equal(identity.hasScope('orders'), false)
    assert.equal(identity.hasRole('customer'), true)
    assert.equal(identity.hasRole('customer', 'admin'), false)
  })

  it('accepts a token naming any one of several audiences the service answers to', async () => {
    const v = createVerifier({ issuer: ISSUER, audience: ['orders-v2', 'pricing'], jwksUrl: jwks.url })
    assert.equal((await v.verify(await jwks.sign('es-1'))).subject, 'user-123')
  })

  it('tolerates clock skew within the leeway and no more', async () => {
    const now = nowSeconds()
    const v = verifier()
    assert.ok(await v.verify(await jwks.sign('es-1', internalClaims({ exp: now - 3 }))))
    assert.ok(await v.verify(await jwks.sign('es-1', internalClaims({ iat: now + 3, nbf: now + 3 }))))
    await assert.rejects(v.verify(await jwks.sign('es-1', internalClaims({ exp: now - 7 }))), {
      code: 'GH_SDK_EXPIRED',
    })
  })

  it('verifies against a local JWKS without any fetch', async () => {
    const key = await signingKey('local-1')
    const fetched = jwks.fetches
    const v = createVerifier({ issuer: ISSUER, audience: SERVICE, jwks: { keys: [key.publicJwk] } })
    await v.ready()
    assert.equal((await v.verify(await signInternal(key, internalClaims()))).subject, 'user-123')
    assert.equal(jwks.fetches, fetched)
  })

  it('fetches the JWKS once in ready() and not again for the first tokens', async () => {
    const v = verifier()
    const before = jwks.fetches
    await v.ready()
    await v.ready()
    await v.verify(await jwks.sign('es-1'))
    await v.verify(await jwks.sign('ed-1'))
    assert.equal(jwks.fetches - before, 1)
  })
})

describe('verifier options', () => {
  const jwksUrl = 'https://gatehouse.test/jwks'
  const base: VerifierOptions = { issuer: ISSUER, audience: SERVICE, jwksUrl }
  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['an issuer that is not a URL', { issuer: 'gatehouse' }, /"issuer" must be an absolute URL/],
    ['an issuer that is not http(s)', { issuer: 'urn:gatehouse' }, /"issuer" must be an http\(s\) URL/],
    ['an empty audience', { audience: '' }, /"audience" must be a non-empty string/],
    ['an empty audience list', { audience: [] }, /"audience" must be a non-empty string/],
    ['alg none', { algorithms: ['none'] }, /must not contain "none": it means an unsigned token/],
    ['HS256', { algorithms: ['ES256', 'HS256'] }, /must not contain HS256: it is symmetric/],
    ['an unknown algorithm', { algorithms: ['ES257'] }, /unsupported algorithm; use some of ES256/],
    ['no algorithms', { algorithms: [] }, /"algorithms" must be a non-empty array/],
    [
      'a plain-http JWKS URL off loopback',
      { jwksUrl: 'http://gatehouse.test/jwks' },
      /"jwksUrl" must be an https: URL/,
    ],
    [
      'a JWKS URL with credentials',
      { jwksUrl: 'https://u:p@gatehouse.test/jwks' },
      /must not contain credentials/,
    ],
    [
      'both jwksUrl and jwks',
      { jwks: { keys: [{ kty: 'EC' }] } },
      /give exactly one of "jwksUrl" and "jwks"/,
    ],
    ['neither jwksUrl nor jwks', { jwksUrl: undefined }, /give exactly one/],
    [
      'a private key in jwks',
      { jwksUrl: undefined, jwks: { keys: [{ kty: 'EC', d: 'x' }] } },
      /public keys only/,
    ],
    ['a negative leeway', { leeway: -1 }, /"leeway" must be a non-negative number of seconds/],
    ['a zero maxTokenAge', { maxTokenAge: 0 }, /"maxTokenAge" must be a positive number/],
    ['a tiny maxTokenLength', { maxTokenLength: 10 }, /"maxTokenLength" must be an integer of at least 64/],
    ['a fetch that is not a function', { fetch: 'fetch' }, /"fetch" must be a function/],
  ]
  for (const [name, change, message] of refused)
    it(`refuses ${name} with a TypeError naming the option`, () => {
      assert.throws(
        () => createVerifier({ ...base, ...change } as VerifierOptions),
        (err: Error) => {
          assert.ok(err instanceof TypeError, `${err}`)
          assert.match(err.message, message)
          return true
        },
      )
    })

  it('accepts http: JWKS URLs on loopback hosts, and elsewhere only with allowInsecureHttp', () => {
    for (const url of ['http://127.0.0.1:8000/jwks', 'http://localhost/jwks', 'http://[::1]:9/jwks'])
      assert.ok(createVerifier({ ...base, jwksUrl: url }))
    const cluster = 'http://gatehouse:8000/.well-known/gatehouse/jwks.json'
    assert.throws(() => createVerifier({ ...base, jwksUrl: cluster }), /"allowInsecureHttp": true/)
    assert.ok(createVerifier({ ...base, jwksUrl: cluster, allowInsecureHttp: true }))
    assert.throws(
      () => createVerifier({ ...base, jwksUrl: 'ftp://gatehouse/jwks', allowInsecureHttp: true }),
      /"jwksUrl" must be an https: URL/,
    )
  })
})

describe('VerificationError', () => {
  it('carries the code, status, OAuth error and fixed description of its code', () => {
    const err = new VerificationError('GH_SDK_KEYS_UNAVAILABLE', { retryAfter: 4 })
    assert.deepEqual(
      [err.code, err.status, err.error, err.retryAfter, err.name],
      ['GH_SDK_KEYS_UNAVAILABLE', 503, 'temporarily_unavailable', 4, 'VerificationError'],
    )
    const claim = new VerificationError('GH_SDK_CLAIM_INVALID', { claim: 'sub_type' })
    assert.equal(claim.description, 'The token has a missing or invalid claim (sub_type)')
    assert.equal(new VerificationError('GH_SDK_SCOPE_INSUFFICIENT').status, 403)
  })

  it('is recognised by instanceof across copies of the SDK (Symbol.for brand)', () => {
    const foreign = Object.assign(new Error('x'), { [Symbol.for('gatehouse-sdk.VerificationError')]: true })
    assert.ok(foreign instanceof VerificationError)
    assert.ok(!(new Error('x') instanceof VerificationError))
  })

  it('has descriptions that fit a quoted auth-param (no quote, no backslash)', () => {
    for (const { description } of Object.values(ERROR_CODES)) assert.doesNotMatch(description, /["\\]/)
  })

  it('is documented: README.md lists every code with its status, and no other', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const documented = new Map(
      [...readme.matchAll(/^\| `(GH_SDK_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]),
    )
    const codes = new Map(Object.entries(ERROR_CODES).map(([code, e]) => [code, e.status as number]))
    assert.deepEqual(documented, codes)
  })

  it('names the internal token type the gateway uses', () => {
    assert.equal(INTERNAL_TOKEN_TYPE, 'gatehouse-internal+jwt')
  })
})
