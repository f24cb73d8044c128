/**
 * `redis`: the Redis server nodes share state through (rate-limiting counters with `policy: redis`,
 * revocations, sessions with `storage: redis`, DPoP proofs with `dpop.replay: redis`). Optional; written as a URL or as host/port, resolved here at load into
 * one plain shape, so the connection code never parses anything.
 */
import { z } from 'zod'
import { host, timeoutMs } from './typedefs.ts'

const DEFAULT_HOST = '127.0.0.1'
const DEFAULT_PORT = 6379

/** Settings as the connection factory takes them (src/redis/): every default filled, the URL taken apart. */
export interface RedisSettings {
  readonly host: string
  readonly port: number
  readonly username: string | null
  readonly password: string | null
  readonly database: number
  readonly tls: boolean
  readonly tls_verify: boolean
  readonly server_name: string | null
  /** Milliseconds. */
  readonly connect_timeout: number
  /** Milliseconds. */
  readonly command_timeout: number
  readonly key_prefix: string
}

const fields = z.strictObject({
  url: z
    .string()
    .regex(/^rediss?:\/\/[^\s]*$/, { error: 'must be a redis:// or rediss:// URL' })
    .optional()
    .describe(
      '`redis://[[username]:password@]host[:port][/database]`, or `rediss://…` for TLS: instead of `host`, `port` and `database`. Write it as `{vault://env/NAME}` when it carries a password.',
    ),
  host: host.optional().describe('Host name or IP address of the server. Default: `127.0.0.1`.'),
  port: z.int().min(1).max(65_535).optional().describe('TCP port. Default: 6379.'),
  username: z
    .string()
    .min(1)
    .optional()
    .describe(
      'ACL user (Redis 6+); without it the password authenticates the `default` user. Default: unset.',
    ),
  password: z
    .string()
    .min(1)
    .optional()
    .describe('Password (`AUTH`). Use `{vault://env/NAME}` rather than writing it here. Default: unset.'),
  database: z.int().min(0).optional().describe('Database number (`SELECT`). Default: 0.'),
  tls: z
    .boolean()
    .default(false)
    .describe('Connect with TLS (implied by a `rediss://` URL). Default: false.'),
  tls_verify: z
    .boolean()
    .default(true)
    .describe("Verify the server's TLS certificate against the system CAs. Default: true."),
  server_name: host
    .optional()
    .describe('Server name for TLS (SNI and the certificate check). Default: the host.'),
  connect_timeout: timeoutMs
    .default(2000)
    .describe('Milliseconds to establish a connection (each attempt). Default: 2000.'),
  command_timeout: timeoutMs
    .default(500)
    .describe(
      'Milliseconds a command may take before it counts as failed, so a request never waits longer on Redis; keep it short. Default: 500.',
    ),
  key_prefix: z
    .string()
    .max(64)
    .regex(/^[^\s{}]*$/, { error: 'must not contain spaces or braces' })
    .default('gatehouse:')
    .describe(
      'Prepended to every key Gatehouse writes, so several gateways (or other programs) can share a server. Default: `gatehouse:`.',
    ),
})

type Fields = z.output<typeof fields>

function resolve(v: Fields, ctx: z.RefinementCtx<Fields>): RedisSettings {
  let target = { host: v.host ?? DEFAULT_HOST, port: v.port ?? DEFAULT_PORT, database: v.database ?? 0 }
  let username = v.username ?? null
  let password = v.password ?? null
  let tls = v.tls
  if (v.url !== undefined) {
    for (const key of ['host', 'port', 'database'] as const)
      if (v[key] !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'set either url or host/port/database, not both',
        })
    let url: URL
    try {
      url = new URL(v.url)
    } catch {
      // Not the URL itself: it may carry a password.
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'is not a valid URL' })
      return z.NEVER
    }
    const db = url.pathname.replace(/^\//, '')
    if (db !== '' && !/^\d+$/.test(db))
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'the path must be a database number, e.g. /0' })
    target = {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1') || DEFAULT_HOST,
      port: url.port === '' ? DEFAULT_PORT : Number(url.port),
      database: db === '' ? 0 : Number(db),
    }
    if (url.username !== '') username = decodeURIComponent(url.username)
    if (url.password !== '') password = decodeURIComponent(url.password)
    if (
      (url.password !== '' && v.password !== undefined) ||
      (url.username !== '' && v.username !== undefined)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: 'carries credentials and so do username/password: keep one',
      })
    tls ||= url.protocol === 'rediss:'
  }
  return {
    ...target,
    username,
    password,
    tls,
    tls_verify: v.tls_verify,
    server_name: v.server_name ?? null,
    connect_timeout: v.connect_timeout,
    command_timeout: v.command_timeout,
    key_prefix: v.key_prefix,
  }
}

export const redisSettings = fields
  .transform(resolve)
  .optional()
  .describe(
    'The Redis server the gateway nodes share state through: revocations (`POST /revocations` reaches every node within a second; without this section each node keeps its own), rate-limiting counters with `policy: redis`, session plugin sessions with `storage: redis`, openid-connect DPoP proofs with `dpop.replay: redis`. One connection per distinct setting (plus one subscription for revocations), shared by every plugin; it reconnects by itself when the server comes back. Default: none.',
  )
