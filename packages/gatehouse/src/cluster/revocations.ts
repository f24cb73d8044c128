/**
 * Revocations without Redis in a node of several workers: the primary's view is the node's. A
 * revocation made anywhere (the admin API in the primary, a worker's identity provider) is recorded by
 * the primary and sent to every worker, and the call returns only once every worker has applied it —
 * the same promise Redis-backed revocations make for every node ("resolves once every node can see it").
 * A worker that starts later receives the whole list before it serves.
 */
import type { Logger } from '../observability/logger.ts'
import {
  MemoryRevocations,
  type Revocation,
  type RevocationRequest,
  type RevocationStatus,
  Revocations,
} from '../redis/revocation.ts'
import type { Channel } from './channel.ts'

/** The primary's revocations: its own view, delivered to every worker before a revocation returns. */
export class PrimaryRevocations extends MemoryRevocations {
  readonly #deliver: (r: Revocation) => Promise<void>

  constructor(logger: Logger, deliver: (r: Revocation) => Promise<void>) {
    super(logger)
    this.#deliver = deliver
  }

  override async revoke(request: RevocationRequest): Promise<Revocation> {
    const r = await super.revoke(request)
    await this.#deliver(r)
    return r
  }

  /** Everything a new worker must know, oldest first. */
  all(): Revocation[] {
    return this.list.recent(Number.MAX_SAFE_INTEGER).reverse()
  }
}

/** A worker's revocations: the primary's view, received; revoking asks the primary. */
export class WorkerRevocations extends Revocations {
  readonly backend = 'memory'
  readonly #channel: Channel
  readonly #logger: Logger

  constructor(channel: Channel, logger: Logger) {
    super()
    this.#channel = channel
    this.#logger = logger
    channel
      .handle('revocation', (r) => this.take(r as Revocation, this.#logger))
      .handle('revocations', (all) => this.receiveAll(all as readonly Revocation[]))
  }

  /** The primary's whole list: at this worker's start, and again if one came while it was starting. */
  receiveAll(revocations: readonly Revocation[]): void {
    for (const r of revocations) this.take(r, this.#logger)
  }

  settled(): undefined {
    return undefined
  }

  revoke(request: RevocationRequest): Promise<Revocation> {
    return this.#channel.call<Revocation>('revoke', request)
  }

  status(): RevocationStatus {
    return { backend: 'memory', in_sync: true, synced_at: null, entries: this.list.size }
  }

  close(): Promise<void> {
    this.list.close()
    return Promise.resolve()
  }
}
