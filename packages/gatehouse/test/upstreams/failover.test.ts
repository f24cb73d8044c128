/**
 * No failed request when a target goes away (issue 10, section 5), through a real gateway to real
 * targets. A request of which nothing was written never reached the target, so the gateway replays it
 * on another target whatever its method, body included; a request that may have been delivered is
 * replayed only when it is idempotent and has no body, so no body is ever delivered twice.
 *
 * The targets record each request id whose whole body they received; a test passes only when every
 * request succeeded and every id arrived exactly once across the targets, with the body it was sent.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { Agent, type ClientRequest, request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { type GatehouseProcess, startGatehouse } from '../harness/gatehouse.ts'
import { bodyFor, DyingTarget } from './dying-target.ts'
import { until } from './support.ts'

type Kind = 'POST' | 'POST streamed' | 'PUT' | 'PATCH' | 'DELETE' | 'GET'
const KINDS: readonly Kind[] = ['POST', 'POST streamed', 'PUT', 'PATCH', 'DELETE', 'GET']

interface Outcome {
  readonly kind: Kind
  readonly id: string
  readonly status: number
  readonly body: string
}

/** Starts a request and returns it with its response; the caller writes the body. */
function open(
  url: string,
  method: string,
  headers: Record<string, string>,
  agent: Agent | false,
): { req: ClientRequest; response: Promise<{ status: number; body: string }> } {
  const req = request(url, { method, headers, agent })
  const response = new Promise<{ status: number; body: string }>((resolve) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
      res.on('error', (err) => resolve({ status: -1, body: String(err) }))
    })
    req.on('error', (err) => resolve({ status: -1, body: String(err) }))
  })
  return { req, response }
}

/** One request of `kind`, its body (if any) carrying its id; a streamed body goes in two writes. */
async function send(url: string, kind: Kind, agent: Agent): Promise<Outcome> {
  const id = randomUUID()
  const method = kind === 'POST streamed' ? 'POST' : kind
  const body = kind === 'GET' || kind === 'DELETE' ? null : bodyFor(id, 2000)
  const headers: Record<string, string> = { 'x-test-id': id, 'x-request-id': id }
  if (body !== null && kind !== 'POST streamed') headers['content-length'] = String(Buffer.byteLength(body))
  if (body !== null) headers['content-type'] = 'application/json'
  const { req, response } = open(url, method, headers, agent)
  if (kind === 'POST streamed') {
    req.write(body!.slice(0, 1000))
    setImmediate(() => req.end(body!.slice(1000)))
  } else req.end(body ?? undefined)
  const { status, body: answer } = await response
  return { kind, id, status, body: answer }
}

