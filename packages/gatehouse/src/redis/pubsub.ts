/**
 * A channel subscription on its own connection (a Redis connection that subscribes can send nothing
 * else). It reconnects by itself like the shared connections (options.ts), subscribes again on every new
 * connection, and says so through `onSubscribed`: messages published while it was away are lost, so the
 * holder catches up from the keys then. Channels are not keys, so ioredis does not prefix them: the
 * channel name given here is prefixed with `key_prefix` so gateways sharing a server stay apart.
 * Outages are logged by the shared connection to the same server; this one stays quiet.
 */
import type { RedisSettings } from '../config/schema/redis.ts'
import { redisClientClass } from './driver.ts'
import { clientOptions } from './options.ts'

export interface Subscription {
  /** Unsubscribes and closes the connection. Idempotent. */
  close(): Promise<void>
}

export interface SubscribeHandlers {
  onMessage(message: string): void
  /** After every (re)subscription, the first included. */
  onSubscribed(): void
  /** A subscription attempt failed (the connection is retried anyway). */
  onError?(err: Error): void
}

/** The channel name as published on the server (with the key prefix). */
export function channelName(settings: RedisSettings, channel: string): string {
  return `${settings.key_prefix}${channel}`
}

export function subscribe(settings: RedisSettings, channel: string, h: SubscribeHandlers): Subscription {
  const name = channelName(settings, channel)
  const Client = redisClientClass()
  const client = new Client({
    ...clientOptions(settings),
    keyPrefix: '',
    autoResubscribe: false,
    connectionName: 'gatehouse-subscriber',
  })
  let closed = false
  client.on('error', () => {})
  client.on('message', (from: string, message: string) => {
    if (from === name) h.onMessage(message)
  })
  client.on('ready', () => {
    client.subscribe(name).then(
      () => {
        if (!closed) h.onSubscribed()
      },
      (err: Error) => h.onError?.(err),
    )
  })
  client.connect().catch(() => {})
  return {
    close: async () => {
      if (closed) return
      closed = true
      client.disconnect()
    },
  }
}
