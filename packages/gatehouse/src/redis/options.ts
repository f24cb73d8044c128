/**
 * Resolved Redis settings → ioredis options. The choices that keep a request from ever waiting on Redis
 * live here: no offline queue (a command while disconnected fails at once), no resending after a
 * reconnect (a late command would count a request twice), a command timeout, and reconnection forever
 * with a capped backoff so the gateway recovers without a restart when the server comes back.
 */
import type { RedisOptions } from 'ioredis'
import type { RedisSettings } from '../config/schema/redis.ts'

/** Longest wait between two reconnection attempts, in milliseconds. */
export const MAX_RECONNECT_DELAY = 2000

export function clientOptions(s: RedisSettings): Omit<RedisOptions, 'replyMapping'> {
  return {
    host: s.host,
    port: s.port,
    ...(s.username !== null && { username: s.username }),
    ...(s.password !== null && { password: s.password }),
    db: s.database,
    keyPrefix: s.key_prefix,
    ...(s.tls && {
      tls: {
        rejectUnauthorized: s.tls_verify,
        ...(s.server_name !== null && { servername: s.server_name }),
      },
    }),
    connectTimeout: s.connect_timeout,
    commandTimeout: s.command_timeout,
    lazyConnect: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY),
    connectionName: 'gatehouse',
  }
}

/** The server as logs name it: never the password. */
export function describeTarget(s: RedisSettings): string {
  const host = s.host.includes(':') ? `[${s.host}]` : s.host
  return `${s.tls ? 'rediss' : 'redis'}://${host}:${s.port}/${s.database}`
}

/** Settings that open the same connection give the same key. It holds the password: a map key, never logged. */
export function connectionKey(s: RedisSettings): string {
  return JSON.stringify([
    s.host,
    s.port,
    s.username,
    s.password,
    s.database,
    s.tls,
    s.tls_verify,
    s.server_name,
    s.connect_timeout,
    s.command_timeout,
    s.key_prefix,
  ])
}
