/**
 * ioredis, loaded when the process opens its first Redis connection rather than when it starts: most
 * configurations use no Redis, and ioredis is about 55 modules. It is `require`d (ioredis is CommonJS)
 * so that opening a connection stays synchronous for its callers (acquireRedis, subscribe): a lease's
 * client exists at once, and only the connecting is waited for.
 */
import { createRequire } from 'node:module'

type Ioredis = typeof import('ioredis')

let loaded: Ioredis | null = null

/** The ioredis client class, loading ioredis on the first call. */
export function redisClientClass(): Ioredis['Redis'] {
  loaded ??= createRequire(import.meta.url)('ioredis') as Ioredis
  return loaded.Redis
}
