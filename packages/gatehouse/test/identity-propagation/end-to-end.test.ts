/**
 * Identity propagation end to end (issue 5): a caller authenticates at the gateway in four ways — (a) a
 * Kong-style JWT from a login server, (b) an access token from Gatehouse's built-in identity provider
 * (a real sign-in through its pages), (c) an access token from an independent OpenID provider, (d) an
 * API key — and each reaches services that trust nothing but the internal token, verified with
 * gatehouse-sdk against the gateway's JWKS: right subject, right kind, the enriched or mapped profile, and never
 * the public credential. Chained calls work exactly where `aud` allows; a third-party verifier (jose
 * alone) accepts the tokens; a scheduled key rotation under steady traffic fails no request.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { rawRequest } from '../harness/http.ts'
import {
  ALICE,
  freePort,
  identitySection,
  ORDERS_API,
  PARTNER_SECRET,
  WEB_SECRET,
} from '../identity/support/gateway.ts'
import { codeFlow, configFor } from '../identity/support/oidc.ts'
import {
  clientCredentialsToken,
  EXTERNAL_CLIENT,
  EXTERNAL_RESOURCE,
  type Listening,
  type ServiceAnswer,
  startExternalIdp,
  startService,
  startUsers,
  type TestService,
  verifierFor,
} from './support.ts'

const INTERNAL_ISSUER = 'https://gatehouse.test'
const KONG_SECRET = 'login-server-secret-0123456789abcdef'
const API_KEY = 'acme-api-key-0123456789abcdef'

describe('identity propagation end to end', () => {
  let orders: TestService
  let payments: TestService
  let inventory: TestService
  let users: Listening & { lookups: string[] }
  let external: Listening & { issuer: string }
  let gh: GatehouseProcess
  let issuer: string
  const profiles: Record<string, Record<string, unknown>> = {
    'kong-user-1': { country: 'SE', customer_type: 'standard', display_name: 'Sven' },
    acme: { country: 'DE', customer_type: 'partner', display_name: 'ACME GmbH' },
  }

  before(async () => {
    const peers = () => ({ payments: payments.url, inventory: inventory.url })
    ;[orders, payments, inventory] = await Promise.all([
      startService('orders', peers),
      startService('payments'),
      startService('inventory'),
    ])
    users = await startUsers(profiles)
    external = await startExternalIdp(await freePort())
    const enrich = { url: `${users.url}/users/{sub}`, claims: ['country', 'customer_type', 'display_name'] }
    const port = await freePort()
    issuer = `http://127.0.0.1:${port}/oidc`
    const config = {
      _format_version: '3.0',
      identity: identitySection(issuer),
      internal_tokens: { issuer: INTERNAL_ISSUER },
      services: [
        {
          name: 'orders',
          url: orders.url,
          routes: [
            { name: 'kong', paths: ['/kong'], plugins: [{ name: 'jwt' }] },
            {
              name: 'idp',
              paths: ['/idp'],
              plugins: [{ name: 'openid-connect', config: { issuer, audience: ORDERS_API } }],
            },
            {
              name: 'external',
              paths: ['/external'],
              plugins: [
                {
                  name: 'openid-connect',
                  config: {
                    issuer: external.issuer,
                    audience: EXTERNAL_RESOURCE,
                    // Auth0-style namespaced claim (its name has dots): mapped as a list path.
                    claim_mapping: { country: ['https://partner.example/country'] },
                  },
                },
              ],
            },
            { name: 'key', paths: ['/key'], plugins: [{ name: 'key-auth' }] },
          ],
          plugins: [
            {
              name: 'internal-token',
              config: { audience: 'orders', also_audiences: ['payments'], enrich },
            },
          ],
        },
        {
          name: 'inventory',
          url: inventory.url,
          routes: [{ name: 'inventory', paths: ['/inventory'], plugins: [{ name: 'key-auth' }] }],
          plugins: [{ name: 'internal-token', config: { audience: 'inventory' } }],
        },
      ],
      consumers: [
        { username: 'login-server', jwt_secrets: [{ key: 'login-server', secret: KONG_SECRET }] },
        { username: 'acme', keyauth_credentials: [{ key: API_KEY }] },
      ],
    }
    gh = await startGatehouse({ config, args: ['--proxy-listen', `127.0.0.1:${port}`] })
    const jwksUrl = `${gh.proxyUrl}/.well-known/gatehouse/jwks.json`
    for (const s of [orders, payments, inventory]) s.trust(verifierFor(s.name, jwksUrl, INTERNAL_ISSUER))
  })
  after(async () => {
    await gh?.stop()
    for (const s of [orders, payments, inventory, users, external]) await s?.close()
  })

  async function call(path: string, headers: Record<string, string>): Promise<ServiceAnswer> {
    const res = await rawRequest(gh.proxyUrl + path, { headers })
    assert.equal(res.status, 200, res.body)
    return JSON.parse(res.body) as ServiceAnswer
  }

  /** The service saw an internal token in Authorization and nothing of the caller's credential. */
  function sawOnlyTheInternalToken(answer: ServiceAnswer, publicCredential: string): void {
    const authorization = answer.headers.authorization as string
    assert.match(authorization, /^Bearer /)
    assert.equal(decodeProtectedHeader(authorization.slice(7)).typ, 'gatehouse-internal+jwt')
    assert.ok(
      !JSON.stringify(answer.headers).includes(publicCredential),
      'the public credential reached the service',
    )
  }

  it('(a) a Kong-style JWT: the token’s subject, enriched, as a user', async () => {
    const token = await new SignJWT({ iss: 'login-server', sub: 'kong-user-1' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(KONG_SECRET))
    const answer = await call('/kong', { authorization: `Bearer ${token}` })
    assert.equal(answer.service, 'orders')
    assert.equal(answer.subject, 'kong-user-1')
    assert.equal(answer.kind, 'user')
    assert.equal(answer.authMethod, 'jwt')
    assert.equal(answer.authIssuer, 'login-server')
    assert.deepEqual(answer.audience, ['orders', 'payments'])
    assert.equal(answer.claims.country, 'SE')
    assert.equal(answer.claims.display_name, 'Sven')
    sawOnlyTheInternalToken(answer, token)
  })

  it('(b) an access token from the built-in identity provider, after a real sign-in', async () => {
    const config = await configFor(issuer, 'web-app', WEB_SECRET)
    const tokens = await codeFlow(config, ALICE, { scope: 'openid orders:read', resource: ORDERS_API })
    const sub = decodeJwt(tokens.access_token).sub!
    profiles[sub] = { country: 'GB', customer_type: 'premium', display_name: 'Alice E.' }
    const answer = await call('/idp', { authorization: `Bearer ${tokens.access_token}` })
    assert.equal(answer.subject, sub)
    assert.equal(answer.kind, 'user')
    assert.equal(answer.clientId, 'web-app')
    assert.equal(answer.authMethod, 'openid-connect')
    assert.equal(answer.authIssuer, issuer)
    assert.ok(answer.scopes.includes('orders:read'))
    assert.equal(answer.claims.customer_type, 'premium')
    assert.equal(answer.claims.display_name, 'Alice E.')
    sawOnlyTheInternalToken(answer, tokens.access_token)

    // A partner's client_credentials token from the same provider: a client, its id as the subject.
    const partner = await clientCredentialsToken(
      `${issuer}/token`,
      { id: 'partner', secret: PARTNER_SECRET },
      ORDERS_API,
      'orders:read',
    )
    const asClient = await call('/idp', { authorization: `Bearer ${partner}` })
    assert.equal(asClient.subject, 'partner')
    assert.equal(asClient.kind, 'client')
    assert.equal(asClient.clientId, 'partner')
  })

  it('(c) an access token from an independent OpenID provider', async () => {
    const token = await clientCredentialsToken(
      `${external.issuer}/token`,
      EXTERNAL_CLIENT,
      EXTERNAL_RESOURCE,
      'orders:read',
    )
    const answer = await call('/external', { authorization: `Bearer ${token}` })
    assert.equal(answer.subject, EXTERNAL_CLIENT.id)
    assert.equal(answer.kind, 'client')
    assert.equal(answer.authIssuer, external.issuer)
    assert.equal(answer.claims.country, 'NL', 'mapped from the issuer’s namespaced claim')
    assert.equal(
      answer.claims.customer_type,
      undefined,
      'the user-info service does not know this subject (404)',
    )
    sawOnlyTheInternalToken(answer, token)
  })

  it('(d) an API key: the consumer as a client, enriched, the key never forwarded', async () => {
    const answer = await call('/key?apikey=' + API_KEY, {})
    assert.equal(answer.subject, 'acme')
    assert.equal(answer.kind, 'client')
    assert.equal(answer.authMethod, 'key-auth')
    assert.equal(answer.claims.customer_type, 'partner')
    sawOnlyTheInternalToken(answer, API_KEY)
    const viaHeader = await call('/key', { apikey: API_KEY })
    sawOnlyTheInternalToken(viaHeader, API_KEY)
  })

  it('asks the user-info service once per subject, whatever the number of requests', async () => {
    const before = users.lookups.filter((s) => s === 'acme').length
    for (let i = 0; i < 5; i++) await call('/key', { apikey: API_KEY })
    assert.equal(users.lookups.filter((s) => s === 'acme').length, before)
  })

  it('lets a service call another service in aud with the same token, and not one outside it', async () => {
    const allowed = await call('/key/call/payments', { apikey: API_KEY, 'x-request-id': 'chain-1' })
    assert.equal(allowed.chained?.status, 200)
    const downstream = allowed.chained?.body as ServiceAnswer
    assert.equal(downstream.service, 'payments')
    assert.equal(downstream.subject, 'acme')
    assert.equal(downstream.headers['x-request-id'], 'chain-1', 'the request id travels along')

    const refused = await call('/key/call/inventory', { apikey: API_KEY })
    assert.equal(refused.chained?.status, 401)
    assert.equal((refused.chained!.body as { code: string }).code, 'GH_SDK_AUDIENCE_INVALID')

    // inventory accepts its own route's tokens, which orders in turn refuses.
    const own = await call('/inventory', { apikey: API_KEY })
    assert.equal(own.service, 'inventory')
    const theirs = (own.headers.authorization as string).slice(7)
    const res = await fetch(orders.url, { headers: { authorization: `Bearer ${theirs}` } })
    assert.equal(res.status, 401)
  })

  it('is refused by a service when the token is one a client made up or a public one', async () => {
    const forged = await new SignJWT({ sub: 'admin', aud: ['orders'], sub_type: 'user' })
      .setProtectedHeader({ alg: 'HS256', typ: 'gatehouse-internal+jwt' })
      .setIssuer(INTERNAL_ISSUER)
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode(KONG_SECRET))
    assert.equal((await fetch(orders.url, { headers: { authorization: `Bearer ${forged}` } })).status, 401)
    const partner = await clientCredentialsToken(
      `${issuer}/token`,
      { id: 'partner', secret: PARTNER_SECRET },
      ORDERS_API,
      'orders:read',
    )
    assert.equal((await fetch(orders.url, { headers: { authorization: `Bearer ${partner}` } })).status, 401)
  })

  it('issues tokens a third-party verifier accepts from the gateway’s JWKS (jose, remote key set)', async () => {
    const answer = await call('/key', { apikey: API_KEY })
    const token = (answer.headers.authorization as string).slice(7)
    const jwks = createRemoteJWKSet(new URL(`${gh.proxyUrl}/.well-known/gatehouse/jwks.json`))
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: INTERNAL_ISSUER,
      audience: 'payments',
      typ: 'gatehouse-internal+jwt',
      algorithms: ['ES256'],
      requiredClaims: ['exp', 'iat', 'jti', 'sub'],
    })
    assert.equal(payload.sub, 'acme')
    assert.equal(protectedHeader.alg, 'ES256')
  })
})

