/**
 * forwardingFetch on real servers: a chain orders → pricing (in `aud`: accepted, same caller, same request
 * id) and orders → billing (not in `aud`: 401 GH_SDK_AUDIENCE_INVALID), plus what it sends and refuses.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { forwardingFetch } from './forward.ts'
import { authenticate } from './http.ts'
import type { Identity } from './identity.ts'
import {
  close,
  ISSUER,
  internalClaims,
  listen,
  SERVICE,
  type SigningKey,
  signInternal,
  signingKey,
} from './test-fixtures.ts'
import { createVerifier } from './verifier.ts'

/** The headers the echo server received. */
const received = async (response: Promise<Response>): Promise<Record<string, string | undefined>> =>
  (await (await response).json()) as Record<string, string | undefined>

describe('forwardingFetch', () => {
  let key: SigningKey
  const servers: Server[] = []
  let orders: string
  let pricing: string
  let billing: string
  let echo: string
  let identity: Identity

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    const server = createServer(handler)
    servers.push(server)
    return listen(server)
  }
  const verifierFor = (audience: string) =>
    createVerifier({ issuer: ISSUER, audience, jwks: { keys: [key.publicJwk] } })

  before(async () => {
    key = await signingKey('es-1')
    identity = await verifierFor(SERVICE).verify(await signInternal(key, internalClaims()))
    const downstream = (audience: string) =>
      authenticate(verifierFor(audience)).protect((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            service: audience,
            subject: req.identity?.subject,
            tokenId: req.identity?.tokenId,
            requestId: req.headers['x-request-id'] ?? null,
          }),
        )
      })
    pricing = await serve(downstream('pricing'))
    billing = await serve(downstream('billing'))
    echo = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(req.headers))
    })
    orders = await serve(
      authenticate(verifierFor(SERVICE)).protect(async (req, res) => {
        const asCaller = forwardingFetch(req)
        const answers = await Promise.all([asCaller(`${pricing}/prices`), asCaller(`${billing}/invoices`)])
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify(
            await Promise.all(answers.map(async (a) => ({ status: a.status, body: await a.json() }))),
          ),
        )
      }),
    )
  })
  after(() => Promise.all(servers.map(close)))

  it('carries the caller to a service in aud, and is refused by one that is not', async () => {
    const token = await signInternal(key, internalClaims({ txn: 'req-chain-1' }))
    const res = await fetch(`${orders}/basket`, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(res.status, 200)
    const [toPricing, toBilling] = (await res.json()) as { status: number; body: Record<string, unknown> }[]
    assert.equal(toPricing!.status, 200)
    assert.equal(toPricing!.body.service, 'pricing')
    assert.equal(toPricing!.body.subject, 'user-123')
    assert.equal(toPricing!.body.requestId, 'req-chain-1')
    assert.equal(
      toPricing!.body.tokenId,
      JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti,
    )
    assert.equal(toBilling!.status, 401)
    assert.equal(toBilling!.body.code, 'GH_SDK_AUDIENCE_INVALID')
  })

  it('sends Authorization: Bearer <token> and the request id, and keeps headers the caller set', async () => {
    const sent = await received(forwardingFetch(identity)(`${echo}/x`, { headers: { accept: 'text/plain' } }))
    assert.equal(sent.authorization, `Bearer ${identity.token}`)
    assert.equal(sent['x-request-id'], 'req-abc-123')
    assert.equal(sent.accept, 'text/plain')
  })

  it('never overwrites an Authorization or request id header the calling code set', async () => {
    const asCaller = forwardingFetch(identity)
    const sent = await received(
      asCaller(`${echo}/x`, { headers: { Authorization: 'Bearer service-own', 'X-Request-ID': 'mine' } }),
    )
    assert.equal(sent.authorization, 'Bearer service-own')
    assert.equal(sent['x-request-id'], 'mine')
    const fromRequest = await received(
      asCaller(new Request(`${echo}/y`, { headers: { authorization: 'Basic abc', 'x-kept': '1' } })),
    )
    assert.equal(fromRequest.authorization, 'Basic abc')
    assert.equal(fromRequest['x-kept'], '1')
  })

  it('sends the bare token in another header, and a request id header of another name, when told to', async () => {
    const asCaller = forwardingFetch(identity, {
      header: 'X-Internal-Token',
      requestIdHeader: 'X-Correlation-ID',
    })
    const sent = await received(asCaller(`${echo}/x`))
    assert.equal(sent['x-internal-token'], identity.token)
    assert.equal(sent.authorization, undefined)
    assert.equal(sent['x-correlation-id'], 'req-abc-123')
  })

  it('takes the request id from the incoming request when the token has none', async () => {
    const noTxn = await verifierFor(SERVICE).verify(
      await signInternal(key, internalClaims({ txn: undefined })),
    )
    const req = { identity: noTxn, headers: { 'x-request-id': 'from-header' } }
    const sent = await received(forwardingFetch(req)(`${echo}/x`))
    assert.equal(sent['x-request-id'], 'from-header')
  })

  it('refuses to send the token anywhere but http(s), without calling fetch', async () => {
    let calls = 0
    const asCaller = forwardingFetch(identity, {
      fetch: (input, init) => {
        calls++
        return fetch(input, init)
      },
    })
    for (const target of ['file:///etc/passwd', 'ftp://files.example/x', 'data:text/plain,hi', '/relative'])
      await assert.rejects(asCaller(target), TypeError, target)
    assert.equal(calls, 0)
    await asCaller(`${echo}/ok`)
    assert.equal(calls, 1)
  })

  it('refuses a request or value without an identity, and bad header names', () => {
    assert.throws(() => forwardingFetch({ identity: null }), /needs an identity/)
    assert.throws(() => forwardingFetch(identity, { header: 'bad header' }), /must be HTTP header names/)
    assert.throws(
      () => forwardingFetch({ identity: { token: 'forged' } as unknown as Identity }),
      /needs an identity/,
    )
  })
})
