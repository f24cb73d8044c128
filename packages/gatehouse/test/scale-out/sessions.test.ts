/**
 * Browser sessions kept in Redis (session `storage: redis`) on two gateway processes, node A running the
 * built-in identity provider: a session started through A is used through B, a logout on B ends it on A,
 * a session or a user revoked on one node is ended on the other within a second, a refresh-token family
 * (grant) revoked on B is refused by A's provider, and while Redis is down a session is no session (the
 * cookie kept) or a 503, as each route says, a logout clears the cookie, and sign-ins work again once
 * Redis is back, no restart.
 * Real processes, a real Redis, a real provider and upstream.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { assertFetchedError } from '../harness/error-body.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../harness/redis.ts'
import { type EchoBody, startUpstream, type Upstream } from '../harness/upstream.ts'
import {
  ALICE,
  BOB,
  CALLBACK,
  freePort,
  identitySection,
  ORDERS_API,
  storeOf,
  WEB_SECRET,
} from '../identity/support/gateway.ts'
import { client, codeFlow, configFor, oauthError } from '../identity/support/oidc.ts'
import { Browser, type Credentials, Jar, signIn } from '../session/support.ts'
import { revoke, within } from './support.ts'

const SHOP_SECRET = 'shop-web-secret-0123456789abcdefghijklmnop'
const SESSION_SECRET = 'session-secret-0123456789abcdefghijklmnopqr'
const SCOPES = ['openid', 'profile', 'email', 'offline_access', 'orders:read']
const DAVE = { username: 'dave', email: 'dave@example.test', password: 'dave-password-12345' }
/** Access tokens live 6 s and are refreshed within 4 s of expiry. */
const ACCESS_TTL = 6
const REFRESH_BEFORE = 4