describe('no failed request when a target dies', () => {
  let steadyA: DyingTarget
  let steadyB: DyingTarget
  let cutA: DyingTarget
  let cutB: DyingTarget
  let lostA: DyingTarget
  let lostB: DyingTarget
  let gh: GatehouseProcess

  before(async () => {
    const started = await Promise.all(
      ['steadyA', 'steadyB', 'cutA', 'cutB', 'lostA', 'lostB'].map((n) => new DyingTarget(n).start()),
    )
    ;[steadyA, steadyB, cutA, cutB, lostA, lostB] = started as [
      DyingTarget,
      DyingTarget,
      DyingTarget,
      DyingTarget,
      DyingTarget,
      DyingTarget,
    ]
    lostB.dropAfterReading = '/never'
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        upstreams: [
          {
            name: 'steady',
            // Ejected after 30 refusals in a row: enough replays for POSTs to be among them.
            healthchecks: { passive: { unhealthy: { tcp_failures: 30 }, half_open_after: 0 } },
            targets: [{ target: steadyA.address }, { target: steadyB.address }],
          },
          // The first target's weight makes it take every first attempt; a retry avoids it.
          {
            name: 'cut',
            targets: [
              { target: cutA.address, weight: 1000 },
              { target: cutB.address, weight: 1 },
            ],
          },
          {
            name: 'lost',
            targets: [
              { target: lostA.address, weight: 1000 },
              { target: lostB.address, weight: 1 },
            ],
          },
        ],
        services: ['steady', 'cut', 'lost'].map((name) => ({
          name,
          host: name,
          routes: [{ name, paths: [`/${name}`] }],
        })),
      },
    })
  })

  after(async () => {
    await gh?.stop()
    for (const t of [steadyA, steadyB, cutA, cutB, lostA, lostB]) await t?.stop()
  })

  const accessLine = (id: string) => gh.waitForLog((l) => l.type === 'access' && l.request_id === id)

  it('fails no request of a steady stream from eight clients when one of two targets shuts down, and delivers each body once', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 })
    const outcomes: Outcome[] = []
    let running = true
    const clients = Array.from({ length: 8 }, async (_, c) => {
      for (let i = c; running; i++) outcomes.push(await send(`${gh.proxyUrl}/steady`, KINDS[i % 6]!, agent))
    })
    try {
      await until(() => steadyA.received.length >= 100 && steadyB.received.length >= 100, 30_000, 'warm-up')
      steadyA.shutDown()
      const atShutdown = steadyB.received.length
      await until(() => steadyB.received.length >= atShutdown + 300, 30_000, 'traffic after the shutdown')
    } finally {
      running = false
      await Promise.all(clients)
      agent.destroy()
    }

    const failed = outcomes.filter((o) => o.status !== 200)
    assert.deepEqual(failed.slice(0, 5), [], `${failed.length} of ${outcomes.length} requests failed`)
    for (const o of outcomes) assert.equal((JSON.parse(o.body) as { id: string }).id, o.id)
    const delivered = [...steadyA.ids(), ...steadyB.ids()]
    const counts = new Map<string, number>()
    for (const id of delivered) counts.set(id, (counts.get(id) ?? 0) + 1)
    const twice = [...counts].filter(([, n]) => n > 1)
    assert.deepEqual(twice, [], 'no request reached the targets twice')
    assert.equal(delivered.length, outcomes.length, 'every request reached a target once')
    assert.deepEqual([...steadyA.corrupt, ...steadyB.corrupt], [])

    // The refused attempts were replayed, POSTs with bodies among them, and counted by passive checks.
    const retried = gh.accessLines().filter((l) => l.service === 'steady' && Number(l.attempts) > 1)
    assert.ok(
      retried.some((l) => l.method === 'POST'),
      `POSTs were retried (${retried.length} retried requests)`,
    )
    const health = (await (await gh.admin('/upstreams/steady/health')).json()) as {
      data: {
        target: string
        health: string
        data: {
          addresses: { failures: { tcp_failures: number; last: { kind: string; at: string } | null } }[]
        }
      }[]
    }
    const ejected = health.data.find((d) => d.target === steadyA.address)
    assert.equal(ejected?.health, 'UNHEALTHY')
    // The report says why: the failures the passive checks counted, the latest with its time.
    const failures = ejected!.data.addresses[0]!.failures
    assert.ok(failures.tcp_failures > 0, JSON.stringify(failures))
    assert.equal(failures.last?.kind, 'tcp_failure')
    assert.ok(Math.abs(Date.parse(failures.last!.at) - Date.now()) < 600_000, failures.last!.at)
  })

  for (const refuse of [false, true]) {
    it(`replays requests whose connections were cut before any byte was written, on the other target${refuse ? ', when the port then refuses connections' : ''}`, async () => {
      const cutsBefore = cutA.cutBytes.length
      const receivedBefore = cutA.received.length
      const kinds: Kind[] = ['POST', 'POST streamed', 'PATCH']
      const pending = kinds.map((kind) => {
        const id = randomUUID()
        const method = kind === 'POST streamed' ? 'POST' : kind
        const body = bodyFor(id, 100_000)
        const headers: Record<string, string> = { 'x-test-id': id, 'x-request-id': id }
        if (kind !== 'POST streamed') headers['content-length'] = String(Buffer.byteLength(body))
        const { req, response } = open(`${gh.proxyUrl}/cut`, method, headers, false)
        // The head only: the gateway dispatches, and undici writes nothing until the body's first chunk.
        req.flushHeaders()
        return { id, req, body, response }
      })
      // Each request waits on its own connection to the first target for a body that has not come.
      await until(() => cutA.connections === kinds.length, 10_000, 'a connection per request')
      // Time for undici to put each request on its connection once connected. Were one not there yet, it
      // would meet the cut or the refusal before starting, and be replayed all the same.
      await sleep(100)
      cutA.cutConnections(refuse)
      for (const p of pending) p.req.end(p.body)
      for (const p of pending) {
        const { status, body } = await p.response
        assert.equal(status, 200, JSON.stringify(await accessLine(p.id)))
        assert.deepEqual(JSON.parse(body), { target: 'cutB', id: p.id })
        assert.equal((await accessLine(p.id)).attempts, 2)
      }
      assert.deepEqual(cutA.cutBytes.slice(cutsBefore), [0, 0, 0], 'nothing had been written to the cut ones')
      assert.equal(cutA.received.length, receivedBefore)
      for (const p of pending) assert.equal(cutB.ids().filter((id) => id === p.id).length, 1)
      assert.deepEqual(cutB.corrupt, [])
    })
  }

  it('does not replay a POST that reached the target before its connection was lost: 502, delivered once', async () => {
    const id = randomUUID()
    const body = bodyFor(id, 1000)
    const { req, response } = open(
      `${gh.proxyUrl}/lost/drop`,
      'POST',
      { 'x-test-id': id, 'x-request-id': id, 'content-length': String(Buffer.byteLength(body)) },
      false,
    )
    req.end(body)
    const { status, body: answer } = await response
    assert.equal(status, 502)
    assert.equal((JSON.parse(answer) as { code: string }).code, 'GH_ERR_UPSTREAM_UNAVAILABLE')
    assert.equal((await accessLine(id)).attempts, undefined, 'one attempt')
    assert.deepEqual(lostA.ids(), [id])
    assert.deepEqual(lostB.ids(), [])
  })

  it('replays a GET that reached the target before its connection was lost, on the other target', async () => {
    const id = randomUUID()
    const { req, response } = open(
      `${gh.proxyUrl}/lost/drop`,
      'GET',
      { 'x-test-id': id, 'x-request-id': id },
      false,
    )
    req.end()
    const { status, body } = await response
    assert.equal(status, 200, body)
    assert.deepEqual(JSON.parse(body), { target: 'lostB', id })
    assert.equal((await accessLine(id)).attempts, 2)
  })
})
