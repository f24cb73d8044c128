/**
 * The `redis` policy: counters shared by every gateway node, exact under any concurrency. One Lua script
 * per request, one round trip for all its windows, run atomically by Redis: it reads every window's
 * count, and only if all have room increments them all (INCRBY, plus PEXPIRE when a counter is created).
 * A refused request therefore consumes no quota, as with Kong (which increments only admitted requests),
 * but two nodes can never both admit the last allowed request, which Kong's read-then-increment allows.
 *
 * Counters expire a little after their window ends (EXPIRY_SLACK, for clocks that differ slightly
 * between nodes). Keys share a hash tag per plugin and identifier, so one request's keys sit in one slot.
 */
import type { RedisLease } from '../../../redis/connections.ts'
import { type CounterPolicy, type Tally, tallyOf } from './policy.ts'

/** Milliseconds a counter outlives its window. */
export const EXPIRY_SLACK = 1000

const COMMAND = 'gatehouseRateLimitHit'

// KEYS: one counter per window. ARGV: per window, its limit and the milliseconds to keep a new counter.
// Returns { admitted (1|0), count per window }: after this request when admitted, before it when not.
const SCRIPT = `
local counts = {}
local admitted = 1
for i = 1, #KEYS do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  counts[i] = count
  if count >= tonumber(ARGV[i * 2 - 1]) then admitted = 0 end
end
if admitted == 1 then
  for i = 1, #KEYS do
    local count = redis.call('INCRBY', KEYS[i], 1)
    if count == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[i * 2]) end
    counts[i] = count
  end
end
table.insert(counts, 1, admitted)
return counts
`

type HitCommand = (numberOfKeys: number, ...args: (string | number)[]) => Promise<number[]>

export class RedisCounters implements CounterPolicy {
  readonly #lease: RedisLease
  readonly #command: HitCommand

  constructor(lease: RedisLease) {
    this.#lease = lease
    const client = lease.client as unknown as Record<string, HitCommand | undefined>
    // ioredis sends EVALSHA and falls back to EVAL when the server lost its script cache (a restart).
    if (client[COMMAND] === undefined) lease.client.defineCommand(COMMAND, { lua: SCRIPT })
    this.#command = (client[COMMAND] as HitCommand).bind(lease.client)
  }

  hit(
    keys: readonly string[],
    limits: readonly number[],
    expiresAt: readonly number[],
    now: number,
  ): Promise<Tally> {
    const wait = this.#lease.usable()
    if (wait !== undefined) return wait.then(() => this.#run(keys, limits, expiresAt, now))
    return this.#run(keys, limits, expiresAt, now)
  }

  /** One MGET: the counters as they are, nothing written (an expired counter is gone from Redis). */
  async peek(keys: readonly string[], limits: readonly number[]): Promise<Tally> {
    await this.#lease.usable()
    const values = await this.#lease.client.mget(...keys)
    return tallyOf(
      values.map((v) => (v === null ? 0 : Number(v))),
      limits,
    )
  }

  close(): Promise<void> {
    return this.#lease.release()
  }

  async #run(
    keys: readonly string[],
    limits: readonly number[],
    expiresAt: readonly number[],
    now: number,
  ): Promise<Tally> {
    const args: (string | number)[] = [...keys]
    for (let i = 0; i < keys.length; i++)
      args.push(limits[i]!, Math.max(1, expiresAt[i]! - now) + EXPIRY_SLACK)
    const [admitted, ...counts] = await this.#command(keys.length, ...args)
    return { admitted: admitted === 1, counts }
  }
}
