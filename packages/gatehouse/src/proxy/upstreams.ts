/**
 * One undici Pool (keep-alive connections) per distinct upstream origin and connection settings. Pools
 * are shared by every service with the same settings and survive a configuration reload when their
 * settings do not change, so a reload does not reconnect the world; pools no longer used are closed
 * gracefully (in-flight requests finish first).
 */
import { Pool } from 'undici'
import type { ServiceEntity } from '../config/model.ts'

export interface Upstream {
  readonly key: string
  readonly origin: string
  /** `host[:port]` as sent in the Host header when preserve_host is off. */
  readonly hostHeader: string
  readonly pool: Pool
}

/** Lets tests and later layers (health checks, balancers) replace how pools are made. */
export type PoolFactory = (origin: string, options: Pool.Options) => Pool

export class UpstreamRegistry {
  readonly #pools = new Map<string, Upstream>()
  readonly #factory: PoolFactory

  constructor(factory: PoolFactory = (origin, options) => new Pool(origin, options)) {
    this.#factory = factory
  }

  /** The upstream for a service, created on first use. */
  acquire(service: ServiceEntity): Upstream {
    const host =
      service.host.includes(':') && !service.host.startsWith('[') ? `[${service.host}]` : service.host
    const defaultPort = service.protocol === 'https' ? 443 : 80
    const origin = `${service.protocol}://${host}:${service.port}`
    const key = `${origin}|${service.connect_timeout}|${service.tls_verify}`
    let upstream = this.#pools.get(key)
    if (!upstream) {
      const pool = this.#factory(origin, {
        pipelining: 1,
        connect: {
          timeout: service.connect_timeout,
          rejectUnauthorized: service.tls_verify,
          ...(service.protocol === 'https' && !/^[\d.[\]:]+$/.test(host) ? { servername: service.host } : {}),
        },
        // Per-request read timeouts are set on each dispatch; these are only the ceilings.
        headersTimeout: 0,
        bodyTimeout: 0,
      })
      upstream = {
        key,
        origin,
        hostHeader: service.port === defaultPort ? host : `${host}:${service.port}`,
        pool,
      }
      this.#pools.set(key, upstream)
    }
    return upstream
  }

  /** Closes (gracefully) every pool whose key is not in `keep`. */
  async retain(keep: ReadonlySet<string>): Promise<void> {
    const closing: Promise<void>[] = []
    for (const [key, upstream] of this.#pools) {
      if (keep.has(key)) continue
      this.#pools.delete(key)
      closing.push(upstream.pool.close().catch(() => undefined))
    }
    await Promise.all(closing)
  }

  async closeAll(): Promise<void> {
    await this.retain(new Set())
  }

  async destroyAll(): Promise<void> {
    const all = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.all(all.map((u) => u.pool.destroy().catch(() => undefined)))
  }
}
