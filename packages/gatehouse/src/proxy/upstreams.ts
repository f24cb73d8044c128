/**
 * Where services' requests go. A service whose host is a plain name or IP gets one undici Pool (keep-alive
 * connections) per distinct origin and connection settings. A service whose host names an `upstreams`
 * entity gets that upstream's balancer (one per upstream definition, health and DNS state included) and
 * one Pool per endpoint and connection settings.
 *
 * Pools and balancers are shared by every service with the same settings and survive a configuration
 * reload when their settings do not change, so a reload does not reconnect the world or forget which
 * targets are down. What the running configuration no longer uses is closed gracefully (in-flight
 * requests finish first), and so are the pools of endpoints a DNS change removed.
 */
import { createHash } from 'node:crypto'
import type { Registry } from 'prom-client'
import { type Dispatcher, Pool } from 'undici'
import type { GatewayConfig, ServiceEntity, TargetEntity, UpstreamEntity } from '../config/model.ts'
import { kongMetricsFor } from '../observability/kong-metrics.ts'
import type { Logger } from '../observability/logger.ts'
import { BalancedUpstream } from './balanced-upstream.ts'
import { Balancer } from './balancer.ts'
import { type Clock, type Resolve, SYSTEM_CLOCK, systemResolve } from './dns.ts'
import type { Endpoint } from './endpoint.ts'
import { registerHealthGauge } from './health-metrics.ts'
import { type UpstreamTls, upstreamTlsOf } from './upstream-tls.ts'

export interface Upstream {
  /** What the runtime lists as in use (UpstreamRegistry.retain). */
  readonly key: string
  readonly origin: string
  /** `host[:port]` as sent in the Host header when preserve_host is off (a balanced service may change it per target). */
  readonly hostHeader: string
  /** Sends a request to the service: its Pool, or for a balanced service the balancer choosing a pool. */
  readonly pool: Dispatcher
  /** The balancer's view for this service when its host names an upstream; null otherwise. */
  readonly balanced: BalancedUpstream | null
}

/** Lets tests and later layers replace how pools are made. */
export type PoolFactory = (origin: string, options: Pool.Options) => Pool

export interface UpstreamRegistryOptions {
  readonly factory?: PoolFactory
  /** Health changes and DNS failures of balanced targets are logged here. */
  readonly logger?: Logger | null
  /** Where `gatehouse_upstream_target_health` is exposed. */
  readonly metrics?: Registry | null
  readonly resolve?: Resolve
  readonly clock?: Clock
  /** Folder relative TLS file paths of services are read from (ca_certificates, client_certificate). Default: the cwd. */
  readonly baseDir?: string
}

interface PoolRecord {
  readonly pool: Pool
  /** A service (not a balancer) uses it in the running configuration. */
  direct: boolean
}

interface Connection extends Pick<ServiceEntity, 'protocol' | 'connect_timeout' | 'tls_verify'> {
  readonly tls: UpstreamTls
}

export class UpstreamRegistry {
  readonly #pools = new Map<string, PoolRecord>()
  readonly #balancers = new Map<string, Balancer>()
  readonly #factory: PoolFactory
  readonly #options: UpstreamRegistryOptions

  constructor(options: UpstreamRegistryOptions = {}) {
    this.#factory = options.factory ?? ((origin, o) => new Pool(origin, o))
    this.#options = options
    if (options.metrics) {
      const balancers = () => this.#balancers.values()
      registerHealthGauge(options.metrics, balancers)
      kongMetricsFor(options.metrics).setBalancers(balancers)
    }
  }

  /** The upstream for a service, created on first use; balanced when its host names one of `config.upstreams`. */
  acquire(service: ServiceEntity, config?: Pick<GatewayConfig, 'upstreams' | 'targets'>): Upstream {
    const entity = config?.upstreams.find((u) => u.name === service.host)
    if (entity !== undefined) return this.#balanced(service, this.#balancer(entity, config!.targets))
    const host = bracket(service.host)
    const defaultPort = service.protocol === 'https' ? 443 : 80
    const origin = `${service.protocol}://${host}:${service.port}`
    const connection = this.#connection(service)
    const key = `${origin}|${service.connect_timeout}|${service.tls_verify}|${connection.tls.key}`
    const record = this.#pool(key, origin, connection, isIpLiteral(host) ? null : service.host)
    record.direct = true
    return {
      key,
      origin,
      hostHeader: service.port === defaultPort ? host : `${host}:${service.port}`,
      pool: record.pool,
      balanced: null,
    }
  }

