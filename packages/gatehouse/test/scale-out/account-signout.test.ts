/**
 * "Sign out everywhere" (issue 14) on two gateways sharing Redis, node A running the identity provider:
 * a person's gateway session (session plugin, Redis storage) used through node B ends on B within a
 * second of an administrator signing them out on A (POST /identity/users/{user}/signout records a
 * subject revocation, which every node applies). Another user's session goes on.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../harness/redis.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { ALICE, BOB, freePort, identitySection, ORDERS_API } from '../identity/support/gateway.ts'
import { Browser, type Credentials, Jar, signIn } from '../session/support.ts'
import { within } from './support.ts'

const SHOP_SECRET = 'shop-web-secret-0123456789abcdefghijklmnop'
const SESSION_SECRET = 'session-secret-0123456789abcdefghijklmnopqr'
const SCOPES = ['openid', 'profile', 'email', 'offline_access', 'orders:read']

describe('signing a person out everywhere ends their gateway sessions on every node', {
  skip: redisSkipReason(),
}, () => {
  let redis: RedisServer
  let upstream: Upstream
  let a: GatehouseProcess
  let b: GatehouseProcess
  let originA: string

  before(async () => {
    ;[redis, upstream] = await Promise.all([startRedis(), startUpstream()])
    const port = await freePort()
    originA = `http://127.0.0.1:${port}`
    const issuer = `${originA}/oidc`
    const identity = identitySection(issuer) as { clients: object[] }
    identity.clients.push({
      client_id: 'shop-web',
      client_secret: SHOP_SECRET,
      redirect_uris: [`${originA}/callback`],
      scopes: SCOPES,
      resources: [ORDERS_API],
    })
    const session = {
      name: 'session',
      config: {
        issuer,
        client_id: 'shop-web',
        client_secret: SHOP_SECRET,
        secret: SESSION_SECRET,
        scopes: SCOPES,
        resource: ORDERS_API,
        storage: 'redis',
      },
    }
    const common = {
      _format_version: '3.0',
      redis: { url: redis.url },
      services: [
        {
          name: 'api',
          url: upstream.url,
          routes: [{ name: 'orders', paths: ['/api/orders'], plugins: [session] }],
        },
      ],
      routes: [
        { name: 'browser', paths: ['/login', '/callback', '/logout', '/session'], plugins: [session] },
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

  async function signedIn(user: Credentials): Promise<Jar> {
    const jar = new Jar()
    jar.take((await signIn(new Browser(), `${originA}/login`, '/callback', user)).callback)
    return jar
  }
  const call = (node: GatehouseProcess, jar: Jar) =>
    fetch(`${node.proxyUrl}/api/orders`, { headers: { cookie: jar.header() }, redirect: 'manual' })

  it('ends the session on node B within a second, and leaves another user alone', async () => {
    const alice = await signedIn(ALICE)
    const bob = await signedIn(BOB)
    assert.equal((await call(b, alice)).status, 200)
    assert.equal((await call(b, bob)).status, 200)
    const res = await a.admin('/identity/users/alice/signout', { method: 'POST' })
    assert.equal(res.status, 200, await res.text())
    await within(1000, async () => (await call(b, alice)).status === 401, 'B ends her session')
    assert.equal((await call(a, alice)).status, 401)
    assert.equal((await call(b, bob)).status, 200, "another user's session goes on")
  })
})
