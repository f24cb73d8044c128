/**
 * The primary of a node of several workers (`proxy.workers` > 1): forks the workers (node:cluster; they
 * share the proxy listeners' ports), gives each the node's configuration, internal-token key ring and
 * revocations, and keeps them in step:
 * - a reload is delivered to every worker, and acknowledged only when each one serves it;
 * - key ring changes and revocations likewise, before the admin call that made them returns;
 * - a worker that exits without being asked is replaced in its slot at once by the standby: one more
 *   process, its modules already loaded (a cold start takes 1–2 s, most of it loading code), which
 *   only has to build the configuration and listen. A new standby is then started. A slot that keeps
 *   failing waits a second between starts, so a worker that cannot start does not spin a core;
 * - SIGTERM drains every worker (each finishes its requests, as a single process does) and then stops.
 * Everything the workers say on stdout reaches the node's one log through log-relay.ts.
 */
import cluster, { type Worker } from 'node:cluster'
import { fileURLToPath } from 'node:url'
import type { WorkerStats } from '../admin/context.ts'
import type { GatewayConfig } from '../config/model.ts'
import type { KeyRingState } from '../internal-tokens/key-ring.ts'
import { MODULE_EXT } from '../module-ext.ts'
import type { RouteDelta } from '../observability/live-stats.ts'
import type { Logger } from '../observability/logger.ts'
import type { CounterPolicy } from '../plugins/rate-limiting/policies/policy.ts'
import type { Revocation, RevocationRequest } from '../redis/revocation.ts'
import { Channel } from './channel.ts'
import type { LogRelay } from './log-relay.ts'
import { serveNodeState } from './node-state.ts'
import { RefreshCoordinator } from './refresh-coordinator.ts'
import { PREPARE_ENV, type WorkerInit, type WorkerReady } from './worker.ts'

/** A slot that failed this often within CRASH_WINDOW_MS waits RESTART_DELAY_MS before its next start. */
const CRASH_LIMIT = 3
const CRASH_WINDOW_MS = 10_000
const RESTART_DELAY_MS = 1000
/** How long a worker may take to load and start before it is given up (and replaced). */
const START_TIMEOUT_MS = 60_000

export interface PoolOptions {
  readonly count: number
  readonly logger: Logger
  readonly relay: LogRelay
  /** What a worker needs to start, as the node is now. */
  init(): Promise<Omit<WorkerInit, 'slot' | 'workers'>>
  /** The plugins the node's configuration has now: a new worker prepares them while it loads. */
  plugins(): readonly string[]
  /** The primary's local-policy rate-limit counters. */
  readonly counters: CounterPolicy
  /** A worker's revocation: recorded by the primary (and delivered to every worker) before it returns. */
  revoke(request: RevocationRequest): Promise<Revocation>
  /** A worker's traffic of the last second (observability/live-stats.ts), for the node's /stats/stream. */
  liveStats(deltas: readonly RouteDelta[]): void
}

/** A forked process: loading its modules, then standing by or serving a slot. */
interface Child {
  readonly worker: Worker
  readonly channel: Channel
  /** Resolves when its modules are loaded and it can take `init`; rejects if it exits first. */
  readonly loaded: Promise<void>
}

interface Slot {
  readonly index: number
  child: Child | null
  /** Serving, and included in every delivery. */
  ready: boolean
  failures: number[]
}

export class WorkerPool {
  readonly #options: PoolOptions
  readonly #slots: Slot[]
  #standby: Child | null = null
  /** One session refresh per refresh token across the workers. */
  readonly #refreshes = new RefreshCoordinator()
  #standbyFailures: number[] = []
  #stopping = false
  /** The configuration of the last delivery; null until the first reload. */
  #config: GatewayConfig | null = null
  /** Counts deliveries (config, keys, revocations), so a starting worker can tell it missed one. */
  #changes = 0
  /** Past the first start: from then on an exited worker is replaced, before it a failed start is fatal. */
  #started = false

