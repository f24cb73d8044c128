/**
 * Config of the rate-limiting plugin: Kong's rate-limiting schema (3.x), so a Kong file loads unchanged,
 * including the flat `redis_*` fields of Kong 3.0–3.5 (folded into `redis`) and the `null`s Kong writes
 * for unset fields in exports. Gatehouse differs where it must, with a message saying so: `policy:
 * cluster` (Kong's database-backed counters; there is no database to share here) and `sync_rate` other
 * than -1 (every request is counted atomically). Redis Sentinel and Cluster fields are accepted only unset.
 */
import { z } from 'zod'
import { host, path } from '../../config/schema/typedefs.ts'
import { PERIODS } from './windows.ts'

const limit = (period: string) =>
  z
    .number()
    .refine((v) => v > 0, { error: 'must be greater than 0' })
    .nullish()
    .describe(`Requests allowed per calendar ${period} (UTC), greater than 0. Default: unset.`)

const ms = z.int().min(1).max(2_147_483_646)

/** A Kong field for a feature Gatehouse lacks: exports write it as null, anything else is refused. */
const unsupported = (feature: string) =>
  z
    .null({ error: `${feature} is not supported; leave it unset` })
    .optional()
    .describe(`${feature} is not supported; only null.`)

/** Kong's `redis` record (kong/tools/redis/schema.lua): a server of this plugin's own. */
const kongRedis = z
  .strictObject({
    host: host
      .nullish()
      .describe(
        "Redis host of this plugin's own. Unset: the top-level `redis` section is used (preferred). Default: unset.",
      ),
    port: z.int().min(1).max(65_535).nullish().describe('Redis port. Default: 6379.'),
    username: z.string().min(1).nullish().describe('ACL user (Redis 6+). Default: unset.'),
    password: z
      .string()
      .min(1)
      .nullish()
      .describe('Password. Use `{vault://env/NAME}` rather than writing it here. Default: unset.'),
    database: z.int().min(0).nullish().describe('Database number. Default: 0.'),
    timeout: ms
      .nullish()
      .describe(
        'Milliseconds for connecting and for each command, unless the two below are set. Default: 2000.',
      ),
    connect_timeout: ms.nullish().describe('Milliseconds to connect. Default: `timeout`.'),
    send_timeout: ms.nullish().describe('Accepted for Kong compatibility; `read_timeout` bounds a command.'),
    read_timeout: ms.nullish().describe('Milliseconds a command may take. Default: `timeout`.'),
    ssl: z.boolean().nullish().describe('Connect with TLS. Default: false.'),
    ssl_verify: z.boolean().nullish().describe("Verify the server's certificate. Default: false (Kong's)."),
    server_name: host.nullish().describe('Server name for TLS (SNI). Default: the host.'),
    keepalive_pool_size: z
      .int()
      .nullish()
      .describe('Accepted for Kong compatibility; one multiplexed connection is shared instead of a pool.'),
    keepalive_backlog: z.int().nullish().describe('Accepted for Kong compatibility; unused.'),
    sentinel_master: unsupported('Redis Sentinel'),
    sentinel_role: unsupported('Redis Sentinel'),
    sentinel_nodes: unsupported('Redis Sentinel'),
    sentinel_username: unsupported('Redis Sentinel'),
    sentinel_password: unsupported('Redis Sentinel'),
    cluster_nodes: unsupported('Redis Cluster'),
    cluster_max_redirections: z.int().nullish().describe('Redis Cluster is not supported; ignored.'),
    connection_is_proxied: z.boolean().nullish().describe('Accepted for Kong compatibility; ignored.'),
  })
  .describe(
    "Kong's per-plugin Redis, for `policy: redis`. Leave it out to use the top-level `redis` section.",
  )

/** Kong 3.0–3.5 wrote the Redis fields flat (`redis_host`); they are folded into `redis`. */
const shorthand = <T extends z.ZodType>(field: string, schema: T) =>
  schema.nullish().describe(`Kong 3.0–3.5 name of \`redis.${field}\` (deprecated there, accepted here).`)

