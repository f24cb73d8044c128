/**
 * http-log: Kong's plugin of that name. Each request's log entry (../_shared/log-entry.ts, credentials
 * redacted) is queued (queue.ts) and sent to `http_endpoint` in batches by a Pool of its own (sender.ts).
 * The request only serialises and queues: a slow or dead log server never holds up or slows the proxy.
 *
 * Instances with the same config share one queue in the process (Kong shares queues by name too), and
 * keep it across reloads that leave the config unchanged; the last instance to go sends what is queued,
 * for SHUTDOWN_FLUSH_MS at most (at SIGTERM, the gateway closes the runtime after draining requests).
 */

import { logShipping } from '../../observability/log-shipping.ts'
import type { Logger } from '../../observability/logger.ts'
import { serializeLogEntry } from '../_shared/log-entry.ts'
import type { GatewayPlugin } from '../types.ts'
import { LogQueue, type QueueOptions } from './queue.ts'
import { type HttpLogConfig, httpLogSchema } from './schema.ts'
import { createSender, type Sender } from './sender.ts'

/** How long the last user of a queue lets it send what is left before dropping it. */
const SHUTDOWN_FLUSH_MS = 5000
/** Batches in flight at once for Kong's `concurrency_limit: -1` (Kong: unbounded timers). */
const UNLIMITED_CONCURRENCY = 16

/** The queue settings, with Kong's deprecated 2.x fields applied as Kong's Queue.get_plugin_params does. */
export function queueOptions(config: HttpLogConfig, logger: Logger | null): QueueOptions {
  const q = config.queue
  let maxBatchSize = q.max_batch_size
  let coalescingSeconds = q.max_coalescing_delay
  const warn = (message: string) => logger?.warn({}, `http-log: ${message}`)
  if (config.retry_count != null && config.retry_count !== 10)
    warn(
      'the retry_count parameter no longer works, please update your configuration to use initial_retry_delay and max_retry_time instead',
    )
  if (config.queue_size != null && config.queue_size !== 1) {
    maxBatchSize = config.queue_size
    warn(
      'the queue_size parameter is deprecated, please update your configuration to use queue.max_batch_size instead',
    )
  }
  if (config.flush_timeout != null && config.flush_timeout !== 2) {
    coalescingSeconds = config.flush_timeout
    warn(
      'the flush_timeout parameter is deprecated, please update your configuration to use queue.max_coalescing_delay instead',
    )
  }
  return {
    maxBatchSize,
    maxCoalescingDelayMs: coalescingSeconds * 1000,
    maxEntries: q.max_entries,
    maxBytes: q.max_bytes ?? null,
    maxRetryTimeMs: q.max_retry_time < 0 ? -1 : q.max_retry_time * 1000,
    initialRetryDelayMs: q.initial_retry_delay * 1000,
    maxRetryDelayMs: q.max_retry_delay * 1000,
    concurrency: q.concurrency_limit === -1 ? UNLIMITED_CONCURRENCY : 1,
  }
}

interface SharedQueue {
  readonly queue: LogQueue
  readonly sender: Sender
  users: number
}

const queues = new Map<string, SharedQueue>()

function acquireQueue(config: HttpLogConfig, logger: Logger): { key: string; shared: SharedQueue } {
  const key = JSON.stringify(config)
  let shared = queues.get(key)
  if (shared === undefined) {
    const options = queueOptions(config, null)
    const sender = createSender(
      { ...config, queue: { ...config.queue, max_batch_size: options.maxBatchSize } },
      options.concurrency,
    )
    const queue = new LogQueue(options, sender.send, {
      sent: (n) => logShipping.sent('http-log', n),
      dropped: (reason, n) => logShipping.dropped('http-log', reason, n),
      warn: (fields, message) => logger.warn(fields, message),
    })
    shared = { queue, sender, users: 0 }
    queues.set(key, shared)
  }
  shared.users++
  return { key, shared }
}

async function releaseQueue(key: string, shared: SharedQueue): Promise<void> {
  if (--shared.users > 0 || queues.get(key) !== shared) return
  queues.delete(key)
  await shared.queue.close(SHUTDOWN_FLUSH_MS)
  await shared.sender.close()
}

/**
 * The `http-log` plugin (Kong's contract, priority 12).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: http-log
 *     config:
 *       http_endpoint: https://logs.example/ingest
 *       queue: { max_batch_size: 100, max_coalescing_delay: 1 }
 * ```
 */
export const plugin: GatewayPlugin<HttpLogConfig> = {
  name: 'http-log',
  version: '1.0.0',
  priority: 12,
  band: 'logging',
  description:
    "Sends Kong's log entry of every request (credentials redacted) to an HTTP endpoint, batched through a bounded queue with retries, never slowing the proxy.",
  schema: httpLogSchema,
  create(config, ctx) {
    // Kong's notices for the deprecated 2.x fields, once per load.
    queueOptions(config, ctx.logger)
    let acquired: { key: string; shared: SharedQueue } | null = null
    let closed = false
    return {
      log(state) {
        if (state.dryRun !== null) return
        if (closed) {
          // A request that outlived its configuration (a reload): the queue of the same config, if it lives on.
          const live = queues.get(JSON.stringify(config))
          if (live !== undefined) live.queue.enqueue(serializeLogEntry(state))
          else logShipping.dropped('http-log', 'shutdown', 1)
          return
        }
        // Acquired on first use, so a configuration check (which creates and closes instances) opens nothing.
        acquired ??= acquireQueue(config, ctx.logger)
        acquired.shared.queue.enqueue(serializeLogEntry(state))
      },
      close() {
        closed = true
        if (acquired === null) return
        const { key, shared } = acquired
        acquired = null
        return releaseQueue(key, shared)
      },
    }
  },
}
