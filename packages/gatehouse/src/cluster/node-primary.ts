/**
 * What `gatehouse start` adds to the gateway in the primary of several workers: the worker pool, the
 * node-wide revocations, the key ring shared with the workers, the node-wide /metrics and /status, and
 * the relay of the workers' log lines. main.ts calls it in this order: constructor (before the gateway
 * is built: plugins take revocation leases as they load), `attach` (before the key ring starts), `start`
 * (before the admin listener opens), `stop` (SIGTERM).
 */
import type { WorkerStats } from '../admin/context.ts'
import type { CacheOperation, CacheOperationResult } from '../admin/proxy-cache.ts'
import type { GatewayConfig } from '../config/model.ts'
import type { Gateway } from '../gateway.ts'
import type { Logger, LogLevel } from '../observability/logger.ts'
import { localCounters } from '../plugins/rate-limiting/policies/local.ts'
import { useMemoryRevocations } from '../redis/revocation-leases.ts'
import { LogRelay, type RelayTarget } from './log-relay.ts'
import { endedSessionsNow } from './node-state.ts'
import { type ReservedPort, reservePort } from './ports.ts'
import { WorkerPool } from './primary.ts'
import { PrimaryRevocations } from './revocations.ts'
import type { WorkerReady } from './worker.ts'

export interface WorkerListen {
  readonly logLevel: LogLevel
  readonly proxyListen: string
  readonly proxyTlsListen: string | undefined
  readonly baseDir: string
}

export class NodePrimary {
  readonly count: number
  readonly #pool: WorkerPool
  readonly #revocations: PrimaryRevocations
  #gateway: Gateway | null = null
  #listen: (WorkerListen & { reusePort: boolean }) | null = null
  #reserved: ReservedPort[] = []

  constructor(count: number, logger: Logger, log: RelayTarget) {
    this.count = count
    this.#revocations = new PrimaryRevocations(logger.child({ component: 'revocations' }), (r) =>
      this.#pool.deliverRevocation(r),
    )
    useMemoryRevocations(this.#revocations)
    this.#pool = new WorkerPool({
      count,
      logger: logger.child({ component: 'workers' }),
      relay: new LogRelay(log),
      counters: localCounters,
      revoke: (request) => this.#revocations.revoke(request),
      liveStats: (deltas) => this.#gateway?.liveStats?.add(deltas),
      plugins: () => this.#gateway?.runtime.config.plugins.map((p) => p.name) ?? [],
      init: async () => {
        const gateway = this.#gateway!
        const listen = this.#listen!
        return {
          config: gateway.runtime.config,
          keys: await gateway.internalKeys.exportState(),
          revocations: this.#revocations.all(),
          endedSessions: endedSessionsNow(),
          ...listen,
        }
      },
    })
  }

  /** The gateway's options in the primary: no proxy traffic; reloads and /status reach the workers. */
  gatewayOptions() {
    return {
      role: 'primary' as const,
      afterReload: (config: GatewayConfig, source: string) => this.#pool.deliverConfig(config, source),
      workerStats: (): Promise<readonly WorkerStats[]> => this.#pool.stats(),
      workerCaches: (op: CacheOperation) => this.#pool.askAll<CacheOperationResult>('proxy-cache', op),
    }
  }

  /** Before the key ring starts: its keys become exportable and every change is sent to the workers. */
  attach(gateway: Gateway): void {
    this.#gateway = gateway
    gateway.metrics.setWorker('primary')
    gateway.metrics.workerMetrics = () => this.#pool.metrics()
    gateway.internalKeys.shareWithWorkers(async () =>
      this.#pool.deliverKeys(await gateway.internalKeys.exportState()),
    )
  }

  /** Reserves the proxy ports, starts the workers; resolves with the proxy addresses once every one serves. */
  async start(listen: WorkerListen): Promise<WorkerReady> {
    const plain = listen.proxyListen === 'off' ? null : reservePort(listen.proxyListen)
    const tls = listen.proxyTlsListen === undefined ? null : reservePort(listen.proxyTlsListen)
    this.#reserved = [plain, tls].filter((r) => r !== null)
    // Reserved where the kernel balances (Linux); elsewhere the workers share the primary's sockets.
    const reusePort = listen.proxyListen === 'off' ? tls !== null : plain !== null
    this.#listen = {
      ...listen,
      proxyListen: plain?.address ?? listen.proxyListen,
      proxyTlsListen: tls?.address ?? listen.proxyTlsListen,
      reusePort,
    }
    return this.#pool.start()
  }

  async stop(): Promise<void> {
    await this.#pool.stop()
    for (const reserved of this.#reserved) reserved.close()
  }
}
