/**
 * Active health checks of one upstream: every `healthy.interval` the healthy endpoints are probed, every
 * `unhealthy.interval` the unhealthy ones (Kong's two timers), at most `concurrency` probes at a time,
 * never two on the same endpoint. What a probe shows is recorded by the balancer with the active rules.
 */
import type { Healthchecks } from '../config/schema/upstream.ts'
import type { Endpoint } from './endpoint.ts'
import type { Outcome } from './health.ts'
import { probe } from './probe.ts'

export interface ProbedSet {
  /** Every endpoint of the upstream, now. */
  endpoints(): readonly Endpoint[]
  /** Records a probe's outcome on an endpoint. */
  probed(endpoint: Endpoint, outcome: Outcome): void
}

export class ActiveChecker {
  readonly #set: ProbedSet
  readonly #checks: Healthchecks['active']
  readonly #timers: NodeJS.Timeout[] = []
  #stopped = false

  constructor(set: ProbedSet, checks: Healthchecks['active']) {
    this.#set = set
    this.#checks = checks
  }

  start(): void {
    const every = (seconds: number, healthy: boolean) => {
      if (seconds > 0) this.#timers.push(setInterval(() => void this.#round(healthy), seconds * 1000).unref())
    }
    every(this.#checks.healthy.interval, true)
    every(this.#checks.unhealthy.interval, false)
  }

  stop(): void {
    this.#stopped = true
    for (const t of this.#timers) clearInterval(t)
    this.#timers.length = 0
  }

  async #round(healthy: boolean): Promise<void> {
    const due = this.#set.endpoints().filter((e) => e.health.healthy === healthy && !e.probing)
    for (const e of due) e.probing = true
    let next = 0
    const worker = async () => {
      while (next < due.length) {
        const endpoint = due[next++]!
        const outcome = await probe(endpoint, this.#checks)
        endpoint.probing = false
        if (!this.#stopped) this.#set.probed(endpoint, outcome)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.#checks.concurrency, due.length) }, worker))
  }
}
