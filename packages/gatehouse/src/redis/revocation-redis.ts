/**
 * Revocations kept in Redis and followed by every node. In Redis (under `key_prefix`):
 * - `revocations:entries` hash `<kind>:<id>` → the revocation as JSON, the latest per thing;
 * - `revocations:seq` sorted set of those fields by a sequence number (`revocations:counter`, INCR'd per
 *   write), which is what nodes poll: "everything after the last number I saw";
 * - `revocations:until` the same fields by expiry, so expired ones are deleted at each write. The keys
 *   themselves expire with the longest-lived revocation; the counter never does;
 * - `revocations:epoch` a random name for this server's data, set when missing.
 * Each write is one Lua script (atomic), which also publishes the revocation on the `revocations`
 * channel, so every node applies it at once. Nodes poll every POLL_MS anyway, which bounds how late a
 * node that missed a message (a reconnection) can be, and catch up fully on every (re)subscription.
 *
 * If Redis lost its data (a restart without persistence: a new epoch), every node writes what it still
 * knows back, so nodes started later learn it too. While Redis is unreachable each node keeps
 * enforcing what it knows, logs that (throttled), and catches up by itself when Redis is back.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { RedisSettings } from '../config/schema/redis.ts'
import type { Logger } from '../observability/logger.ts'
import { acquireRedis, HEALTH_LOG_INTERVAL, type RedisLease } from './connections.ts'
import { channelName, type Subscription, subscribe } from './pubsub.ts'
import { type RevocationRequest, type RevocationStatus, Revocations } from './revocation.ts'
import { REVOCATION_KINDS, type Revocation } from './revocation-list.ts'
import { LogThrottle } from './throttle.ts'

/** Milliseconds between two polls: a node that missed a published revocation applies it within this. */
export const POLL_MS = 400
/** Revocations read per round trip while catching up. */
const PAGE = 500

export const REVOCATION_CHANNEL = 'revocations'
const KEYS = [
  'revocations:entries',
  'revocations:seq',
  'revocations:until',
  'revocations:counter',
  'revocations:epoch',
]

const WRITE = 'gatehouseRevoke'
const READ = 'gatehouseRevocationsSince'

// KEYS: entries, seq, until, counter. ARGV: field, json, at, until, now, channel.
// Keeps a known revocation that is both as recent and as long-lived; returns the new sequence number, or 0.
const WRITE_SCRIPT = `
local known = redis.call('HGET', KEYS[1], ARGV[1])
if known then
  local k = cjson.decode(known)
  if tonumber(k.at) >= tonumber(ARGV[3]) and tonumber(k['until']) >= tonumber(ARGV[4]) then return 0 end
end
local seq = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], seq, ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[5])
for _, f in ipairs(gone) do
  redis.call('HDEL', KEYS[1], f)
  redis.call('ZREM', KEYS[2], f)
  redis.call('ZREM', KEYS[3], f)
end
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
if last[2] then
  local ttl = math.ceil(tonumber(last[2]) - tonumber(ARGV[5]))
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl) end
end
redis.call('PUBLISH', ARGV[6], ARGV[2])
return seq
`

// KEYS: entries, seq, counter, epoch. ARGV: after, page, a new epoch.
// Returns { epoch, counter, seq1, json1, seq2, json2, ... }. The epoch names this server's data: a new one
// means it was lost (a restart without persistence), whatever the counter says.
const READ_SCRIPT = `
local epoch = redis.call('GET', KEYS[4])
if not epoch then
  epoch = ARGV[3]
  redis.call('SET', KEYS[4], epoch)
end
local out = { epoch, tonumber(redis.call('GET', KEYS[3]) or '0') }
local fields = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'WITHSCORES', 'LIMIT', 0, ARGV[2])
for i = 1, #fields, 2 do
  table.insert(out, tonumber(fields[i + 1]))
  table.insert(out, redis.call('HGET', KEYS[1], fields[i]) or '')
end
return out
`

type Write = (...args: (string | number)[]) => Promise<number>
type Read = (...args: (string | number)[]) => Promise<(number | string)[]>

interface Commands {
  readonly write: Write
  readonly read: Read
}

function commandsOf(client: Redis): Commands {
  const c = client as unknown as Record<string, Write | Read | undefined>
  if (c[WRITE] === undefined) client.defineCommand(WRITE, { numberOfKeys: 4, lua: WRITE_SCRIPT })
  if (c[READ] === undefined) client.defineCommand(READ, { numberOfKeys: 4, lua: READ_SCRIPT })
  return { write: (c[WRITE] as Write).bind(client), read: (c[READ] as Read).bind(client) }
}

/**
 * Writes one revocation to Redis (and publishes it). Returns its sequence number, 0 when a revocation at
 * least as recent was there already. For the CLI, which writes without following.
 */
export function storeRevocation(client: Redis, settings: RedisSettings, r: Revocation): Promise<number> {
  const json = JSON.stringify({ kind: r.kind, id: r.id, at: r.at, until: r.until, reason: r.reason })
  return commandsOf(client).write(
    KEYS[0]!,
    KEYS[1]!,
    KEYS[2]!,
    KEYS[3]!,
    `${r.kind}:${r.id}`,
    json,
    r.at,
    r.until,
    Date.now(),
    channelName(settings, REVOCATION_CHANNEL),
  )
}

/** The revocation of `id` of `kind` kept in Redis, or null. For the CLI, which follows nothing. */
export async function storedRevocation(
  client: Redis,
  kind: Revocation['kind'],
  id: string,
): Promise<Revocation | null> {
  const json = await client.hget(KEYS[0]!, `${kind}:${id}`)
  return json === null ? null : parseRevocation(json)
}

