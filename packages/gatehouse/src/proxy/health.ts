/**
 * Health of one balanced endpoint, as Kong's healthchecker counts it: consecutive successes bring an
 * unhealthy endpoint back, consecutive failures of one kind (connection, timeout, HTTP status) take a
 * healthy one out, and a threshold of 0 turns its rule off. Active probes and proxied traffic (passive
 * checks) feed the same counters, each with its own thresholds and status lists.
 */
import type { Healthchecks } from '../config/schema/upstream.ts'

export type Observation = 'success' | 'tcp_failure' | 'timeout' | 'http_failure'

/** What one attempt on an endpoint showed: its response status, a failure, or nothing (the client left). */
export type Outcome = number | 'tcp_failure' | 'timeout' | null

export interface HealthRules {
  readonly healthyStatuses: ReadonlySet<number>
  readonly unhealthyStatuses: ReadonlySet<number>
  readonly successes: number
  readonly tcp_failures: number
  readonly timeouts: number
  readonly http_failures: number
}

/** An upstream's `healthchecks`, compiled once when its balancer is made. */
export interface HealthPolicy {
  readonly active: HealthRules
  readonly passive: HealthRules
  /** Milliseconds between probes of healthy / unhealthy endpoints; 0 = not probed. */
  readonly probeHealthyEvery: number
  readonly probeUnhealthyEvery: number
  /** Kong's HEALTHCHECKS_OFF: no probing and no passive failure threshold, so every endpoint stays healthy. */
  readonly off: boolean
  /** Milliseconds from a passive ejection to a half-open trial; 0 = never (or unhealthy endpoints are probed). */
  readonly halfOpenAfter: number
  /** Percent of the total weight that must be healthy for the upstream to take requests. */
  readonly threshold: number
}

export function compileHealthPolicy(h: Healthchecks): HealthPolicy {
  const { active, passive } = h
  const probeHealthyEvery = active.healthy.interval * 1000
  const probeUnhealthyEvery = active.unhealthy.interval * 1000
  const passiveOn =
    passive.unhealthy.tcp_failures + passive.unhealthy.timeouts + passive.unhealthy.http_failures > 0
  return {
    active: rules(active.healthy, active.unhealthy),
    passive: rules(passive.healthy, passive.unhealthy),
    probeHealthyEvery,
    probeUnhealthyEvery,
    off: probeHealthyEvery === 0 && probeUnhealthyEvery === 0 && !passiveOn,
    halfOpenAfter: probeUnhealthyEvery > 0 ? 0 : passive.half_open_after * 1000,
    threshold: h.threshold,
  }
}

function rules(
  healthy: { http_statuses: readonly number[]; successes: number },
  unhealthy: {
    http_statuses: readonly number[]
    tcp_failures: number
    timeouts: number
    http_failures: number
  },
): HealthRules {
  return {
    healthyStatuses: new Set(healthy.http_statuses),
    unhealthyStatuses: new Set(unhealthy.http_statuses),
    successes: healthy.successes,
    tcp_failures: unhealthy.tcp_failures,
    timeouts: unhealthy.timeouts,
    http_failures: unhealthy.http_failures,
  }
}

/** The observation an outcome makes under `rules`; a status in neither list says nothing. */
export function observe(outcome: Outcome, rules: HealthRules): Observation | null {
  if (typeof outcome !== 'number') return outcome
  if (rules.healthyStatuses.has(outcome)) return 'success'
  if (rules.unhealthyStatuses.has(outcome)) return 'http_failure'
  return null
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'GH_WRITE_TIMEOUT',
])

/** Failures that say nothing about the endpoint: the client left or was slow, or our own pool closed. */
const NOT_THE_ENDPOINT = new Set([
  'GH_CLIENT_GONE',
  'GH_CLIENT_BODY_TIMEOUT',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_ABORTED',
  'ABORT_ERR',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
])

/** A failed exchange as passive checks count it (Kong counts connection and protocol errors as TCP failures). */
export function outcomeOfError(err: Error & { code?: string }): Outcome {
  const code = err.code ?? ''
  if (err.name === 'AbortError' || NOT_THE_ENDPOINT.has(code)) return null
  return TIMEOUT_CODES.has(code) ? 'timeout' : 'tcp_failure'
}

/** The failures an endpoint showed since it was created (for operators: the health report, the console). */
export interface FailureRecord {
  readonly tcp_failures: number
  readonly timeouts: number
  readonly http_failures: number
  /** The latest failure: its kind and when (ISO 8601), or null when there was none. */
  readonly last: { readonly kind: Exclude<Observation, 'success'>; readonly at: string } | null
}

/** Consecutive counts of one endpoint, and its failures since it was created. */
export class HealthCounters {
  healthy = true
  #successes = 0
  #tcpFailures = 0
  #timeouts = 0
  #httpFailures = 0
  #failures = { tcp_failures: 0, timeouts: 0, http_failures: 0 }
  #lastFailure: { kind: Exclude<Observation, 'success'>; at: number } | null = null

  /**
   * Notes a failure for the report without judging health: with health checks off, failures are still
   * worth showing to an operator (only on failures, so the proxy's success path pays nothing).
   */
  note(observation: Observation): void {
    if (observation === 'success') return
    if (observation === 'tcp_failure') this.#failures.tcp_failures++
    else if (observation === 'timeout') this.#failures.timeouts++
    else this.#failures.http_failures++
    this.#lastFailure = { kind: observation, at: Date.now() }
  }

  failures(): FailureRecord {
    const last = this.#lastFailure
    return {
      ...this.#failures,
      last: last === null ? null : { kind: last.kind, at: new Date(last.at).toISOString() },
    }
  }

  /** Counts one observation; true when it changed `healthy`. */
  record(observation: Observation, rules: HealthRules): boolean {
    this.note(observation)
    if (observation === 'success') {
      this.#tcpFailures = this.#timeouts = this.#httpFailures = 0
      if (this.healthy || rules.successes === 0) return false
      if (++this.#successes < rules.successes) return false
      this.set(true)
      return true
    }
    this.#successes = 0
    if (!this.healthy) return false
    let count: number
    let limit: number
    if (observation === 'tcp_failure') {
      count = ++this.#tcpFailures
      limit = rules.tcp_failures
    } else if (observation === 'timeout') {
      count = ++this.#timeouts
      limit = rules.timeouts
    } else {
      count = ++this.#httpFailures
      limit = rules.http_failures
    }
    if (limit === 0 || count < limit) return false
    this.set(false)
    return true
  }

  /** Sets the health outright (a half-open trial, or a manual override) and starts counting afresh. */
  set(healthy: boolean): void {
    this.healthy = healthy
    this.#successes = this.#tcpFailures = this.#timeouts = this.#httpFailures = 0
  }
}
