/**
 * Re-resolving targets' host names, with an injected resolver and clock: when the next resolution is
 * due (the records' TTL, clamped; a fixed interval without TTL; backoff after failures), that each
 * address becomes a balanced endpoint, and that a failed resolution keeps the last good addresses.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setImmediate as tick } from 'node:timers/promises'
import { loadConfigObject } from '../../src/config/load.ts'
import { Balancer } from '../../src/proxy/balancer.ts'
import {
  type Clock,
  DNS_LIMITS,
  DnsName,
  nextResolveDelay,
  type Resolution,
  systemResolve,
} from '../../src/proxy/dns.ts'
import { registry } from '../harness/config.ts'

/** A clock whose timers run only when the test says so; it remembers every delay asked for. */
class ManualClock implements Clock {
  readonly delays: number[] = []
  #pending: (() => void) | null = null

  setTimeout(fn: () => void, ms: number): unknown {
    this.delays.push(ms)
    this.#pending = fn
    return fn
  }

  clearTimeout(handle: unknown): void {
    if (this.#pending === handle) this.#pending = null
  }

  /** Runs the pending timer, then lets the resolution it starts settle. */
  async fire(): Promise<void> {
    const fn = this.#pending
    assert.ok(fn, 'a resolution is scheduled')
    this.#pending = null
    fn()
    await tick()
    await tick()
  }

  get scheduled(): boolean {
    return this.#pending !== null
  }
}

/** Answers from a script, one entry per call: addresses with a TTL, or an error code. */
function scripted(...answers: (Resolution | string)[]): (name: string) => Promise<Resolution> {
  return async () => {
    const next = answers.shift()
    if (next === undefined) throw new Error('the script ran out')
    if (typeof next === 'string') throw Object.assign(new Error(`resolution failed: ${next}`), { code: next })
    return next
  }
}

const a = (ttl: number | null, ...addresses: string[]): Resolution => ({
  addresses,
  ttl,
  source: ttl === null ? 'lookup' : 'A',
})

describe('when a host name is resolved again', () => {
  it("waits for the records' TTL, at least 1 s and at most an hour", () => {
    assert.equal(nextResolveDelay(a(30, '10.0.0.1'), 0), 30_000)
    assert.equal(nextResolveDelay(a(0, '10.0.0.1'), 0), DNS_LIMITS.minInterval)
    assert.equal(nextResolveDelay(a(86_400, '10.0.0.1'), 0), DNS_LIMITS.maxInterval)
  })

  it('looks a name up again every 30 s when the answer has no TTL (getaddrinfo, /etc/hosts)', () => {
    assert.equal(nextResolveDelay(a(null, '127.0.0.1'), 0), 30_000)
  })

  it('retries a failed resolution after 1 s, doubling up to 30 s', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => nextResolveDelay(null, n)),
      [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000],
    )
  })
})

describe('keeping a host name resolved', () => {
  it('follows address changes on the TTL and keeps the last good addresses while resolution fails', async () => {
    const clock = new ManualClock()
    const changes: (readonly string[])[] = []
    const errors: { kept: readonly string[]; failures: number }[] = []
    const name = new DnsName('api.internal', {
      resolve: scripted(
        a(5, '10.0.0.1'),
        a(5, '10.0.0.1', '10.0.0.2'),
        'ESERVFAIL',
        'ETIMEOUT',
        a(60, '10.0.0.1', '10.0.0.2'),
      ),
      clock,
      onChange: (addresses) => changes.push(addresses),
      onError: (_err, kept, failures) => errors.push({ kept, failures }),
    })
    await name.ready
    assert.deepEqual(changes, [['10.0.0.1']])
    await clock.fire()
    assert.deepEqual(changes.at(-1), ['10.0.0.1', '10.0.0.2'])
    await clock.fire()
    await clock.fire()
    assert.deepEqual(errors, [
      { kept: ['10.0.0.1', '10.0.0.2'], failures: 1 },
      { kept: ['10.0.0.1', '10.0.0.2'], failures: 2 },
    ])
    assert.deepEqual(name.addresses, ['10.0.0.1', '10.0.0.2'])
    assert.equal(name.failing, true)
    await clock.fire()
    assert.equal(name.failing, false)
    assert.equal(changes.length, 2, 'the same addresses again are not a change')
    assert.deepEqual(clock.delays, [5000, 5000, 1000, 2000, 60_000])
    name.stop()
    assert.equal(clock.scheduled, false)
  })

  it('resolves localhost, from DNS or else through getaddrinfo (/etc/hosts)', async () => {
    const answer = await systemResolve('localhost')
    assert.ok(answer.addresses.includes('127.0.0.1'), `got ${answer.addresses.join(', ')}`)
  })
})

