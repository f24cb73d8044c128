/**
 * Whether this process is one worker of several (`proxy.workers` > 1), and its channel to the primary.
 * State that must be one per node rather than one per process (rate-limit counters, server-side
 * sessions, sessions ended by logout, revocations, the internal-token key ring) asks here: in a worker
 * it lives in the primary and is reached over the channel; alone, it stays in the process as before.
 */
import type { Channel } from './channel.ts'

export interface WorkerLink {
  readonly channel: Channel
  /** This worker's slot: 0 … workers − 1, kept by the worker that replaces it (metric labels). */
  readonly slot: number
  readonly workers: number
}

let current: WorkerLink | null = null

/** The link to the primary in a worker process; null in a single process and in the primary. */
export function workerLink(): WorkerLink | null {
  return current
}

export function setWorkerLink(link: WorkerLink): void {
  current = link
}
