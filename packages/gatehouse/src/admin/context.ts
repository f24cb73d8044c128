/** What the admin resources may see and do to the running gateway. */
import type { GatewayConfig } from '../config/model.ts'
import type { EntityWrites } from '../db-mode/source.ts'
import type { IdentityHost } from '../identity/host.ts'
import type { InternalKeyRing } from '../internal-tokens/key-ring.ts'
import type { LiveStats } from '../observability/live-stats.ts'
import type { GatewayMetrics } from '../observability/metrics.ts'
import type { Readiness } from '../observability/readiness.ts'
import type { GatewayRuntime } from '../pipeline/runtime.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import type { UpstreamRegistry } from '../proxy/upstreams.ts'
import type { CacheOperation, CacheOperationResult } from './proxy-cache.ts'

export interface WorkerStats {
  /** The worker's slot, 0 … workers − 1. */
  readonly slot: number
  readonly pid: number
  readonly connections_active: number
  readonly total_requests: number
  readonly rss_bytes: number
  readonly heap_used_bytes: number
}

export interface ServerStats {
  readonly connections_active: number
  readonly total_requests: number
  readonly rss_bytes: number
  readonly heap_used_bytes: number
  /** A node of several workers: each worker's share (the totals above include them and the primary's memory). */
  readonly workers?: readonly WorkerStats[]
}

export interface AdminContext {
  readonly version: string
  readonly nodeId: string
  readonly startedAt: number
  readonly registry: PluginRegistry
  readonly metrics: GatewayMetrics
  readonly proxyAddress: string
  readonly adminAddress: string
  /** The status listener's address; '' when it is off. */
  readonly statusAddress: string
  /** The gateway's signing keys for internal tokens. */
  readonly internalKeys: InternalKeyRing
  /** The built-in identity provider while the configuration enables it (its store, its keys); else null. */
  identity(): IdentityHost | null
  /** Pools and balancers; the balancers' target health is shown at /upstreams/{u}/health. */
  readonly upstreams: UpstreamRegistry
  config(): GatewayConfig
  /** When the running configuration was swapped in (start or the last successful reload), ms since the epoch. */
  configLoadedAt(): number
  /** The node's traffic second by second (GET /stats/stream); null in a worker, which has no admin API. */
  readonly liveStats: LiveStats | null
  /** The running configuration made runnable (routes, plugin instances): POST /explain runs its pipeline. */
  runtime(): GatewayRuntime
  /** Not shutting down, and the store and Redis (when configured) answer (observability/readiness.ts). */
  readiness(): Promise<Readiness>
  /** Whether the store answers a trivial query; true when no store is configured (DB-less, no identity). */
  storeReachable(): Promise<boolean>
  /** True while a configuration is being loaded. */
  busy(): boolean
  /** Open proxy connections, requests served and memory: this process's, or every worker's (with `workers`). */
  serverStats(): Promise<ServerStats>
  /** Parses, validates and swaps in a configuration; throws ConfigError. */
  reload(text: string | object, source: string): Promise<GatewayConfig>
  /** A node of several workers: runs a proxy-cache step in every worker (their memory stores); else absent. */
  readonly workerCaches?: ((op: CacheOperation) => Promise<CacheOperationResult[]>) | undefined
  /** DB mode: applies entity writes to the database (admin/writes.ts); null in DB-less mode. */
  readonly entityWrites: EntityWrites | null
}
