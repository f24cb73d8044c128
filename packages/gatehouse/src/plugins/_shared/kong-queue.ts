/**
 * Kong 3.x's `queue` record (kong/tools/queue_schema.lua), shared by the plugins that batch work off the
 * request path (http-log, opentelemetry): Kong's names, bounds, defaults and messages in one place. Each
 * plugin says in its own words what a field does for it (`describe`) and may change a default, as Kong's
 * plugins do (opentelemetry's batches of 200).
 */
import { z } from 'zod'

const between = (min: number, max: number) => ({ error: `value should be between ${min} and ${max}` })

export type QueueField =
  | 'max_batch_size'
  | 'max_coalescing_delay'
  | 'max_entries'
  | 'max_bytes'
  | 'max_retry_time'
  | 'initial_retry_delay'
  | 'max_retry_delay'
  | 'concurrency_limit'
  | 'name'

export function kongQueueSchema(options: {
  readonly describe: Readonly<Record<QueueField, string>>
  readonly whole: string
  readonly maxBatchSize?: number
}) {
  const d = options.describe
  return z
    .strictObject({
      max_batch_size: z
        .int({ error: 'expected an integer' })
        .min(1, between(1, 1_000_000))
        .max(1_000_000, between(1, 1_000_000))
        .default(options.maxBatchSize ?? 1)
        .describe(d.max_batch_size),
      max_coalescing_delay: z
        .number({ error: 'expected a number' })
        .min(0, between(0, 3600))
        .max(3600, between(0, 3600))
        .default(1)
        .describe(d.max_coalescing_delay),
      max_entries: z
        .int({ error: 'expected an integer' })
        .min(1, between(1, 1_000_000))
        .max(1_000_000, between(1, 1_000_000))
        .default(10_000)
        .describe(d.max_entries),
      max_bytes: z
        .int({ error: 'expected an integer' })
        .min(1, { error: 'value must be greater than 0' })
        .nullish()
        .describe(d.max_bytes),
      max_retry_time: z.number({ error: 'expected a number' }).default(60).describe(d.max_retry_time),
      initial_retry_delay: z
        .number({ error: 'expected a number' })
        .min(0.001, between(0.001, 1_000_000))
        .max(1_000_000, between(0.001, 1_000_000))
        .default(0.01)
        .describe(d.initial_retry_delay),
      max_retry_delay: z
        .number({ error: 'expected a number' })
        .min(0.001, between(0.001, 1_000_000))
        .max(1_000_000, between(0.001, 1_000_000))
        .default(60)
        .describe(d.max_retry_delay),
      concurrency_limit: z
        .union([z.literal(1), z.literal(-1)], { error: 'expected one of: -1, 1' })
        .default(1)
        .describe(d.concurrency_limit),
      name: z.string().nullish().describe(d.name),
    })
    .describe(options.whole)
}
