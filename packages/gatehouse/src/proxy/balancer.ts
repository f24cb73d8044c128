/**
 * The balancer of one upstream: its targets' endpoints (DNS names kept resolved), their health from
 * active probes and proxied traffic, and the choice of an endpoint per attempt. One per upstream
 * definition, shared by every service naming it and kept across reloads while the definition is the same.
 *
 * Kong has no way back for a target ejected by passive checks alone (only probes or an admin call bring
 * it back). Here, when unhealthy targets are not probed, one request is let through after
 * `passive.half_open_after` seconds (a half-open circuit breaker): if it does not fail, the target is
 * healthy again; if it fails, the wait starts over.
 */
import { isIP } from 'node:net'
import type { TargetEntity, UpstreamEntity } from '../config/model.ts'
import { parseTarget } from '../config/schema/upstream.ts'
import type { Logger } from '../observability/logger.ts'
import { ActiveChecker } from './active-checks.ts'
import { leastConnections, type Pick, roundRobin } from './algorithms.ts'
import { type Clock, DnsName, type Resolve } from './dns.ts'
import { Endpoint } from './endpoint.ts'
import {
  compileHealthPolicy,
  type FailureRecord,
  type HealthPolicy,
  type Observation,
  type Outcome,
  observe,
} from './health.ts'

export interface BalancerOptions {
  readonly logger: Logger | null
  readonly resolve: Resolve
  readonly clock: Clock
  /** Endpoints came or went (DNS), so pools nobody reaches any more can be closed. */
  readonly onEndpointsChanged: () => void
}

export type HealthState = 'HEALTHY' | 'UNHEALTHY' | 'DNS_ERROR' | 'HEALTHCHECKS_OFF'

/** A target's health as the admin API shows it (Kong's `/upstreams/{u}/health`). */
export interface TargetHealth {
  readonly target: TargetEntity
  readonly health: HealthState
  readonly addresses: readonly {
    ip: string
    port: number
    health: HealthState
    weight: number
    /** Failures seen on this address (proxied traffic and probes) since it was resolved. */
    failures: FailureRecord
  }[]
  /** Where the addresses came from: `IP`, `A`, `AAAA`, `lookup`; `error` while a name does not resolve. */
  readonly dns: string
}

interface Slot {
  readonly target: TargetEntity
  readonly host: string
  readonly port: number
  readonly dns: DnsName | null
  endpoints: Endpoint[]
}

export class Balancer {
  readonly upstream: UpstreamEntity
  readonly policy: HealthPolicy
  /** Settles once every DNS name has had its first answer (or failure). */
  readonly ready: Promise<void>
  isReady = false
  readonly #slots: Slot[]
  readonly #options: BalancerOptions
  readonly #pick: Pick
  readonly #checker: ActiveChecker | null
  #all: Endpoint[] = []
  /** Healthy endpoints with a weight, in target order. */
  #eligible: Endpoint[] = []
  #totalWeight = 0
  #healthyWeight = 0
  #ejected = 0
  #closed = false

  constructor(upstream: UpstreamEntity, targets: readonly TargetEntity[], options: BalancerOptions) {
    this.upstream = upstream
    this.policy = compileHealthPolicy(upstream.healthchecks)
    this.#options = options
    this.#pick = upstream.algorithm === 'least-connections' ? leastConnections() : roundRobin
    this.#slots = targets.map((target) => this.#slot(target))
    this.#rebuild()
    const pending = this.#slots.flatMap((s) => (s.dns ? [s.dns.ready] : []))
    this.ready = Promise.all(pending).then(() => {
      this.isReady = true
    })
    this.isReady = pending.length === 0
    const probing = this.policy.probeHealthyEvery > 0 || this.policy.probeUnhealthyEvery > 0
    this.#checker = probing ? new ActiveChecker(this, upstream.healthchecks.active) : null
    this.#checker?.start()
  }