describe('the endpoints of a target named by DNS', () => {
  const config = loadConfigObject(
    {
      _format_version: '3.0',
      upstreams: [
        { name: 'pool', targets: [{ target: 'api.internal:8080' }, { target: '10.9.9.9:80', weight: 50 }] },
      ],
    },
    'dns.yaml',
    { registry },
  )

  it('balances over each address, follows changes and keeps the last ones when resolution fails', async () => {
    const clock = new ManualClock()
    let changed = 0
    const balancer = new Balancer(config.upstreams[0]!, config.targets, {
      logger: null,
      resolve: scripted(a(5, '10.0.0.1', '10.0.0.2'), a(5, '10.0.0.2', '10.0.0.3'), 'ENOTFOUND'),
      clock,
      onEndpointsChanged: () => changed++,
    })
    const authorities = () => balancer.endpoints().map((e) => e.authority)
    assert.equal(balancer.isReady, false)
    assert.deepEqual(authorities(), ['10.9.9.9:80'])
    await balancer.ready
    assert.deepEqual(authorities(), ['10.0.0.1:8080', '10.0.0.2:8080', '10.9.9.9:80'])
    const kept = balancer.endpoints()[1]
    const picks = new Map<string, number>()
    for (let i = 0; i < 25; i++) {
      const e = balancer.acquire(null)!
      picks.set(e.authority, (picks.get(e.authority) ?? 0) + 1)
      balancer.release(e, 200)
    }
    // Each address carries the target's full weight (100), as in Kong.
    assert.deepEqual(Object.fromEntries(picks), {
      '10.0.0.1:8080': 10,
      '10.0.0.2:8080': 10,
      '10.9.9.9:80': 5,
    })
    await clock.fire()
    assert.deepEqual(authorities(), ['10.0.0.2:8080', '10.0.0.3:8080', '10.9.9.9:80'])
    assert.equal(
      balancer.endpoints()[0],
      kept,
      'an address still present keeps its endpoint (and its health)',
    )
    await clock.fire()
    assert.deepEqual(authorities(), ['10.0.0.2:8080', '10.0.0.3:8080', '10.9.9.9:80'])
    assert.equal(balancer.health()[0]!.dns, 'error')
    assert.equal(balancer.health()[0]!.health, 'HEALTHCHECKS_OFF')
    assert.equal(changed, 2)
    balancer.close()
    assert.equal(clock.scheduled, false)
  })

  it('reports DNS_ERROR for a name that never resolved, and balances over the other targets', async () => {
    const balancer = new Balancer(config.upstreams[0]!, config.targets, {
      logger: null,
      resolve: scripted('ENOTFOUND'),
      clock: new ManualClock(),
      onEndpointsChanged: () => {},
    })
    await balancer.ready
    assert.deepEqual(
      balancer.health().map((t) => [t.target.target, t.health]),
      [
        ['api.internal:8080', 'DNS_ERROR'],
        ['10.9.9.9:80', 'HEALTHCHECKS_OFF'],
      ],
    )
    assert.equal(balancer.acquire(null)?.authority, '10.9.9.9:80')
    balancer.close()
  })
})