describe('browser sessions in Redis on two gateways', { skip: redisSkipReason() }, () => {
  let redis: RedisServer
  let upstream: Upstream
  let a: GatehouseProcess
  let b: GatehouseProcess
  let originA: string
  let issuer: string

  before(async () => {
    ;[redis, upstream] = await Promise.all([startRedis(), startUpstream()])
    const port = await freePort()
    originA = `http://127.0.0.1:${port}`
    issuer = `${originA}/oidc`
    const identity = identitySection(issuer) as {
      clients: object[]
      users: object[]
      resources: { indicator: string; access_token_ttl?: number }[]
    }
    identity.users.push({ ...DAVE, id: 'u-dave' })
    identity.resources.find((r) => r.indicator === ORDERS_API)!.access_token_ttl = ACCESS_TTL
    identity.clients.push({
      client_id: 'shop-web',
      client_secret: SHOP_SECRET,
      redirect_uris: [`${originA}/callback`],
      post_logout_redirect_uris: [`${originA}/`],
      scopes: SCOPES,
      resources: [ORDERS_API],
    })
    const session = (more: object = {}) => ({
      name: 'session',
      config: {
        issuer,
        client_id: 'shop-web',
        client_secret: SHOP_SECRET,
        secret: SESSION_SECRET,
        scopes: SCOPES,
        resource: ORDERS_API,
        refresh_before: REFRESH_BEFORE,
        storage: 'redis',
        ...more,
      },
    })
    const common = {
      _format_version: '3.0',
      redis: { url: redis.url, command_timeout: 300, connect_timeout: 500 },
      services: [
        {
          name: 'api',
          url: upstream.url,
          routes: [
            { name: 'orders', paths: ['/api/orders'], plugins: [session()] },
            { name: 'strict', paths: ['/api/strict'], plugins: [session({ on_store_failure: 'error' })] },
          ],
        },
      ],
      routes: [
        { name: 'browser', paths: ['/login', '/callback', '/logout', '/session'], plugins: [session()] },
      ],
    }
    ;[a, b] = await Promise.all([
      startGatehouse({ config: { ...common, identity }, args: ['--proxy-listen', `127.0.0.1:${port}`] }),
      startGatehouse({ config: common }),
    ])
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await upstream?.close()
    await redis?.stop()
  })

  /** Signs in through node A; the jar holds the gateway's cookies. */
  async function signedIn(user: Credentials = ALICE): Promise<Jar> {
    const jar = new Jar()
    jar.take((await signIn(new Browser(), `${originA}/login`, '/callback', user)).callback)
    assert.ok(jar.cookies.get('gh_session'))
    return jar
  }
  const call = (node: GatehouseProcess, jar: Jar, path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers)
    headers.set('cookie', jar.header())
    return fetch(node.proxyUrl + path, { ...init, headers, redirect: 'manual' })
  }
  async function caller(res: Response): Promise<string> {
    const text = await res.text()
    assert.equal(res.status, 200, text)
    return (JSON.parse(text) as EchoBody).headers['x-authenticated-userid'] as string
  }

  it('uses a session started through node A on node B, and a logout on B ends it on A', async () => {
    const jar = await signedIn()
    const id = jar.cookies.get('gh_session')!
    assert.match(id, /^[\w-]{43}$/, 'only a random id in the cookie')
    const sub = await caller(await call(a, jar, '/api/orders'))
    assert.equal(await caller(await call(b, jar, '/api/orders')), sub)
    const info = (await (await call(b, jar, '/session')).json()) as Record<string, unknown>
    assert.equal(info.authenticated, true)
    assert.match(String(info.session_id), /^[\w-]{32}$/)
    assert.notEqual(info.session_id, id)

    const out = await call(b, jar, '/logout', {
      method: 'POST',
      headers: { 'x-csrf-token': jar.cookies.get('gh_csrf')! },
    })
    assert.equal(out.status, 303)
    assert.equal((await call(a, jar, '/api/orders')).status, 401, 'ended on A')
    assert.equal((await call(b, jar, '/api/orders')).status, 401)
  })

  it('refreshes once when a burst of calls needing a refresh spreads over both nodes', async () => {
    const jar = await signedIn()
    assert.equal((await call(a, jar, '/api/orders')).status, 200)
    // Let the access token come within refresh_before of its expiry (setup, not an assertion).
    await new Promise((r) => setTimeout(r, (ACCESS_TTL - REFRESH_BEFORE + 1) * 1000))
    const seen = a.lines.length
    const burst = await Promise.all(
      Array.from({ length: 8 }, (_, i) => call(i % 2 === 0 ? a : b, jar, '/api/orders')),
    )
    assert.deepEqual(
      burst.map((r) => r.status),
      Array(8).fill(200),
    )
    // Had both nodes used the refresh token, the provider would have revoked the grant: the session goes on.
    for (const node of [a, b]) assert.equal((await call(node, jar, '/api/orders')).status, 200)
    assert.equal(a.lines.slice(seen).filter((l) => l.msg === 'grant revoked').length, 0)
    assert.equal(
      a.lines.slice(seen).filter((l) => l.msg === 'session refresh refused; session ended').length,
      0,
    )
  })

  it('ends on every node, within a second, a session revoked by its id or by its user', async () => {
    const alice = await signedIn()
    const bob = await signedIn(BOB)
    assert.equal((await call(b, alice, '/api/orders')).status, 200)
    assert.equal((await call(b, bob, '/api/orders')).status, 200)
    const info = (await (await call(a, alice, '/session')).json()) as { session_id: string }
    await revoke(a, { session: info.session_id })
    await within(1000, async () => (await call(b, alice, '/api/orders')).status === 401, 'B ends the session')
    assert.equal((await call(b, bob, '/api/orders')).status, 200, "another user's session goes on")

    const sub = await caller(await call(b, bob, '/api/orders'))
    await revoke(b, { subject: sub, reason: 'account closed' })
    await within(1000, async () => (await call(a, bob, '/api/orders')).status === 401, 'A ends his session')
  })

  /** A refresh token of A's provider for `user` (client web-app). */
  async function refreshTokenOf(web: client.Configuration, user: Credentials): Promise<string> {
    const tokens = await codeFlow(web, user, {
      scope: 'openid offline_access',
      prompt: 'consent',
      redirect_uri: CALLBACK,
    })
    return tokens.refresh_token!
  }
  /** Waits until node A lists the revocation of `id` (which every node does within a second). */
  const knownToA = (id: string) =>
    within(
      1000,
      async () => {
        const list = (await (await a.admin('/revocations')).json()) as { data: { id: string }[] }
        return list.data.some((r) => r.id === id)
      },
      'A knows the revocation',
    )

  it("refuses at A's provider a refresh-token family revoked through node B", async () => {
    const web = await configFor(issuer, 'web-app', WEB_SECRET)
    const refresh = await refreshTokenOf(web, ALICE)
    const store = await storeOf(a)
    let grant: string
    try {
      grant = (await store.oidc.find('RefreshToken', refresh, Math.floor(Date.now() / 1000)))!.payload
        .grantId as string
    } finally {
      await store.close()
    }
    await revoke(b, { grant, reason: 'device lost' })
    // A refresh that went through first would rotate the token, and the retry be refused as a reuse: so
    // wait for A to know the revocation, then refresh once.
    await knownToA(grant)
    assert.equal((await oauthError(client.refreshTokenGrant(web, refresh))).error, 'invalid_grant')
    await a.waitForLog((l) => l.msg === 'revoked grant deleted from the store' && l.grant_id === grant)
  })

  it("refuses at A's provider every refresh token of a user revoked through node B", async () => {
    const web = await configFor(issuer, 'web-app', WEB_SECRET)
    const refresh = await refreshTokenOf(web, DAVE)
    await revoke(b, { subject: 'u-dave' })
    await knownToA('u-dave')
    assert.equal((await oauthError(client.refreshTokenGrant(web, refresh))).error, 'invalid_grant')
    await a.waitForLog((l) => l.msg === 'revoked identity artefact refused')
  })

  it('treats a session as absent (cookie kept) or answers 503 while Redis is down, still logs out, and signs in again once it is back', async () => {
    const jar = await signedIn()
    assert.equal((await call(b, jar, '/api/orders')).status, 200)
    await redis.kill()
    const absent = await call(b, jar, '/api/orders')
    assert.equal(absent.status, 401)
    assert.deepEqual(absent.headers.getSetCookie(), [], 'the cookie is not cleared')
    const strict = await call(a, jar, '/api/strict')
    assert.equal(strict.status, 503)
    assert.equal(strict.headers.get('retry-after'), '1')
    await assertFetchedError(strict, {
      kong: { message: 'Sessions cannot be read right now; try again shortly' },
      code: 'GH_ERR_SESSION_STORE_UNAVAILABLE',
    })
    await a.waitForLog((l) => l.type === 'access' && l.error_code === 'GH_ERR_SESSION_STORE_UNAVAILABLE')
    await b.waitForLog((l) => l.msg === 'session store unavailable (redis)')
    // A logout still clears the browser's cookies; the stored record, out of reach, lives until it expires.
    const out = await call(b, jar, '/logout', { method: 'POST', headers: { origin: b.proxyUrl } })
    assert.equal(out.status, 303)
    assert.ok(out.headers.getSetCookie().some((c) => c.startsWith('gh_session=;')))

    await redis.start()
    // The server lost its data (no persistence): sign in again, through A, used on B.
    await within(
      5000,
      async () => {
        try {
          return (await call(b, await signedIn(), '/api/orders')).status === 200
        } catch {
          return false
        }
      },
      'a new session works across nodes',
    )
  })
})
