/**
 * Several nodes with Redis: each node signs internal tokens with its own key, and each node's JWKS lists
 * every node's public keys, so a service that fetches the JWKS from any node (through a load balancer)
 * verifies tokens minted by all of them. A node that stops leaves the others' JWKS.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createLocalJWKSet, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose'
import { until } from '../db-mode/support.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../harness/redis.ts'
import { type EchoBody, startUpstream, type Upstream } from '../harness/upstream.ts'

const skip = redisSkipReason()
const KEY = { apikey: 'peer-keys-0123456789abcdef' }

describe('internal-token keys across nodes', { skip }, () => {
  let redis: RedisServer
  let upstream: Upstream
  let a: GatehouseProcess
  let b: GatehouseProcess

  before(async () => {
    ;[redis, upstream] = await Promise.all([startRedis(), startUpstream()])
    const config = {
      _format_version: '3.0',
      redis: { url: redis.url },
      internal_tokens: { issuer: 'https://gatehouse.test' },
      services: [
        {
          name: 'orders',
          url: upstream.url,
          routes: [{ name: 'orders', paths: ['/orders'], plugins: [{ name: 'key-auth' }] }],
          plugins: [{ name: 'internal-token', config: { audience: 'orders' } }],
        },
      ],
      consumers: [{ username: 'acme', keyauth_credentials: [{ key: KEY.apikey }] }],
    }
    ;[a, b] = await Promise.all([startGatehouse({ config }), startGatehouse({ config })])
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    await upstream?.close()
    await redis?.stop()
  })

  const jwks = async (node: GatehouseProcess) =>
    (await (await node.proxy('/.well-known/gatehouse/jwks.json')).json()) as JSONWebKeySet
  const minted = async (node: GatehouseProcess) => {
    const body = (await (await node.proxy('/orders', { headers: KEY })).json()) as EchoBody
    return (body.headers.authorization as string).slice('Bearer '.length)
  }

  it('lists every node’s keys on every node, so a token from one verifies with the JWKS of another', async () => {
    const fromB = await minted(b)
    const kidB = decodeProtectedHeader(fromB).kid!
    const kidA = decodeProtectedHeader(await minted(a)).kid!
    assert.notEqual(kidA, kidB, 'each node signs with its own key')
    await until(
      async () => (await jwks(a)).keys.map((k) => k.kid),
      (kids) => kids.includes(kidB),
      3000,
    )
    const { payload } = await jwtVerify(fromB, createLocalJWKSet(await jwks(a)), {
      issuer: 'https://gatehouse.test',
      audience: 'orders',
      typ: 'gatehouse-internal+jwt',
      algorithms: ['ES256'],
    })
    assert.equal(payload.sub, 'acme')
    await until(
      async () => (await jwks(b)).keys.map((k) => k.kid),
      (kids) => kids.includes(kidA),
      3000,
    )
    for (const key of (await jwks(b)).keys) assert.equal('d' in key, false, 'no private member travels')
  })

  it('drops a stopped node’s keys from the others', async () => {
    const kidB = decodeProtectedHeader(await minted(b)).kid!
    await b.stop()
    await until(
      async () => (await jwks(a)).keys.map((k) => k.kid),
      (kids) => !kids.includes(kidB),
      8000,
    )
  })
})
