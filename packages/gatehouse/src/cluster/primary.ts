/**
 * The primary of a node of several workers (`proxy.workers` > 1): forks the workers (node:cluster; they
 * share the proxy listeners' ports), gives each the node's configuration, internal-token key ring and
 * revocations, and keeps them in step:
 * - a reload is delivered to every worker, and acknowledged only when each one serves it;
 * - key ring changes and revocations likewise, before the admin call that made them returns;
 * - a worker that exits without being asked is replaced in its slot at once (after a second when the
 *   same slot keeps failing, so a worker that cannot start does not spin a core);
 * - SIGTERM drains every worker (each finishes its requests, as a single process does) and then stops.
 * Everything the workers say on stdout reaches the node's one log through log-relay.ts.
 */
import cluster, { type Worker } from 'node:cluster'
import { fileURLToPath } from 'node:url'
import type { WorkerStats } from '../admin/context.ts'
import type { GatewayConfig } from '../config/model.ts'
import type { KeyRingState } from '../internal-tokens/key-ring.ts'
import type { Logger } from '../observability/logger.ts'
import type { CounterPolicy } from '../plugins/rate-limiting/policies/policy.ts'
import type { Revocation, RevocationRequest } from '../redis/revocation.ts'
import { Channel } from './channel.ts'
import type { LogRelay } from './log-relay.ts'
import { serveNodeState } from './node-state.ts'
import type { WorkerInit, WorkerReady } from './worker.ts'

/** A slot that failed this often within CRASH_WINDOW_MS waits RESTART_DELAY_MS before its next start. */
const CRASH_LIMIT = 3
const CRASH_WINDOW_MS = 10_000
const RESTART_DELAY_MS = 1000
/** How long a worker may take to start and bind before it is given up (and replaced). */
const START_TIMEOUT_MS = 60_000

export interface PoolOptions {
  readonly count: number
  readonly logger: Logger
  readonly relay: LogRelay
  /** What a worker needs to start, as the node is now. */
  init(): Promise<Omit<WorkerInit, 'slot' | 'workers'>>
  /** The primary's local-policy rate-limit counters. */
  readonly counters: CounterPolicy
  /** A worker's revocation: recorded by the primary (and delivered to every worker) before it returns. */
  revoke(request: RevocationRequest): Promise<Revocation>
}

interface Slot {
  readonly index: number
  worker: Worker | null
  channel: Channel | null
  /** Ready: serving, and included in every delivery. */
  ready: boolean
  /** What it was last given, to send again what changed while it was starting. */
  config: GatewayConfig | null
  failures: number[]
}

export class WorkerPool {
  readonly #options: PoolOptions
  readonly #slots: Slot[]
  #stopping = false
  #config: GatewayConfig | null = null
  /** Past the first start: from then on an exited worker is replaced, before it a failed start is fatal. */
  #started = false

