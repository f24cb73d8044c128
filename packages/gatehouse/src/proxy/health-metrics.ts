/**
 * `gatehouse_upstream_target_health{upstream, target, address, state}`: 1 for each endpoint's current
 * state and 0 for the others, read from the balancers when /metrics is scraped (Kong's prometheus plugin
 * exposes `kong_upstream_target_health` the same way).
 */
import { Gauge, type Registry } from 'prom-client'
import type { Balancer, HealthState } from './balancer.ts'

const STATES: readonly HealthState[] = ['HEALTHY', 'UNHEALTHY', 'DNS_ERROR', 'HEALTHCHECKS_OFF']

export function registerHealthGauge(registry: Registry, balancers: () => Iterable<Balancer>): void {
  new Gauge({
    name: 'gatehouse_upstream_target_health',
    help: 'Health of each balanced endpoint: 1 for its current state (healthy, unhealthy, dns_error, healthchecks_off), 0 for the others.',
    labelNames: ['upstream', 'target', 'address', 'state'] as const,
    registers: [registry],
    // Each worker checks its endpoints itself: across workers, 1 where any of them sees that state (a sum
    // would count 2 for an endpoint two workers both see healthy).
    aggregator: 'max',
    collect() {
      this.reset()
      for (const balancer of balancers()) {
        for (const t of balancer.health()) {
          const rows =
            t.addresses.length > 0
              ? t.addresses.map((a) => ({
                  address: a.ip.includes(':') ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`,
                  health: a.health,
                }))
              : [{ address: '', health: t.health }]
          for (const row of rows) {
            for (const state of STATES) {
              this.labels(balancer.upstream.name, t.target.target, row.address, state.toLowerCase()).set(
                row.health === state ? 1 : 0,
              )
            }
          }
        }
      }
    },
  })
}