export const rateLimitingSchema = z
  .strictObject({
    second: limit('second'),
    minute: limit('minute'),
    hour: limit('hour'),
    day: limit('day'),
    month: limit('month'),
    year: limit('year'),
    limit_by: z
      .enum(['consumer', 'credential', 'ip', 'service', 'header', 'path'])
      .default('consumer')
      .describe(
        'Whose requests are counted together: `consumer` (falls back to the credential, then to the authenticated principal, then to the IP), `credential`, `ip`, `service`, `header` (the value of `header_name`), or `path` (requests to exactly `path`). Whenever the chosen value is missing, the client IP is used, as Kong does. Default: `consumer`.',
      ),
    header_name: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'must be a header name' })
      .nullish()
      .describe('The header whose value is counted, for `limit_by: header`. Default: unset.'),
    path: path.nullish().describe('The request path counted, for `limit_by: path`. Default: unset.'),
    policy: z
      .enum(['local', 'cluster', 'redis'])
      .default('local')
      .describe(
        "Where counters live: `local` (this node's memory; each node counts alone), `redis` (shared by every node, exact). Kong's `cluster` is refused: there is no database to share. Default: `local`.",
      ),
    fault_tolerant: z
      .boolean()
      .default(true)
      .describe(
        'When the counters cannot be reached (Redis down or slow), let requests through unlimited (logged, throttled); false answers 500 `GH_ERR_RATE_LIMIT_UNAVAILABLE` instead. Default: true.',
      ),
    redis: kongRedis.nullish(),
    hide_client_headers: z
      .boolean()
      .default(false)
      .describe(
        'Send none of the rate-limit headers (`X-RateLimit-*`, `RateLimit-*`, and `Retry-After` on a refusal, as Kong). Default: false.',
      ),
    error_code: z
      .int()
      .min(400)
      .max(599)
      .default(429)
      .describe('Status of the answer when a limit is reached. Default: 429.'),
    error_message: z
      .string()
      .default('API rate limit exceeded')
      .describe('`message` of the answer when a limit is reached. Default: `API rate limit exceeded`.'),
    sync_rate: z
      .number()
      .nullish()
      .describe(
        "Kong's batching of Redis updates; only -1 (synchronous) is accepted: every request is counted atomically in Redis. Default: -1.",
      ),
    redis_host: shorthand('host', host),
    redis_port: shorthand('port', z.int().min(1).max(65_535)),
    redis_username: shorthand('username', z.string().min(1)),
    redis_password: shorthand('password', z.string().min(1)),
    redis_database: shorthand('database', z.int().min(0)),
    redis_timeout: shorthand('timeout', ms),
    redis_ssl: shorthand('ssl', z.boolean()),
    redis_ssl_verify: shorthand('ssl_verify', z.boolean()),
    redis_server_name: shorthand('server_name', host),
  })
  .superRefine((c, ctx) => {
    const set = PERIODS.filter((p) => c[p] != null)
    if (set.length === 0)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'set at least one limit: second, minute, hour, day, month or year',
      })
    // Kong's rule: a longer window may not allow fewer requests than a shorter one (named once each).
    const valid = set.filter((p) => c[p]! > 0)
    for (const [i, longer] of valid.entries()) {
      const shorter = valid.slice(0, i).find((p) => c[longer]! < c[p]!)
      if (shorter !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [longer],
          message: `the limit for ${longer} (${c[longer]}) cannot be lower than the limit for ${shorter} (${c[shorter]})`,
        })
    }
    if (c.limit_by === 'header' && !c.header_name)
      ctx.addIssue({ code: 'custom', path: ['header_name'], message: 'is required with limit_by: header' })
    if (c.limit_by === 'path' && !c.path)
      ctx.addIssue({ code: 'custom', path: ['path'], message: 'is required with limit_by: path' })
    if (c.policy === 'cluster')
      ctx.addIssue({
        code: 'custom',
        path: ['policy'],
        message:
          "'cluster' is not supported: Kong keeps those counters in its database, and Gatehouse has none to share; use 'redis' (exact across nodes) or 'local' (per node)",
      })
    if (c.sync_rate != null && c.sync_rate !== -1)
      ctx.addIssue({
        code: 'custom',
        path: ['sync_rate'],
        message:
          'only -1 is supported: every request is counted atomically in Redis, so there is nothing to batch',
      })
  })
  .transform(
    ({
      redis,
      redis_host,
      redis_port,
      redis_username,
      redis_password,
      redis_database,
      redis_timeout,
      redis_ssl,
      redis_ssl_verify,
      redis_server_name,
      ...c
    }) => {
      // The nested record wins over the flat names, which Kong 3.6+ exports alongside it.
      const timeout = redis?.timeout ?? redis_timeout ?? 2000
      const own: PluginRedis = {
        host: redis?.host ?? redis_host ?? null,
        port: redis?.port ?? redis_port ?? 6379,
        username: redis?.username ?? redis_username ?? null,
        password: redis?.password ?? redis_password ?? null,
        database: redis?.database ?? redis_database ?? 0,
        connect_timeout: redis?.connect_timeout ?? timeout,
        read_timeout: redis?.read_timeout ?? timeout,
        ssl: redis?.ssl ?? redis_ssl ?? false,
        ssl_verify: redis?.ssl_verify ?? redis_ssl_verify ?? false,
        server_name: redis?.server_name ?? redis_server_name ?? null,
      }
      return { ...c, redis: own }
    },
  )
  .describe(
    "Limits how many requests a consumer, credential, IP, service, header value or path may make per second, minute, hour, day, month and year (Kong's rate-limiting).",
  )

/** The plugin's own Redis with Kong's defaults filled in; `host` null means the top-level section. */
export interface PluginRedis {
  readonly host: string | null
  readonly port: number
  readonly username: string | null
  readonly password: string | null
  readonly database: number
  readonly connect_timeout: number
  readonly read_timeout: number
  readonly ssl: boolean
  readonly ssl_verify: boolean
  readonly server_name: string | null
}
export type RateLimitingConfig = z.output<typeof rateLimitingSchema>
