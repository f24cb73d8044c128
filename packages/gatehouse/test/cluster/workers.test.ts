/**
 * A node of two workers is one node to the outside (issue 11, item 2): both workers serve the proxy
 * port, /status and /metrics on the primary's admin API count every worker's requests, there is one
 * access log, a local-policy rate limit is exact for the node, every worker signs internal tokens with
 * the node's one key (and serves one JWKS), an admin rotation or revocation is in force in every worker
 * once it is answered, and /metrics has each process's event-loop utilisation and lag. The real process,
 * two workers; which worker served a request is read from its access line's pid (node:cluster hands
 * connections out in turn, so requests on fresh connections reach both).
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { decodeProtectedHeader } from 'jose'
import {
  accessClaims,
  nowSeconds,
  signingKey,
  TestIssuer,
} from '../../src/plugins/openid-connect/test-fixtures.ts'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { sample } from '../harness/prometheus.ts'
import { type EchoBody, startUpstream, type Upstream } from '../harness/upstream.ts'
import {
  accessLine,
  distinct,
  duplicateKeys,
  freshMany,
  metricsText,
  nodeStatus,
  type Sent,
  servedBy,
  until,
  workerPids,
} from './support.ts'

const AUD = 'https://orders.api.test'
const JWKS_PATH = '/.well-known/gatehouse/jwks.json'
const json = { 'content-type': 'application/json' }

describe('a node of two workers', () => {
  let upstream: Upstream
  let issuer: TestIssuer
  let gh: GatehouseProcess

  before(async () => {
    ;[upstream, issuer] = await Promise.all([
      startUpstream(),
      TestIssuer.start([await signingKey('ec-1'), await signingKey('ec-2')]),
    ])
    gh = await startGatehouse({
      args: ['--workers', '2'],
      timeout: 60_000,
      config: {
        _format_version: '3.0',
        internal_tokens: { issuer: 'https://gatehouse.workers.test' },
        services: [
          {
            name: 'svc',
            url: upstream.url,
            routes: [
              { name: 'count', paths: ['/count'] },
              {
                name: 'limited',
                paths: ['/limited'],
                plugins: [{ name: 'rate-limiting', config: { minute: 7, policy: 'local', limit_by: 'ip' } }],
              },
            ],
          },
          {
            name: 'orders',
            url: upstream.url,
            routes: [{ name: 'orders', paths: ['/orders'] }],
            plugins: [
              { name: 'openid-connect', config: { issuer: issuer.url, audience: AUD, verbose_errors: true } },
              { name: 'internal-token', config: { audience: 'orders' } },
            ],
          },
        ],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await Promise.all([upstream?.close(), issuer?.stop()])
  })

  const bearer = async (sub: string, kid = 'ec-1') => ({
    authorization: `Bearer ${await issuer.sign(kid, accessClaims(issuer.url, AUD, { sub, iat: nowSeconds() - 5 }))}`,
  })
  /** The kid of the internal token the upstream received for each request. */
  const mintedKids = (sent: readonly Sent[]) =>
    sent.map((s) => {
      assert.equal(s.status, 200, s.body)
      const auth = (JSON.parse(s.body) as EchoBody).headers.authorization as string
      return decodeProtectedHeader(auth.slice('Bearer '.length)).kid
    })
  /** Asserts that `sent` reached both workers of the node. */
  const assertBothServed = async (sent: readonly Sent[]) =>
    assert.deepEqual(
      distinct(await servedBy(gh, sent)),
      distinct(await workerPids(gh)),
      'both workers served',
    )

  it('serves on both workers, and /status and /metrics count every request of every worker', async () => {
    const sent = await freshMany(gh, 20, '/count')
    assert.deepEqual(
      sent.map((s) => s.status),
      sent.map(() => 200),
    )
    await Promise.all(sent.map((s) => accessLine(gh, s.id)))
    const status = await nodeStatus(gh)
    const workers = status.workers ?? []
    assert.deepEqual(workers.map((w) => w.slot).sort(), [0, 1])
    for (const w of workers)
      assert.ok(w.total_requests > 0, `worker ${w.slot} served requests: ${w.total_requests}`)
    assert.equal(
      workers.reduce((sum, w) => sum + w.total_requests, 0),
      status.server.total_requests,
      'the top-level total is the sum over the workers (the primary serves no proxy traffic)',
    )
    assert.ok(status.server.total_requests >= 20)
    const text = await metricsText(gh)
    assert.equal(
      sample(text, 'gatehouse_http_requests_total', { service: 'svc', route: 'count', code: '200' }),
      20,
      'the route counter is the sum over the workers',
    )
  })

  it('writes one access log: every line on stdout is JSON, and each request has exactly one access line, with a worker’s pid', async () => {
    const sent = await freshMany(gh, 12, '/count')
    await Promise.all(sent.map((s) => accessLine(gh, s.id)))
    const pids = await workerPids(gh)
    for (const s of sent) {
      const lines = gh.accessLines().filter((l) => l.request_id === s.id)
      assert.equal(lines.length, 1, `one access line for ${s.id}`)
      assert.ok(pids.includes(lines[0]!.pid as number), `pid ${lines[0]!.pid} is a worker's (${pids})`)
    }
    assert.deepEqual(distinct(await servedBy(gh, sent)), distinct(pids), 'both workers logged')
    const text = gh.stdout.slice(0, gh.stdout.lastIndexOf('\n'))
    for (const line of text.split('\n')) {
      assert.doesNotThrow(() => JSON.parse(line), line)
      assert.deepEqual(duplicateKeys(line), [], line)
    }
    // The primary names each worker it started: its slot and its pid.
    const serving = gh.lines.filter((l) => l.msg === 'worker serving')
    assert.deepEqual(
      serving.map((l) => [l.worker, l.worker_pid]).sort(),
      pids.map((pid, slot) => [slot, pid]),
    )
  })

  it('limits `minute: 7, policy: local` to exactly 7 for the node, whichever worker gets the requests', async () => {
    // The burst must not straddle a minute: with fewer than 15 s left, wait for the next minute.
    const left = 60_000 - (Date.now() % 60_000)
    if (left < 15_000) await new Promise((r) => setTimeout(r, left + 50))
    const sent = await freshMany(gh, 20, '/limited')
    const statuses = sent.map((s) => s.status)
    assert.equal(statuses.filter((s) => s === 200).length, 7, `statuses: ${statuses}`)
    assert.equal(statuses.filter((s) => s === 429).length, statuses.length - 7)
    await assertBothServed(sent)
  })

  it('signs internal tokens with one key in every worker, serves one JWKS, and after a rotation every worker signs with the new key', async () => {
    const ring = async () => {
      const res = await gh.admin('/internal-tokens/jwks.json')
      assert.equal(res.status, 200)
      return res.text()
    }
    const activeKid = async () => {
      const res = await gh.admin('/internal-tokens/keys')
      const keys = ((await res.json()) as { data: { kid: string; state: string }[] }).data
      return keys.find((k) => k.state === 'active')!.kid
    }
    const auth = await bearer('u-keys')
    const before = await freshMany(gh, 6, '/orders', auth)
    await assertBothServed(before)
    const first = await activeKid()
    assert.deepEqual(distinct(mintedKids(before)), [first])
    const jwks = await freshMany(gh, 6, JWKS_PATH)
    await assertBothServed(jwks)
    const primaryJwks = await ring()
    for (const s of jwks) assert.equal(s.body, primaryJwks, 'the JWKS is byte-identical on every worker')

    const rotated = await gh.admin('/internal-tokens/keys/rotate', { method: 'POST' })
    assert.equal(rotated.status, 201)
    const second = await activeKid()
    assert.notEqual(second, first)
    // Right after the answer: no worker still signs with the old key.
    const afterRotation = await freshMany(gh, 6, '/orders', auth)
    await assertBothServed(afterRotation)
    assert.deepEqual(distinct(mintedKids(afterRotation)), [second])
    const jwksAfter = await freshMany(gh, 6, JWKS_PATH)
    await assertBothServed(jwksAfter)
    const primaryAfter = await ring()
    assert.ok(primaryAfter.includes(second))
    for (const s of jwksAfter) assert.equal(s.body, primaryAfter)
  })

  it('applies a revocation in every worker before the admin API answers', async () => {
    const alice = await bearer('u-alice')
    const bob = await bearer('u-bob', 'ec-2')
    // Both workers have verified (and cached) both tokens.
    for (const auth of [alice, bob]) {
      const ok = await freshMany(gh, 4, '/orders', auth)
      assert.deepEqual(
        ok.map((s) => s.status),
        ok.map(() => 200),
      )
      await assertBothServed(ok)
    }
    const revoke = async (body: object) => {
      const res = await gh.admin('/revocations', {
        method: 'POST',
        headers: json,
        body: JSON.stringify(body),
      })
      assert.equal(res.status, 201, await res.text())
    }

    await revoke({ subject: 'u-alice' })
    const refused = await freshMany(gh, 6, '/orders', alice)
    for (const s of refused) {
      assert.equal(s.status, 401)
      assert.equal((JSON.parse(s.body) as { reason: string }).reason, 'oidc_token_revoked')
    }
    await assertBothServed(refused)
    const still = await freshMany(gh, 4, '/orders', bob)
    assert.deepEqual(
      still.map((s) => s.status),
      still.map(() => 200),
      'another subject still passes',
    )

    await revoke({ key: 'ec-2' })
    const withdrawn = await freshMany(gh, 6, '/orders', bob)
    for (const s of withdrawn) {
      assert.equal(s.status, 401)
      assert.equal((JSON.parse(s.body) as { reason: string }).reason, 'oidc_key_revoked')
    }
    await assertBothServed(withdrawn)
  })

  it('reports event-loop utilisation and lag for the primary and each worker in /metrics', async () => {
    // Sampled every 5 s in each process.
    const text = await until(
      () => metricsText(gh),
      (t) =>
        ['primary', '0', '1'].every(
          (worker) =>
            sample(t, 'gatehouse_event_loop_utilization', { worker }) !== undefined &&
            sample(t, 'gatehouse_event_loop_lag_seconds', { worker, stat: 'p99' }) !== undefined,
        ),
      20_000,
    )
    for (const worker of ['primary', '0', '1']) {
      const elu = sample(text, 'gatehouse_event_loop_utilization', { worker })!
      assert.ok(elu >= 0 && elu <= 1, `utilisation of ${worker}: ${elu}`)
      for (const stat of ['p50', 'p99', 'max'])
        assert.ok(
          sample(text, 'gatehouse_event_loop_lag_seconds', { worker, stat })! >= 0,
          `${worker} ${stat}`,
        )
    }
  })
})