  /**
   * The balancers of every upstream in `config`, created (resolving, probing) on first use even when no
   * service names them yet, as Kong does; returns their keys, to keep them in `retain`.
   */
  acquireUpstreams(config: Pick<GatewayConfig, 'upstreams' | 'targets'>): string[] {
    return config.upstreams.map((u) => balancerKeys.get(this.#balancer(u, config.targets))!)
  }

  #balancer(upstream: UpstreamEntity, allTargets: readonly TargetEntity[]): Balancer {
    const targets = allTargets.filter((t) => t.upstream.id === upstream.id)
    const key = definitionKey(upstream, targets)
    let balancer = this.#balancers.get(key)
    if (!balancer) {
      balancer = new Balancer(upstream, targets, {
        logger: this.#options.logger ?? null,
        resolve: this.#options.resolve ?? systemResolve,
        clock: this.#options.clock ?? SYSTEM_CLOCK,
        onEndpointsChanged: () => void this.#sweep(),
      })
      this.#balancers.set(key, balancer)
      balancerKeys.set(balancer, key)
    }
    return balancer
  }

  /** The running balancer of an upstream as the configuration defines it now, if any (admin API). */
  find(upstream: UpstreamEntity, allTargets: readonly TargetEntity[]): Balancer | undefined {
    return this.#balancers.get(
      definitionKey(
        upstream,
        allTargets.filter((t) => t.upstream.id === upstream.id),
      ),
    )
  }

  /** Closes (gracefully) every pool and balancer whose key is not in `keep`. */
  async retain(keep: ReadonlySet<string>): Promise<void> {
    for (const [key, balancer] of this.#balancers) {
      if (keep.has(key)) continue
      this.#balancers.delete(key)
      balancer.close()
    }
    for (const [key, record] of this.#pools) record.direct = keep.has(key)
    await this.#sweep()
  }

  async closeAll(): Promise<void> {
    await this.retain(new Set())
  }

  async destroyAll(): Promise<void> {
    for (const balancer of this.#balancers.values()) balancer.close()
    this.#balancers.clear()
    const all = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.all(all.map((r) => r.pool.destroy().catch(() => undefined)))
  }

  #balanced(service: ServiceEntity, balancer: Balancer): Upstream {
    const connection = this.#connection(service)
    const settings = `${service.protocol}|${service.connect_timeout}|${service.tls_verify}|${connection.tls.key}`
    const view = new BalancedUpstream(balancer, service.protocol, settings, (endpoint) =>
      this.#endpointPool(endpoint, settings, connection),
    )
    return {
      key: balancerKeys.get(balancer)!,
      origin: `${service.protocol}://${balancer.upstream.name}`,
      hostHeader: balancer.upstream.host_header ?? service.host,
      pool: view,
      balanced: view,
    }
  }

  #endpointPool(endpoint: Endpoint, settings: string, connection: Connection): Dispatcher {
    const origin = `${connection.protocol}://${endpoint.authority}`
    const key = `${origin}|${connection.connect_timeout}|${connection.tls_verify}|${connection.tls.key}|${endpoint.servername ?? ''}`
    const { pool } = this.#pool(key, origin, connection, endpoint.servername)
    endpoint.pools.set(settings, pool)
    return pool
  }

  #connection(service: ServiceEntity): Connection {
    const { protocol, connect_timeout, tls_verify } = service
    return {
      protocol,
      connect_timeout,
      tls_verify,
      tls: upstreamTlsOf(service, this.#options.baseDir ?? process.cwd()),
    }
  }

  #pool(key: string, origin: string, c: Connection, servername: string | null): PoolRecord {
    let record = this.#pools.get(key)
    if (!record) {
      const pool = this.#factory(origin, {
        pipelining: 1,
        connect: {
          timeout: c.connect_timeout,
          rejectUnauthorized: c.tls_verify,
          ...(c.protocol === 'https' && servername !== null ? { servername } : {}),
          ...c.tls.options,
        },
        // Per-request read timeouts are set on each dispatch; these are only the ceilings.
        headersTimeout: 0,
        bodyTimeout: 0,
      })
      record = { pool, direct: false }
      this.#pools.set(key, record)
    }
    return record
  }

  /** Closes the pools neither a service nor a live balancer's endpoint uses. */
  async #sweep(): Promise<void> {
    const reached = new Set<Dispatcher>()
    for (const balancer of this.#balancers.values())
      for (const endpoint of balancer.endpoints())
        for (const pool of endpoint.pools.values()) reached.add(pool)
    const closing: Promise<void>[] = []
    for (const [key, record] of this.#pools) {
      if (record.direct || reached.has(record.pool)) continue
      this.#pools.delete(key)
      closing.push(record.pool.close().catch(() => undefined))
    }
    await Promise.all(closing)
  }
}

const balancerKeys = new WeakMap<Balancer, string>()

/** Same upstream definition (targets included), same balancer: ids and timestamps aside, field by field. */
function definitionKey(upstream: UpstreamEntity, targets: readonly TargetEntity[]): string {
  const { created_at: _c, updated_at: _u, ...definition } = upstream
  const list = targets.map((t) => [t.target, t.weight])
  const hash = createHash('sha256')
    .update(JSON.stringify([definition, list]))
    .digest('hex')
  return `upstream:${upstream.name}:${hash}`
}

function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
}

function isIpLiteral(host: string): boolean {
  return /^[\d.[\]:]+$/.test(host)
}