  constructor(options: PoolOptions) {
    this.#options = options
    this.#slots = Array.from({ length: options.count }, (_, index) => ({
      index,
      child: null,
      ready: false,
      failures: [],
    }))
    cluster.setupPrimary({
      exec: fileURLToPath(new URL(`./worker-main${MODULE_EXT}`, import.meta.url)),
      args: [],
      // stdout is relayed (one log per node); stderr is the terminal's, for a crash's last words.
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      serialization: 'advanced',
    })
  }

  /** Starts every worker; resolves with the proxy addresses they bound once all serve. */
  async start(): Promise<WorkerReady> {
    const ready = await Promise.all(this.#slots.map((slot) => this.#serve(slot, this.#spawn())))
    this.#started = true
    this.#spawnStandby()
    return ready[0]!
  }

  /** A reload: every serving worker swaps it in before this resolves. */
  async deliverConfig(config: GatewayConfig, source: string): Promise<void> {
    this.#config = config
    this.#changes++
    await Promise.all(
      this.#serving().map(async ([slot, child]) => {
        try {
          await this.#ask(child, 'config', { config, source })
        } catch (err) {
          // The primary validated it; a worker that still cannot build it (a certificate file gone
          // meanwhile, say) must not serve the old one: it is replaced, and its successor starts on this.
          this.#options.logger.error(
            { worker: slot.index, worker_pid: child.worker.process.pid, error: (err as Error).message },
            'worker could not apply the configuration; replacing it',
          )
          child.worker.process.kill('SIGKILL')
        }
      }),
    )
  }

  async deliverKeys(state: KeyRingState): Promise<void> {
    this.#changes++
    await this.askAll('keys', state)
  }

  async deliverRevocation(r: Revocation): Promise<void> {
    this.#changes++
    await this.askAll('revocation', r)
  }

  /** Each serving worker's metrics, for the node's /metrics. */
  metrics<T>(): Promise<T[]> {
    return this.askAll<T>('metrics')
  }

  stats(): Promise<WorkerStats[]> {
    return this.askAll<WorkerStats>('stats')
  }

  /**
   * Asks every serving worker `op`; resolves with the answers of those that answered. A worker that
   * exits meanwhile is left out: its successor starts with the node's state as it is then.
   */
  async askAll<T>(op: string, args?: unknown): Promise<T[]> {
    const answers = await Promise.all(this.#serving().map(([, child]) => this.#ask<T>(child, op, args)))
    return answers.filter((a): a is Awaited<T> => a !== NO_ANSWER) as T[]
  }

  #serving(): [Slot, Child][] {
    return this.#slots.flatMap((slot) => (slot.ready && slot.child !== null ? [[slot, slot.child]] : []))
  }

  /** Drains every worker (SIGTERM: each finishes its requests) and resolves when all have exited. */
  async stop(): Promise<void> {
    this.#stopping = true
    const children = [...this.#slots.map((slot) => slot.child), this.#standby]
    await Promise.all(children.map((child) => (child === null ? undefined : stopChild(child.worker))))
  }

  async #ask<T>(child: Child, op: string, args?: unknown): Promise<T | typeof NO_ANSWER> {
    try {
      return await child.channel.call<T>(op, args)
    } catch (err) {
      if (child.worker.isDead() || !child.worker.isConnected()) return NO_ANSWER
      throw err
    }
  }

  /** Forks a process; it loads its modules and says so (`loaded`) before it is given a slot. */
  #spawn(): Child {
    const worker = cluster.fork({ [PREPARE_ENV]: this.#options.plugins().join(',') })
    const channel = new Channel(worker)
    serveNodeState(channel, this.#options.counters, this.#refreshes, (from) =>
      this.#serving().flatMap(([, c]) => (c.channel !== from ? [c.channel] : [])),
    )
    // A send racing the worker's exit reports here, not as an unhandled 'error' that ends the primary.
    worker.on('error', (err) =>
      this.#options.logger.warn({ err, worker_pid: worker.process.pid }, 'worker channel error'),
    )
    channel.handle('revoke', (request) => this.#options.revoke(request as RevocationRequest))
    channel.handle('live-stats', (deltas) => this.#options.liveStats(deltas as RouteDelta[]))
    if (worker.process.stdout) this.#options.relay.add(worker.process.stdout)
    const loaded = new Promise<void>((resolve, reject) => {
      channel.handle('loaded', () => resolve())
      worker.once('exit', (code, signal) => reject(new Error(`worker exited (${signal ?? `code ${code}`})`)))
    })
    // Observed here so a standby that dies unused is not an unhandled rejection.
    loaded.catch(() => {})
    return { worker, channel, loaded }
  }

  /** Gives `child` the slot: init (the node's state now), listen; resolves once it serves. */
  async #serve(slot: Slot, child: Child): Promise<WorkerReady> {
    slot.child = child
    slot.ready = false
    const exited = new Promise<never>((_, reject) => {
      child.worker.once('exit', (code, signal) => {
        reject(new Error(`worker ${slot.index} exited before it served (${signal ?? `code ${code}`})`))
        this.#exit(slot, child, code, signal)
      })
    })
    exited.catch(() => {})
    const timer = setTimeout(() => {
      this.#options.logger.error({ worker: slot.index }, 'worker did not start in time; replacing it')
      child.worker.process.kill('SIGKILL')
    }, START_TIMEOUT_MS)
    try {
      const ready = await Promise.race([this.#init(slot, child), exited])
      slot.ready = true
      this.#options.logger.info(
        { worker: slot.index, worker_pid: child.worker.process.pid },
        'worker serving',
      )
      return ready
    } catch (err) {
      // A worker that could not start (it could not listen, say) must not hold the slot alive and idle:
      // it is ended, and its exit replaces it (with the pause a failing slot gets).
      if (!child.worker.isDead()) child.worker.process.kill('SIGKILL')
      throw err
    } finally {
      clearTimeout(timer)
    }
  }

  async #init(slot: Slot, child: Child): Promise<WorkerReady> {
    await child.loaded
    let seen = this.#changes
    const init = await this.#options.init()
    await child.channel.call('init', {
      ...init,
      config: this.#config ?? init.config,
      slot: slot.index,
      workers: this.#slots.length,
    } satisfies WorkerInit)
    // What was delivered to the others while it was starting (it is not in their number until it
    // serves) is given to it before it listens, and once more should anything change meanwhile.
    const catchUp = async () => {
      for (let round = 0; seen !== this.#changes && round < 10; round++) {
        seen = this.#changes
        const now = await this.#options.init()
        if (this.#config !== null)
          await child.channel.call('config', { config: this.#config, source: this.#config.source })
        await child.channel.call('keys', now.keys)
        await child.channel.call('revocations', now.revocations)
      }
    }
    await catchUp()
    const ready = await child.channel.call<WorkerReady>('listen')
    await catchUp()
    return ready
  }

  #exit(slot: Slot, child: Child, code: number | null, signal: string | null): void {
    if (slot.child !== child) return
    child.channel.close()
    slot.ready = false
    slot.child = null
    if (this.#stopping || !this.#started) return
    slot.failures = recent(slot.failures)
    const delay = restartDelay(slot.failures)
    this.#options.logger.error(
      { worker: slot.index, worker_pid: child.worker.process.pid, code, signal, restart_in_ms: delay },
      'worker exited; replacing it',
    )
    setTimeout(() => {
      if (this.#stopping || slot.child !== null) return
      const standby = this.#standby
      this.#standby = null
      this.#serve(slot, standby ?? this.#spawn()).catch((err: unknown) =>
        this.#options.logger.error({ worker: slot.index, err }, 'worker failed to start'),
      )
      this.#spawnStandby()
    }, delay)
  }

  /** Keeps one loaded process in reserve (replaced if it dies unused). */
  #spawnStandby(): void {
    if (this.#stopping || this.#standby !== null) return
    const child = this.#spawn()
    this.#standby = child
    child.worker.once('exit', (code, signal) => {
      if (this.#standby !== child) return
      child.channel.close()
      this.#standby = null
      if (this.#stopping) return
      this.#standbyFailures = recent(this.#standbyFailures)
      const delay = restartDelay(this.#standbyFailures)
      this.#options.logger.warn(
        { worker_pid: child.worker.process.pid, code, signal },
        'standby worker exited',
      )
      setTimeout(() => this.#spawnStandby(), delay)
    })
  }
}

const NO_ANSWER = Symbol('no answer')

/** The failures within CRASH_WINDOW_MS, with one more now. */
function recent(failures: readonly number[]): number[] {
  const now = Date.now()
  return [...failures.filter((t) => now - t < CRASH_WINDOW_MS), now]
}

/** Milliseconds before the next start: none, unless the slot keeps failing. */
function restartDelay(failures: readonly number[]): number {
  return failures.length > CRASH_LIMIT ? RESTART_DELAY_MS : 0
}

/** SIGTERM to a worker; resolves once it has exited and the last of its log lines has been relayed. */
function stopChild(worker: Worker): Promise<void> {
  const stdout = worker.process.stdout
  const relayed =
    stdout === null || stdout.readableEnded || stdout.destroyed
      ? Promise.resolve()
      : new Promise<void>((resolve) => stdout.once('close', () => resolve()))
  const exited = worker.isDead()
    ? Promise.resolve()
    : new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  if (!worker.isDead()) worker.process.kill('SIGTERM')
  return Promise.all([relayed, exited]).then(() => undefined)
}
