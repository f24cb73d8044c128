/**
 * Redis killed under load, then started again, with two gateway processes sharing it (issue 7): bearer
 * tokens keep being served (revocation checks are in each node's memory, so a subject revoked before the
 * outage stays refused), a new revocation is refused with 503 rather than half made, DPoP proofs are
 * refused (fail closed) or accepted unchecked for replay (`replay_fault_tolerant`) as each route says;
 * once Redis is back the nodes catch up without a restart: revocations made after the recovery reach the
 * other node within a second, those made before are written back into the emptied Redis (a node started
 * afterwards knows them), and replays are caught across nodes again. Real processes, Redis and upstreams.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  accessClaims,
  type DpopKey,
  dpopKey,
  dpopProof,
  nowSeconds,
  signingKey,
  TestIssuer,
} from '../../src/plugins/openid-connect/test-fixtures.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { rawRequest } from '../harness/http.ts'
import { type RedisServer, redisSkipReason, startRedis } from '../harness/redis.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'
import { revoke, within } from './support.ts'

const AUD = 'https://api.shop.test'
const HOST = 'api.shop.test'

describe('a Redis outage under load, on two gateways', { skip: redisSkipReason() }, () => {
  let redis: RedisServer
  let issuer: TestIssuer
  let upstream: Upstream
  let a: GatehouseProcess
  let b: GatehouseProcess
  let config: object
  let key: DpopKey
  let bound: string
  const extra: GatehouseProcess[] = []

  before(async () => {
    ;[redis, issuer, upstream, key] = await Promise.all([
      startRedis(),
      TestIssuer.start([await signingKey('ec-1')]),
      startUpstream(),
      dpopKey(),
    ])
    const route = (name: string, more: object = {}) => ({
      name,
      paths: [`/${name}`],
      plugins: [
        {
          name: 'openid-connect',
          config: { issuer: issuer.url, audience: AUD, verbose_errors: true, ...more },
        },
      ],
    })
    config = {
      _format_version: '3.0',
      redis: { url: redis.url, command_timeout: 300, connect_timeout: 500 },
      services: [
        {
          name: 'api',
          url: upstream.url,
          routes: [
            route('orders'),
            route('strict', { dpop: { replay: 'redis' } }),
            route('tolerant', { dpop: { replay: 'redis', replay_fault_tolerant: true } }),
          ],
        },
      ],
    }
    ;[a, b] = await Promise.all([startGatehouse({ config }), startGatehouse({ config })])
    bound = await issuer.sign('ec-1', accessClaims(issuer.url, AUD, { cnf: { jkt: key.jkt } }))
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), ...extra.map((n) => n.stop())])
    await Promise.all([issuer?.stop(), upstream?.close()])
    await redis?.stop()
  })

  const tokenFor = (sub: string) =>
    issuer.sign('ec-1', accessClaims(issuer.url, AUD, { sub, iat: nowSeconds() - 5 }))
  const bearer = (node: GatehouseProcess, token: string) =>
    node.proxy('/orders', { headers: { authorization: `Bearer ${token}` } })
  const withProof = async (node: GatehouseProcess, path: string, proof?: string) =>
    rawRequest(`${node.proxyUrl}${path}`, {
      headers: {
        host: HOST,
        authorization: `DPoP ${bound}`,
        dpop: proof ?? (await dpopProof(key, { htu: `http://${HOST}${path}`, accessToken: bound })),
      },
    })
  const inSync = async (node: GatehouseProcess) =>
    ((await (await node.admin('/revocations?limit=1')).json()) as { in_sync: boolean }).in_sync

  it('serves, refuses and recovers as configured', async () => {
    const alice = await tokenFor('u-alice')
    const mallory = await tokenFor('u-mallory')
    await revoke(a, { subject: 'u-mallory' })
    await within(1000, async () => (await bearer(b, mallory)).status === 401, 'B refuses mallory')

    // Load: each node serves alice and mallory back to back through the outage.
    const seen: { who: string; status: number; ms: number }[] = []
    let loading = true
    const loops = [a, b].flatMap((node) =>
      [
        ['alice', alice],
        ['mallory', mallory],
      ].map(async ([who, token]) => {
        while (loading) {
          const started = Date.now()
          const res = await bearer(node, token!)
          await res.arrayBuffer()
          seen.push({ who: who!, status: res.status, ms: Date.now() - started })
        }
      }),
    )
    await new Promise((r) => setTimeout(r, 200))
    await redis.kill()
    try {
      await within(3000, async () => !(await inSync(a)) && !(await inSync(b)), 'both nodes notice')
      const refused = await a.admin('/revocations', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ subject: 'u-alice' }),
      })
      assert.equal(refused.status, 503)
      assert.equal(((await refused.json()) as { code: string }).code, 'GH_ERR_REVOCATION_UNAVAILABLE')
      assert.equal(refused.headers.get('retry-after'), '1')

      const strict = await withProof(b, '/strict')
      assert.equal(strict.status, 401, strict.body)
      assert.equal(JSON.parse(strict.body).reason, 'dpop_replay_unavailable')
      assert.equal((await withProof(b, '/tolerant')).status, 200, 'accepted unchecked for replay')
      await b.waitForLog((l) => l.msg === 'DPoP replay cache unavailable; refusing DPoP proofs')
      await a.waitForLog(
        (l) => l.msg === 'revocations cannot be synchronised; enforcing those this node knows',
      )
    } finally {
      await redis.start()
    }
    await within(5000, async () => (await inSync(a)) && (await inSync(b)), 'both nodes back in step')
    loading = false
    await Promise.all(loops)

    const during = (who: string) => [...new Set(seen.filter((s) => s.who === who).map((s) => s.status))]
    assert.deepEqual(during('alice'), [200], 'alice served throughout')
    assert.deepEqual(during('mallory'), [401], 'mallory refused throughout')
    assert.ok(Math.max(...seen.map((s) => s.ms)) < 1000, 'no request waited on Redis')

    // Made after the recovery: reaches the other node within a second.
    await revoke(a, { subject: 'u-alice' })
    await within(1000, async () => (await bearer(b, alice)).status === 401, 'B refuses alice')
    // Made before the outage, lost with Redis's data, written back by the nodes: a new node knows it.
    const c = await startGatehouse({ config })
    extra.push(c)
    assert.equal((await bearer(c, mallory)).status, 401)
    // Replays are caught across nodes again.
    const proof = await dpopProof(key, { htu: `http://${HOST}/strict`, accessToken: bound })
    assert.equal((await withProof(a, '/strict', proof)).status, 200)
    const replayed = await withProof(b, '/strict', proof)
    assert.equal(JSON.parse(replayed.body).reason, 'dpop_replay')
  })
})