describe('gateway key rotation under traffic', () => {
  it('fails no request while the signing key rotates on schedule', async () => {
    const service = await startService('orders')
    const gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        internal_tokens: {
          issuer: INTERNAL_ISSUER,
          ttl: 30,
          keys: { rotation_interval: 10, publish_ahead: 4 },
        },
        services: [
          {
            name: 'orders',
            url: service.url,
            routes: [{ name: 'key', paths: ['/'], plugins: [{ name: 'key-auth' }] }],
            plugins: [{ name: 'internal-token', config: { audience: 'orders' } }],
          },
        ],
        consumers: [{ username: 'acme', keyauth_credentials: [{ key: API_KEY }] }],
      },
    })
    try {
      // The service refreshes its key set more often than keys are published ahead, as the defaults do
      // (SDK 600 s against the gateway's 3600 s), scaled down to fit a test.
      service.trust(
        verifierFor('orders', `${gh.proxyUrl}/.well-known/gatehouse/jwks.json`, INTERNAL_ISSUER, {
          cacheMaxAge: 2,
        }),
      )
      const statuses = new Map<number, number>()
      const kids = new Set<string>()
      const deadline = Date.now() + 12_500
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (Date.now() < deadline) {
            const res = await rawRequest(gh.proxyUrl, { headers: { apikey: API_KEY } })
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
            if (res.status === 200) {
              const seen = JSON.parse(res.body) as ServiceAnswer
              kids.add(decodeProtectedHeader((seen.headers.authorization as string).slice(7)).kid!)
            }
            await sleep(5)
          }
        }),
      )
      assert.deepEqual([...statuses.keys()], [200], `statuses: ${JSON.stringify([...statuses])}`)
      assert.ok((statuses.get(200) ?? 0) > 100, 'traffic flowed')
      assert.ok(kids.size >= 2, 'the key rotated during the run')
      assert.deepEqual(service.refusals, [])
      const rotated = await gh.waitForLog(
        (l) => l.msg === 'internal token signing key activated' && l.retired !== undefined,
      )
      assert.ok(rotated)
    } finally {
      await gh.stop()
      await service.close()
    }
  })
})
