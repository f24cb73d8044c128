/**
 * Kong's JWT tutorial ("How JWT Authentication Works for Microservices", ../shared/reference/
 * 002_8fe25d38d2b80e47.txt) replayed against Gatehouse: a login server is the one consumer,
 * `login_server_issuer`, with an HS256 jwt_secret whose key Kong generates; the jwt plugin checks `exp`
 * on the service in front of an Express-style API server that logs the headers it receives.
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { assertFetchedError } from '../../../test/harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { trackServer } from '../../../test/harness/resources.ts'
import { nowSeconds, signToken } from './test-fixtures.ts'

const SECRET = 'secret-hash-brown-bear-market-rate-limit'

/** The tutorial's kong.yml, in format 3.0: the credential's key is left for the gateway to generate. */
const kongYml = (apiServer: string) => `_format_version: "3.0"
services:
- name: my-api-server
  url: ${apiServer}/
  routes:
  - name: api-requests
    paths:
    - /api
plugins:
- name: jwt
  service: my-api-server
  enabled: true
  config:
    key_claim_name: kid
    claims_to_verify:
    - exp
consumers:
- username: login_server_issuer
jwt_secrets:
- consumer: login_server_issuer
  secret: "${SECRET}"
`

describe("Kong's JWT tutorial, unchanged", () => {
  let api: Server
  const logged: IncomingHttpHeaders[] = []
  let gh: GatehouseProcess
  let key = ''

  before(async () => {
    // The tutorial's Express server: one endpoint answering "Hello world!", logging the request headers.
    api = createServer((req, res) => {
      logged.push(req.headers)
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end('Hello world!')
    })
    trackServer('tutorial api', api)
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve))
    gh = await startGatehouse({
      config: kongYml(`http://127.0.0.1:${(api.address() as AddressInfo).port}`),
    })
    // As in the tutorial, the key to put in `kid` comes from the admin API.
    const credentials = (await (await gh.admin('/consumers/login_server_issuer/jwt')).json()) as {
      data: { key: string; secret: string; algorithm: string }[]
    }
    assert.equal(credentials.data.length, 1)
    assert.equal(credentials.data[0]!.secret, SECRET)
    assert.equal(credentials.data[0]!.algorithm, 'HS256')
    key = credentials.data[0]!.key
  })
  after(async () => {
    await gh?.stop()
    await new Promise<void>((resolve) => (api ? api.close(() => resolve()) : resolve()))
  })

  /** The tutorial's payload: kid, a far-future exp, and a name and email that play no part. */
  const payload = (overrides: object = {}) => ({
    kid: key,
    exp: nowSeconds() + 10 * 365 * 86400,
    name: 'Jane Doe',
    email: 'jane@example.com',
    ...overrides,
  })
  const call = (token?: string) =>
    gh.proxy('/api', token ? { headers: { authorization: `Bearer ${token}` } } : {})

  it('answers 401 Unauthorized without a token, and the API server never sees the request', async () => {
    const res = await call()
    assert.equal(res.status, 401)
    await assertFetchedError(res, {
      kong: { message: 'Unauthorized' },
      code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
    })
    assert.equal(logged.length, 0)
  })

  it('routes a token signed with the secret and naming the key to the API server, which logs who called', async () => {
    const res = await call(await signToken('HS256', SECRET, payload(), { typ: 'JWT' }))
    assert.equal(res.status, 200)
    assert.equal(await res.text(), 'Hello world!')
    const headers = logged.at(-1)!
    assert.equal(headers['x-consumer-username'], 'login_server_issuer')
    assert.match(headers['x-consumer-id'] as string, /^[0-9a-f-]{36}$/)
    assert.equal(headers['x-credential-identifier'], key)
  })

  it('answers 401 Invalid signature for a token signed with a different secret', async () => {
    const res = await call(await signToken('HS256', 'a-different-secret-that-is-also-long-enough', payload()))
    assert.equal(res.status, 401)
    await assertFetchedError(res, {
      kong: { message: 'Invalid signature' },
      code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
    })
  })

  it('answers 401 when the kid names no credential', async () => {
    const res = await call(await signToken('HS256', SECRET, payload({ kid: 'not-the-key' })))
    assert.equal(res.status, 401)
    await assertFetchedError(res, {
      kong: { message: "No credentials found for given 'kid'" },
      code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
    })
  })

  it('answers 401 token expired when exp is in the past', async () => {
    const res = await call(await signToken('HS256', SECRET, payload({ exp: nowSeconds() - 60 })))
    assert.equal(res.status, 401)
    await assertFetchedError(res, {
      kong: { exp: 'token expired' },
      code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
      message: 'exp: token expired',
    })
  })
})