/** A revocation from its JSON, or null when it is not one (written by something else). */
export function parseRevocation(json: string): Revocation | null {
  let v: Record<string, unknown>
  try {
    v = JSON.parse(json) as Record<string, unknown>
  } catch {
    return null
  }
  if (typeof v !== 'object' || v === null) return null
  const { kind, id, at, until, reason } = v
  if (!REVOCATION_KINDS.includes(kind as never) || typeof id !== 'string' || id === '') return null
  if (!Number.isFinite(at) || !Number.isFinite(until)) return null
  if (reason !== null && typeof reason !== 'string') return null
  return Object.freeze({
    kind: kind as Revocation['kind'],
    id,
    at: at as number,
    until: until as number,
    reason,
  })
}

export class RedisRevocations extends Revocations {
  readonly backend = 'redis'
  readonly #settings: RedisSettings
  readonly #logger: Logger
  readonly #lease: RedisLease
  readonly #commands: Commands
  readonly #subscription: Subscription
  readonly #poll: NodeJS.Timeout
  readonly #throttle = new LogThrottle(HEALTH_LOG_INTERVAL)
  /** The sequence number of the last revocation read by polling, in `#epoch`. */
  #after = 0
  #epoch: string | null = null
  #running: Promise<void> | null = null
  #again = false
  #first: Promise<void> | null
  #inSync = false
  #syncedAt: number | null = null
  #failingSince: number | null = null
  #closed = false

  constructor(settings: RedisSettings, logger: Logger) {
    super()
    this.#settings = settings
    this.#logger = logger
    this.#lease = acquireRedis(settings, logger)
    this.#commands = commandsOf(this.#lease.client)
    this.#subscription = subscribe(settings, REVOCATION_CHANNEL, {
      onMessage: (message) => this.#heard(message),
      // Messages published while the subscription was down are lost: catch up from the keys.
      onSubscribed: () => void this.sync(),
    })
    const first = this.sync()
    this.#first = first.finally(() => {
      this.#first = null
    })
    this.#poll = setInterval(() => void this.sync(), POLL_MS).unref()
  }

  settled(): Promise<void> | undefined {
    return this.#first ?? undefined
  }

  async revoke(request: RevocationRequest): Promise<Revocation> {
    const r = this.entry(request)
    const wait = this.#lease.usable()
    if (wait !== undefined) await wait
    await storeRevocation(this.#lease.client, this.#settings, r)
    this.take(r, this.#logger)
    return r
  }

  status(): RevocationStatus {
    return { backend: 'redis', in_sync: this.#inSync, synced_at: this.#syncedAt, entries: this.list.size }
  }

  /** Reads what was written since the last read (one round trip when nothing was); never rejects. */
  sync(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    if (this.#running !== null) {
      // A (re)subscription during a read: read once more after it, or a revocation could slip between.
      this.#again = true
      return this.#running
    }
    const run = this.#catchUp().then(
      () => this.#synced(),
      (err: unknown) => this.#failed(err),
    )
    this.#running = run.finally(() => {
      this.#running = null
      if (this.#again) {
        this.#again = false
        void this.sync()
      }
    })
    return this.#running
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#poll)
    this.list.close()
    await this.#subscription.close()
    await this.#lease.release()
  }

  async #catchUp(): Promise<void> {
    const wait = this.#lease.usable()
    if (wait !== undefined) await wait
    for (;;) {
      const reply = await this.#commands.read(
        KEYS[0]!,
        KEYS[1]!,
        KEYS[3]!,
        KEYS[4]!,
        this.#after,
        PAGE,
        randomUUID(),
      )
      const epoch = String(reply[0])
      const counter = Number(reply[1])
      if (epoch !== this.#epoch || counter < this.#after) {
        // Taken as read only once written back: a write-back cut short by an outage is done again.
        if (this.#epoch !== null) await this.#reseed()
        this.#epoch = epoch
        this.#after = 0
        continue
      }
      for (let i = 2; i + 1 < reply.length; i += 2) {
        const r = parseRevocation(String(reply[i + 1]))
        if (r !== null) this.take(r, this.#logger)
        this.#after = Math.max(this.#after, Number(reply[i]))
      }
      if (reply.length - 2 < PAGE * 2) return
    }
  }

  /** Redis lost what it had: writes this node's revocations back (the read that follows takes them all). */
  async #reseed(): Promise<void> {
    const mine = [...this.list.entries()]
    this.#logger.warn(
      { writing_back: mine.length },
      'redis lost the revocations (restarted without persistence?); writing back those this node knows',
    )
    const now = Date.now()
    for (const r of mine) if (r.until > now) await storeRevocation(this.#lease.client, this.#settings, r)
  }

  #heard(message: string): void {
    const r = parseRevocation(message)
    if (r !== null) this.take(r, this.#logger)
  }

  #synced(): void {
    if (this.#failingSince !== null)
      this.#logger.info(
        { down_ms: Date.now() - this.#failingSince, entries: this.list.size },
        'revocations synchronised again',
      )
    this.#failingSince = null
    this.#throttle.reset()
    this.#inSync = true
    this.#syncedAt = Date.now()
  }

  #failed(err: unknown): void {
    this.#inSync = false
    this.#failingSince ??= Date.now()
    const suppressed = this.#throttle.take()
    if (suppressed !== null)
      this.#logger.warn(
        { err: (err as Error)?.message ?? String(err), suppressed, entries: this.list.size },
        'revocations cannot be synchronised; enforcing those this node knows',
      )
  }
}