  /**
   * The endpoint for one attempt, counted as in flight until `release`; null when none may be used (all
   * unhealthy, none with a weight, or the healthy weight below `healthchecks.threshold`). `avoid` lists
   * endpoints this request already tried.
   */
  acquire(avoid: readonly Endpoint[] | null): Endpoint | null {
    let endpoint = this.#ejected > 0 && this.policy.halfOpenAfter > 0 ? this.#dueTrial(avoid) : null
    if (endpoint === null) {
      if (this.#healthyWeight === 0 || this.#healthyWeight * 100 < this.policy.threshold * this.#totalWeight)
        return null
      endpoint = this.#pick(this.#eligible, avoid)
      if (endpoint === null) return null
    }
    endpoint.active++
    return endpoint
  }

  /** Ends an attempt: what it showed feeds the passive checks (or decides a half-open trial). */
  release(endpoint: Endpoint, outcome: Outcome): void {
    endpoint.active--
    if (endpoint.trial) {
      endpoint.trial = false
      const observation = observe(outcome, this.policy.passive)
      if (outcome === null) endpoint.trialAt = performance.now()
      else if (observation === 'success' || observation === null) {
        endpoint.health.set(true)
        this.#changed(endpoint, 'success', 'half-open trial')
      } else endpoint.trialAt = performance.now() + this.policy.halfOpenAfter
      return
    }
    const observation = observe(outcome, this.policy.passive)
    if (this.policy.off) {
      if (observation !== null) endpoint.health.note(observation)
      return
    }
    if (observation !== null && endpoint.health.record(observation, this.policy.passive))
      this.#changed(endpoint, observation, 'passive check')
  }

  /** Every endpoint now (ActiveChecker). */
  endpoints(): readonly Endpoint[] {
    return this.#all
  }

  /** Records an active probe's outcome (ActiveChecker). */
  probed(endpoint: Endpoint, outcome: Outcome): void {
    const observation = observe(outcome, this.policy.active)
    if (observation !== null && endpoint.health.record(observation, this.policy.active))
      this.#changed(endpoint, observation, 'active check')
  }

  /**
   * Sets every address of a target healthy or unhealthy by hand (Kong's `POST .../healthy`), the way back
   * for a target passive checks ejected when nothing else would bring it back. False for an unknown target.
   */
  setTargetHealth(targetId: string, healthy: boolean): boolean {
    const slot = this.#slots.find((s) => s.target.id === targetId)
    if (slot === undefined) return false
    for (const e of slot.endpoints) {
      e.health.set(healthy)
      this.#changed(e, healthy ? 'success' : 'http_failure', 'admin API')
    }
    return true
  }

  /** Total and healthy weight of the endpoints, and whether the upstream takes requests. */
  weights(): { total: number; available: number; healthy: boolean } {
    const available = this.#healthyWeight
    const healthy = available > 0 && available * 100 >= this.policy.threshold * this.#totalWeight
    return { total: this.#totalWeight, available, healthy }
  }

  health(): TargetHealth[] {
    const off = this.policy.off
    const state = (e: Endpoint): HealthState =>
      off ? 'HEALTHCHECKS_OFF' : e.health.healthy ? 'HEALTHY' : 'UNHEALTHY'
    return this.#slots.map((slot) => {
      const unresolved = slot.dns !== null && slot.endpoints.length === 0
      let health: HealthState
      if (unresolved) health = 'DNS_ERROR'
      else if (off) health = 'HEALTHCHECKS_OFF'
      else health = slot.endpoints.some((e) => e.health.healthy) ? 'HEALTHY' : 'UNHEALTHY'
      return {
        target: slot.target,
        health,
        addresses: slot.endpoints.map((e) => ({
          ip: e.address,
          port: e.port,
          health: state(e),
          weight: e.weight,
          failures: e.health.failures(),
        })),
        dns:
          slot.dns === null ? 'IP' : slot.dns.failing || unresolved ? 'error' : (slot.dns.source ?? 'error'),
      }
    })
  }

  close(): void {
    this.#closed = true
    this.#checker?.stop()
    for (const slot of this.#slots) slot.dns?.stop()
  }

  #slot(target: TargetEntity): Slot {
    // The loader checked the address.
    const { host, port } = parseTarget(target.target)!
    const ip = host.replace(/^\[|\]$/g, '')
    const slot: Slot = { target, host, port, dns: null, endpoints: [] }
    if (isIP(ip) !== 0) {
      slot.endpoints = [new Endpoint(target, host, ip, port)]
      return slot
    }
    const log = this.#options.logger
    const fields = { upstream: this.upstream.name, target: target.target }
    return Object.assign(slot, {
      dns: new DnsName(host, {
        resolve: this.#options.resolve,
        clock: this.#options.clock,
        onChange: (addresses) => {
          const kept = new Map(slot.endpoints.map((e) => [e.address, e]))
          slot.endpoints = addresses.map((a) => kept.get(a) ?? new Endpoint(target, host, a, port))
          log?.info({ ...fields, addresses }, 'upstream target resolved')
          this.#rebuild()
          this.#options.onEndpointsChanged()
        },
        onError: (err, addresses, failures) => {
          const code = (err as NodeJS.ErrnoException).code ?? err.message
          const entry = { ...fields, code, kept: addresses, failures }
          if (failures === 1) log?.warn(entry, 'upstream target does not resolve; keeping its last addresses')
          else log?.debug(entry, 'upstream target still does not resolve')
        },
      }),
    })
  }

  /** An ejected endpoint whose half-open trial is due, marked as the trial; null when none is. */
  #dueTrial(avoid: readonly Endpoint[] | null): Endpoint | null {
    const now = performance.now()
    for (const e of this.#all) {
      if (e.trialAt > now || e.weight === 0 || avoid?.includes(e)) continue
      e.trialAt = Number.POSITIVE_INFINITY
      e.trial = true
      return e
    }
    return null
  }

  #changed(endpoint: Endpoint, observation: Observation, via: string): void {
    if (this.#closed || !this.#all.includes(endpoint)) return
    const healthy = endpoint.health.healthy
    endpoint.trialAt =
      healthy || this.policy.halfOpenAfter === 0
        ? Number.POSITIVE_INFINITY
        : performance.now() + this.policy.halfOpenAfter
    const entry = {
      upstream: this.upstream.name,
      target: endpoint.target.target,
      address: endpoint.authority,
      via,
      observation,
    }
    if (healthy) this.#options.logger?.info(entry, 'upstream target is healthy again')
    else this.#options.logger?.warn(entry, 'upstream target is unhealthy; taking it out of the rotation')
    this.#rebuild()
  }

  #rebuild(): void {
    this.#all = this.#slots.flatMap((s) => s.endpoints)
    this.#eligible = this.#all.filter((e) => e.weight > 0 && e.health.healthy)
    this.#totalWeight = 0
    this.#healthyWeight = 0
    this.#ejected = 0
    for (const e of this.#all) {
      e.current = 0
      this.#totalWeight += e.weight
      if (e.health.healthy) this.#healthyWeight += e.weight
      else this.#ejected++
    }
  }
}
