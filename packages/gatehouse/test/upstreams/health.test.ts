/**
 * The health counters both kinds of checks feed, with Kong's rules: failures of one kind in a row eject,
 * successes in a row bring back, a threshold of 0 is off, and statuses in neither list say nothing.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { healthchecksSchema } from '../../src/config/schema/upstream.ts'
import { compileHealthPolicy, HealthCounters, observe, outcomeOfError } from '../../src/proxy/health.ts'

const policy = compileHealthPolicy(
  healthchecksSchema.parse({
    active: {
      healthy: { interval: 1, successes: 2 },
      unhealthy: { interval: 1, tcp_failures: 2, http_failures: 3 },
    },
  }),
)

describe('counting what checks observe', () => {
  it('ejects after the threshold of failures of one kind with no success between them', () => {
    const h = new HealthCounters()
    assert.equal(h.record('tcp_failure', policy.active), false)
    assert.equal(h.record('success', policy.active), false)
    assert.equal(h.record('tcp_failure', policy.active), false)
    assert.equal(h.record('http_failure', policy.active), false)
    assert.equal(h.record('tcp_failure', policy.active), true)
    assert.equal(h.healthy, false)
  })

  it('never ejects for a kind whose threshold is 0', () => {
    const h = new HealthCounters()
    for (let i = 0; i < 50; i++) h.record('timeout', policy.active)
    assert.equal(h.healthy, true)
  })

  it('brings an endpoint back after the threshold of successes in a row', () => {
    const h = new HealthCounters()
    h.set(false)
    assert.equal(h.record('success', policy.active), false)
    assert.equal(h.record('http_failure', policy.active), false)
    assert.equal(h.record('success', policy.active), false)
    assert.equal(h.record('success', policy.active), true)
    assert.equal(h.healthy, true)
  })

  it('reads a status by the lists: healthy, unhealthy, or neither', () => {
    assert.equal(observe(200, policy.active), 'success')
    assert.equal(observe(503, policy.active), 'http_failure')
    assert.equal(observe(418, policy.active), null)
    assert.equal(observe(500, policy.passive), 'http_failure')
    assert.equal(observe(404, policy.passive), null)
  })

  it('counts timeouts and connection errors against the endpoint, and a client that left against nobody', () => {
    const err = (code: string) => Object.assign(new Error(code), { code })
    assert.equal(outcomeOfError(err('UND_ERR_HEADERS_TIMEOUT')), 'timeout')
    assert.equal(outcomeOfError(err('ECONNREFUSED')), 'tcp_failure')
    assert.equal(outcomeOfError(err('HPE_INVALID_CONSTANT')), 'tcp_failure')
    assert.equal(outcomeOfError(err('GH_CLIENT_GONE')), null)
  })

  it('is off (HEALTHCHECKS_OFF) without probes or passive thresholds, and half-opens only when unhealthy endpoints are not probed', () => {
    assert.equal(compileHealthPolicy(healthchecksSchema.parse({})).off, true)
    assert.equal(policy.off, false)
    assert.equal(policy.halfOpenAfter, 0)
    const passiveOnly = compileHealthPolicy(
      healthchecksSchema.parse({ passive: { unhealthy: { timeouts: 1 } } }),
    )
    assert.equal(passiveOnly.off, false)
    assert.equal(passiveOnly.halfOpenAfter, 10_000)
  })
})
