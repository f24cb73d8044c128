/**
 * DPoP proofs remembered in Redis (`dpop.replay: redis`) on two gateway processes behind one public name:
 * a proof accepted by one node is refused when replayed to the other, while with the in-memory cache
 * each node only knows its own proofs. Real processes, a real Redis, a real issuer and upstream.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  accessClaims,
  type DpopKey,
  dpopKey,
  dpopProof,
  signingKey,
  TestIssuer,
} from '../../src/plugins/openid-connect/test-fixtures.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { rawRequest } from '../harness/http.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../harness/redis.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

const AUD = 'https://api.shop.test'
/** The name both nodes are reached by, as behind a load balancer. */
const HOST = 'api.shop.test'

describe('DPoP replay across two gateways sharing one Redis', { skip: redisSkipReason() }, () => {
  let redis: RedisServer
  let issuer: TestIssuer
  let upstream: Upstream
  let nodes: GatehouseProcess[] = []
  let key: DpopKey
  let token: string

  before(async () => {
    ;[redis, issuer, upstream, key] = await Promise.all([
      startRedis(),
      TestIssuer.start([await signingKey('ec-1')]),
      startUpstream(),
      dpopKey(),
    ])
    const route = (name: string, dpop: object) => ({
      name,
      paths: [`/${name}`],
      plugins: [
        { name: 'openid-connect', config: { issuer: issuer.url, audience: AUD, verbose_errors: true, dpop } },
      ],
    })
    const config = {
      _format_version: '3.0',
      redis: { url: redis.url, command_timeout: 300, connect_timeout: 500 },
      services: [
        {
          name: 'api',
          url: upstream.url,
          routes: [route('shared', { replay: 'redis' }), route('local', {})],
        },
      ],
    }
    nodes = await Promise.all([startGatehouse({ config }), startGatehouse({ config })])
    token = await issuer.sign('ec-1', accessClaims(issuer.url, AUD, { cnf: { jkt: key.jkt } }))
  })
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()))
    await Promise.all([issuer?.stop(), upstream?.close()])
    await redis?.stop()
  })

  const proof = (path: string) => dpopProof(key, { htu: `http://${HOST}${path}`, accessToken: token })
  const send = (node: GatehouseProcess, path: string, dpop: string) =>
    rawRequest(`${node.proxyUrl}${path}`, {
      headers: { host: HOST, authorization: `DPoP ${token}`, dpop },
    })

  it('refuses a proof replayed to the other node', async () => {
    const [a, b] = nodes as [GatehouseProcess, GatehouseProcess]
    const used = await proof('/shared')
    assert.equal((await send(a, '/shared', used)).status, 200)
    const replayed = await send(b, '/shared', used)
    assert.equal(replayed.status, 401, replayed.body)
    assert.equal(JSON.parse(replayed.body).reason, 'dpop_replay')
    assert.equal((await send(a, '/shared', used)).status, 401, 'and to the same node')
    assert.equal((await send(b, '/shared', await proof('/shared'))).status, 200, 'a new proof passes')
  })

  it('with the in-memory cache, catches a replay on the same node only', async () => {
    const [a, b] = nodes as [GatehouseProcess, GatehouseProcess]
    const used = await proof('/local')
    assert.equal((await send(a, '/local', used)).status, 200)
    assert.equal((await send(a, '/local', used)).status, 401)
    assert.equal((await send(b, '/local', used)).status, 200, 'the other node never saw it')
  })
})
