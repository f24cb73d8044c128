/**
 * The public keys of the other gateway nodes, exchanged through Redis, so that every node's JWKS lists
 * the keys of every node: a service fetching the JWKS through a load balancer (any node) can verify an
 * internal token whichever node minted it. Private keys never leave their node; only the public JWKs
 * travel. Each node writes its own keys under its node id in one hash, with the time they stay valid
 * (a few ticks), and reads the others'; a node that stops refreshing drops out once that time passes.
 */
import type { Redis } from 'ioredis'
import type { JWK } from 'jose'
import type { Logger } from '../observability/logger.ts'
import type { RedisLease } from '../redis/connections.ts'
import { LogThrottle } from '../redis/throttle.ts'

const HASH = 'internal-jwks'
/** How long a node's entry counts after its last refresh, and when stale ones are deleted. */
const ENTRY_TTL_MS = 5000
const FORGET_AFTER_MS = 60_000

export interface PeerKeys {
  /** Publishes this node's public keys and returns the other nodes' (null when Redis cannot be asked). */
  exchange(own: readonly JWK[]): Promise<JWK[] | null>
  close(): Promise<void>
}

export class RedisPeerKeys implements PeerKeys {
  readonly #lease: RedisLease
  readonly #nodeId: string
  readonly #logger: Logger
  readonly #throttle = new LogThrottle(10_000)

  constructor(lease: RedisLease, nodeId: string, logger: Logger) {
    this.#lease = lease
    this.#nodeId = nodeId
    this.#logger = logger
  }

  async exchange(own: readonly JWK[]): Promise<JWK[] | null> {
    try {
      await this.#lease.usable()
      const now = Date.now()
      const client = this.#lease.client
      await client.hset(HASH, this.#nodeId, JSON.stringify({ until: now + ENTRY_TTL_MS, keys: own }))
      const entries = await client.hgetall(HASH)
      const peers: JWK[] = []
      const forgotten: string[] = []
      for (const [node, text] of Object.entries(entries)) {
        if (node === this.#nodeId) continue
        let entry: { until?: unknown; keys?: unknown }
        try {
          entry = JSON.parse(text) as typeof entry
        } catch {
          forgotten.push(node)
          continue
        }
        const until = typeof entry.until === 'number' ? entry.until : 0
        if (until + FORGET_AFTER_MS < now) forgotten.push(node)
        if (until < now || !Array.isArray(entry.keys)) continue
        for (const key of entry.keys) if (isPublicSigningKey(key)) peers.push(key)
      }
      if (forgotten.length > 0) await client.hdel(HASH, ...forgotten)
      return peers
    } catch (err) {
      if (this.#throttle.take() !== null)
        this.#logger.warn(
          { redis: this.#lease.target, error: (err as Error).message },
          'could not exchange internal-token keys with the other nodes; serving the last known ones',
        )
      return null
    }
  }

  async close(): Promise<void> {
    try {
      await this.#lease.client.hdel(HASH, this.#nodeId)
    } catch {
      // best effort: the entry expires on its own
    }
    await this.#lease.release()
  }
}

/**
 * The nodes publishing the key `kid` now (their entries not expired), by node id: for the CLI, which
 * reaches no node's memory but can see here which node owns an internal-token key.
 */
export async function publishersOf(client: Redis, kid: string, now = Date.now()): Promise<string[]> {
  const nodes: string[] = []
  for (const [node, text] of Object.entries(await client.hgetall(HASH))) {
    try {
      const entry = JSON.parse(text) as { until?: unknown; keys?: unknown }
      if (typeof entry.until !== 'number' || entry.until < now || !Array.isArray(entry.keys)) continue
      if (entry.keys.some((k) => isPublicSigningKey(k) && k.kid === kid)) nodes.push(node)
    } catch {
      // not an entry of ours
    }
  }
  return nodes
}

/** A JWK another node published: public members only, with a kid, for signing. */
function isPublicSigningKey(value: unknown): value is JWK {
  if (typeof value !== 'object' || value === null) return false
  const k = value as Record<string, unknown>
  return (
    typeof k.kid === 'string' &&
    typeof k.kty === 'string' &&
    !('d' in k) &&
    !('k' in k) &&
    (k.use === undefined || k.use === 'sig')
  )
}