  constructor(options: PoolOptions) {
    this.#options = options
    this.#slots = Array.from({ length: options.count }, (_, index) => ({
      index,
      worker: null,
      channel: null,
      ready: false,
      config: null,
      failures: [],
    }))
    cluster.setupPrimary({
      exec: fileURLToPath(new URL('./worker-main.ts', import.meta.url)),
      args: [],
      // stdout is relayed (one log per node); stderr is the terminal's, for a crash's last words.
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      serialization: 'advanced',
    })
  }

  /** Starts every worker; resolves with the proxy addresses they bound once all serve. */
  async start(): Promise<WorkerReady> {
    const ready = await Promise.all(this.#slots.map((slot) => this.#fork(slot)))
    this.#started = true
    return ready[0]!
  }

  /** A reload: every serving worker swaps it in before this resolves. */
  async deliverConfig(config: GatewayConfig, source: string): Promise<void> {
    this.#config = config
    await Promise.all(
      this.#ready().map(async (slot) => {
        slot.config = config
        await this.#ask(slot, 'config', { config, source })
      }),
    )
  }

  async deliverKeys(state: KeyRingState): Promise<void> {
    await Promise.all(this.#ready().map((slot) => this.#ask(slot, 'keys', state)))
  }

  async deliverRevocation(r: Revocation): Promise<void> {
    await Promise.all(this.#ready().map((slot) => this.#ask(slot, 'revocation', r)))
  }

  /** Each serving worker's metrics, for the node's /metrics. */
  metrics<T>(): Promise<T[]> {
    return Promise.all(this.#ready().map((slot) => this.#ask<T>(slot, 'metrics')))
  }

  stats(): Promise<WorkerStats[]> {
    return Promise.all(this.#ready().map((slot) => this.#ask<WorkerStats>(slot, 'stats')))
  }

  /** Asks every serving worker `op` (proxy-cache administration and the like). */
  askAll<T>(op: string, args?: unknown): Promise<T[]> {
    return Promise.all(this.#ready().map((slot) => this.#ask<T>(slot, op, args)))
  }

  /** Drains every worker (SIGTERM: each finishes its requests) and resolves when all have exited. */
  async stop(): Promise<void> {
    this.#stopping = true
    const running = this.#slots.flatMap((slot) => (slot.worker !== null ? [slot.worker] : []))
    await Promise.all(
      running.map(
        (worker) =>
          new Promise<void>((resolve) => {
            // Done when it has exited and the last of its log lines has been relayed.
            const stdout = worker.process.stdout
            const relayed =
              stdout === null || stdout.readableEnded || stdout.destroyed
                ? Promise.resolve()
                : new Promise<void>((r) => stdout.once('close', r))
            const exited = worker.isDead()
              ? Promise.resolve()
              : new Promise<void>((r) => worker.once('exit', () => r()))
            void Promise.all([relayed, exited]).then(() => resolve())
            if (!worker.isDead()) worker.process.kill('SIGTERM')
          }),
      ),
    )
  }

  #ready(): Slot[] {
    return this.#slots.filter((slot) => slot.ready && slot.channel !== null)
  }

  #ask<T>(slot: Slot, op: string, args?: unknown): Promise<T> {
    return slot.channel!.call<T>(op, args).catch((err: unknown) => {
      // A worker that exits mid-delivery is replaced, and its successor starts with the current state.
      if (slot.worker?.isDead() !== false) return undefined as T
      throw err
    })
  }

  #fork(slot: Slot): Promise<WorkerReady> {
    const worker = cluster.fork({ GATEHOUSE_WORKER_SLOT: String(slot.index) })
    const channel = new Channel(worker)
    slot.worker = worker
    slot.channel = channel
    slot.ready = false
    serveNodeState(channel, this.#options.counters, (from) =>
      this.#ready()
        .map((s) => s.channel!)
        .filter((c) => c !== from),
    )
    channel.handle('revoke', (request) => this.#options.revoke(request as RevocationRequest))
    if (worker.process.stdout) this.#options.relay.add(worker.process.stdout)
    return new Promise<WorkerReady>((resolve, reject) => {
      worker.once('exit', (code, signal) => {
        if (!slot.ready)
          reject(new Error(`worker ${slot.index} exited before it served (${signal ?? `code ${code}`})`))
        this.#exit(slot, worker, code, signal)
      })
      const timer = setTimeout(() => {
        this.#options.logger.error({ worker: slot.index }, 'worker did not start in time; replacing it')
        worker.process.kill('SIGKILL')
      }, START_TIMEOUT_MS)
      worker.once('online', async () => {
        try {
          const init = await this.#options.init()
          const config = this.#config ?? init.config
          const ready = await channel.call<WorkerReady>('init', {
            ...init,
            config,
            slot: slot.index,
            workers: this.#slots.length,
          } satisfies WorkerInit)
          clearTimeout(timer)
          slot.config = config
          slot.ready = true
          // A reload delivered while it was starting: it starts on the old one, so give it the new one.
          if (this.#config !== null && this.#config !== config)
            await this.#ask(slot, 'config', { config: this.#config, source: this.#config.source })
          this.#options.logger.info({ worker: slot.index, worker_pid: worker.process.pid }, 'worker serving')
          resolve(ready)
        } catch (err) {
          clearTimeout(timer)
          reject(err)
        }
      })
    })
  }

  #exit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return
    slot.channel?.close()
    slot.ready = false
    slot.worker = null
    slot.channel = null
    if (this.#stopping || !this.#started) return
    const now = Date.now()
    slot.failures = [...slot.failures.filter((t) => now - t < CRASH_WINDOW_MS), now]
    const delay = slot.failures.length > CRASH_LIMIT ? RESTART_DELAY_MS : 0
    this.#options.logger.error(
      { worker: slot.index, worker_pid: worker.process.pid, code, signal, restart_in_ms: delay },
      'worker exited; replacing it',
    )
    setTimeout(() => {
      if (this.#stopping) return
      this.#fork(slot).catch((err: unknown) =>
        this.#options.logger.error({ worker: slot.index, err }, 'worker failed to start'),
      )
    }, delay)
  }
}
