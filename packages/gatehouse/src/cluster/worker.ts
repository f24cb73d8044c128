/**
 * One worker of a node of several: serves the proxy listeners (shared with the other workers through
 * node:cluster) and nothing else. It never loads a configuration file: the primary loads and validates
 * once and sends the result, so every worker runs the very same configuration (secrets the file leaves
 * to be generated included) and a reload is one decision, not N. Its internal-token key ring and its
 * revocations are the primary's (cluster/revocations.ts, key-ring.ts `adopt`); its rate-limit counters
 * and in-memory sessions are asked of the primary (node-state.ts).
 */
import type { WorkerStats } from '../admin/context.ts'
import { type CacheOperation, runCacheOperation } from '../admin/proxy-cache.ts'
import type { GatewayConfig } from '../config/model.ts'
import { Gateway } from '../gateway.ts'
import type { KeyRingState } from '../internal-tokens/key-ring.ts'
import { AccessLog } from '../observability/access-log.ts'
import { onEverySecond, SecondSampler } from '../observability/live-stats.ts'
import { createLoggers, type LogLevel } from '../observability/logger.ts'
import { preparePlugins } from '../pipeline/runtime.ts'
import { loadBundledPlugins } from '../plugins/registry.ts'
import type { Revocation } from '../redis/revocation.ts'
import { useMemoryRevocations } from '../redis/revocation-leases.ts'
import { Channel } from './channel.ts'
import { setWorkerLink } from './link.ts'
import { type EndedSnapshot, receiveEndedSessions } from './node-state.ts'
import { WorkerRevocations } from './revocations.ts'

/**
 * The plugins of the node's configuration when the worker was forked (comma-separated): prepared while it
 * loads (GatewayPlugin.prepare), so a standby taking over a slot does not load a tracing SDK then.
 */
export const PREPARE_ENV = 'GATEHOUSE_WORKER_PREPARE'
/**
 * Variables a primary sets for the workers it forks: not settings, so `--help` and the configuration
 * docs leave them out (test/docs/derived-lists.test.ts).
 */
export const INTERNAL_ENV: readonly string[] = [PREPARE_ENV]

export interface WorkerInit {
  readonly slot: number
  readonly workers: number
  readonly config: GatewayConfig
  readonly keys: KeyRingState
  readonly revocations: readonly Revocation[]
  /** Sessions ended by logout before this worker started (cookie storage). */
  readonly endedSessions: EndedSnapshot
  readonly logLevel: LogLevel
  readonly proxyListen: string
  readonly proxyTlsListen: string | undefined
  /** Listen on an own SO_REUSEPORT socket of the reserved ports (cluster/ports.ts), else share the primary's. */
  readonly reusePort: boolean
  readonly baseDir: string
}

export interface WorkerReady {
  readonly proxy: string
  readonly proxyTls: string
}

/**
 * Runs this process as a worker: loads, says `loaded`, waits for the primary's `init` (at once, or later
 * for the standby), takes whatever changed meanwhile, listens when told to, then serves until told to stop.
 */
export function runWorker(): void {
  const channel = new Channel(process as unknown as ConstructorParameters<typeof Channel>[0])
  let gateway: Gateway | null = null
  let flush = () => {}
  // SIGHUP is the primary's to act on (it reloads and tells us); its default action would end us.
  process.on('SIGHUP', () => {})
  let stopping = false
  const stop = (reason: string) => {
    // A signal sent to the node's whole process group (systemd's KillMode=control-group, Ctrl-C in a
    // terminal) reaches us and the primary, which then sends SIGTERM too: one drain, and a later signal
    // must neither start another nor (with no handler left) end us mid-drain by its default action.
    if (stopping) return
    stopping = true
    const done = () => {
      flush()
      process.exit(0)
    }
    if (gateway === null) return done()
    gateway
      .shutdown(reason)
      .catch(() => {})
      .finally(done)
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  // The primary is gone: nobody relays our log or answers our questions any more.
  process.once('disconnect', () => stop('primary exited'))

  // Loaded before a slot is given: a standby waits here, so taking over a crashed worker's slot costs
  // only building the configuration and listening.
  const plugins = loadBundledPlugins().then(async (registry) => {
    await registry.prepare(process.env[PREPARE_ENV]?.split(',') ?? [])
    return registry
  })
  void plugins.then(
    () => channel.event('loaded'),
    (err: unknown) => {
      process.stderr.write(`gatehouse worker: loading the plugins failed: ${(err as Error).stack}\n`)
      process.exit(1)
    },
  )

  channel.handle('init', async (args) => {
    const init = args as WorkerInit
    setWorkerLink({ channel, slot: init.slot, workers: init.workers })
    const loggers = createLoggers({ level: init.logLevel })
    flush = loggers.flush
    const logger = loggers.logger.child({ worker: init.slot })
    const revocations = new WorkerRevocations(channel, logger.child({ component: 'revocations' }))
    revocations.receiveAll(init.revocations)
    useMemoryRevocations(revocations)
    receiveEndedSessions(channel, init.endedSessions)
    const registry = await plugins
    await preparePlugins(init.config, registry)
    const g = new Gateway({
      config: init.config,
      registry,
      logger,
      accessLog: init.logLevel === 'silent' ? null : new AccessLog(loggers.stream),
      proxyListen: init.proxyListen,
      proxyTlsListen: init.proxyTlsListen,
      reusePort: init.reusePort,
      baseDir: init.baseDir,
      adminListen: 'off',
      role: 'worker',
    })
    g.metrics.setWorker(String(init.slot))
    // The node's live traffic (GET /stats/stream) is the primary's sum: each second what this worker's
    // series gained, sent at the boundary (the primary closes the second 200 ms later); nothing when idle.
    const sampler = new SecondSampler(g.metrics)
    onEverySecond(0, () => {
      const deltas = sampler.take()
      if (deltas.length > 0) channel.event('live-stats', deltas)
    })
    g.internalKeys.followPrimary()
    await g.internalKeys.adopt(init.keys)
    await g.startInternalTokens()
    await g.startIdentity()
    gateway = g
    let configs: Promise<void> = Promise.resolve()
    channel
      .handle('config', (a) => {
        const { config, source } = a as { config: GatewayConfig; source: string }
        // One at a time, in the order sent (a catch-up and a reload can meet): the last one wins.
        const applied = configs.then(() => g.reloadWith(() => config, source)).then(() => undefined)
        configs = applied.catch(() => {})
        return applied
      })
      .handle('keys', (state) => g.internalKeys.adopt(state as KeyRingState))
      .handle('metrics', () => g.metrics.registry.getMetricsAsJSON())
      .handle('proxy-cache', (op) => runCacheOperation(g.runtime.config, logger, op as CacheOperation))
      .handle('stats', async (): Promise<WorkerStats> => {
        const own = await g.serverStats()
        return {
          slot: init.slot,
          pid: process.pid,
          connections_active: own.connections_active,
          total_requests: own.total_requests,
          rss_bytes: own.rss_bytes,
          heap_used_bytes: own.heap_used_bytes,
        }
      })
  })

  // After `init` and any catch-up the primary sends: a worker listens only with the node's state.
  channel.handle('listen', async (): Promise<WorkerReady> => {
    if (gateway === null) throw new Error('listen before init')
    const addresses = await gateway.listen()
    return { proxy: addresses.proxy, proxyTls: addresses.proxyTls }
  })
}
