/**
 * State that is one per node, not one per process, reached from a worker (the primary holds it):
 * - local-policy rate-limit counters: every hit is counted by the primary's one LocalCounters, so
 *   "N per minute" admits exactly N whichever worker gets the requests (Kong's shared dict gives its
 *   nginx workers the same);
 * - server-side sessions without Redis (`storage: server`): one store, so a browser's next request may
 *   land on any worker;
 * - sessions ended by logout (cookie storage): recorded here and sent to every other worker before the
 *   logout is answered, so a logged-out cookie is refused by all of them;
 * - DPoP proofs already used (`dpop.replay: memory`): a proof seen by one worker is a replay on all;
 * - session refreshes: one per refresh token, whichever workers a page's calls reach
 *   (refresh-coordinator.ts).
 * Each costs one IPC round trip only where it is used (a rate-limited route, a server-side session);
 * everything else a request needs stays in the worker.
 */
import { ExpiringCache } from '../plugins/_shared/expiring-cache.ts'
import { processReplayCache } from '../plugins/openid-connect/replay-cache.ts'
import type { CounterPolicy, Tally } from '../plugins/rate-limiting/policies/policy.ts'
import type { Ended, EndedSessions } from '../plugins/session/keeper.ts'
import { MemorySessionStore } from '../plugins/session/memory-store.ts'
import { processWide, processWideWith } from '../plugins/session/process-wide.ts'
import type { SessionRecord } from '../plugins/session/session.ts'
import { type SessionStore, SessionStoreUnavailable } from '../plugins/session/store.ts'
import type { Channel } from './channel.ts'
import { workerLink } from './link.ts'
import { NodeRefresh, type RefreshCoordinator } from './refresh-coordinator.ts'

interface HitArgs {
  keys: readonly string[]
  limits: readonly number[]
  expiresAt: readonly number[]
  now: number
}

/** A worker's local-policy counters: the primary's, one round trip per hit. */
export class NodeCounters implements CounterPolicy {
  readonly #channel: Channel

  constructor(channel: Channel) {
    this.#channel = channel
  }

  hit(keys: readonly string[], limits: readonly number[], expiresAt: readonly number[], now: number) {
    return this.#channel.call<Tally>('counters.hit', { keys, limits, expiresAt, now } satisfies HitArgs)
  }

  peek(keys: readonly string[], limits: readonly number[], expiresAt: readonly number[], now: number) {
    return this.#channel.call<Tally>('counters.peek', { keys, limits, expiresAt, now } satisfies HitArgs)
  }

  async close(): Promise<void> {}
}

/** A worker's in-memory session store: the primary's, by the plugin's binding (provider and client). */
class NodeSessionStore implements SessionStore {
  readonly #channel: Channel
  readonly #binding: string

  constructor(channel: Channel, binding: string) {
    this.#channel = channel
    this.#binding = binding
  }

  get(key: string): Promise<SessionRecord | undefined> {
    return this.#ask('session.get', { binding: this.#binding, key })
  }

  set(key: string, record: SessionRecord, ttl: number): Promise<void> {
    return this.#ask('session.set', { binding: this.#binding, key, record, ttl })
  }

  delete(key: string): Promise<void> {
    return this.#ask('session.delete', { binding: this.#binding, key })
  }

  async #ask<T>(op: string, args: unknown): Promise<T> {
    try {
      return await this.#channel.call<T>(op, args)
    } catch (err) {
      // The primary is restarting us or stopping: no answer, which is not "no session".
      throw new SessionStoreUnavailable((err as Error).message)
    }
  }
}

/** Logouts of cookie sessions in this process (alone, and the primary's record of the node's). */
class LocalEnded implements EndedSessions {
  readonly cache = new ExpiringCache<Ended>(100_000)

  get(sid: string, now: number): Ended | undefined {
    return this.cache.get(sid, now)
  }

  end(sid: string, entry: Ended): Promise<void> {
    this.cache.set(sid, entry, Date.now())
    return Promise.resolve()
  }
}

/**
 * Logouts of cookie sessions in a worker: told to every other worker through the primary, and the
 * logout answered only once they all know, so the cookie is refused whichever worker sees it next.
 */
class ReplicatedEnded extends LocalEnded {
  readonly #channel: Channel
  readonly #binding: string

  constructor(channel: Channel, binding: string) {
    super()
    this.#channel = channel
    this.#binding = binding
  }

  override async end(sid: string, entry: Ended): Promise<void> {
    await super.end(sid, entry)
    await this.#channel.call('ended', { binding: this.#binding, key: sid, entry })
  }

  /** Another worker's logout. */
  receive(key: string, entry: Ended): void {
    this.cache.set(key, entry, Date.now())
  }
}

const endedKey = (binding: string) => `ended\0${binding}`

/** The session store of `binding` for `storage: server` without Redis. */
export function sessionStoreFor(binding: string): SessionStore {
  const link = workerLink()
  return processWide(`store\0${binding}`, () =>
    link !== null ? new NodeSessionStore(link.channel, binding) : new MemorySessionStore(),
  )
}

/** The sessions ended by logout of `binding` (cookie storage). */
export function endedSessionsFor(binding: string): LocalEnded {
  const link = workerLink()
  return processWide(endedKey(binding), () =>
    link !== null ? new ReplicatedEnded(link.channel, binding) : new LocalEnded(),
  )
}

/** The primary: every logout it knows of, by binding, for a worker that starts now. */
export function endedSessionsNow(): EndedSnapshot {
  const now = Date.now()
  return processWideWith<LocalEnded>('ended\0').map(([binding, ended]) => [binding, ended.cache.live(now)])
}

export type EndedSnapshot = [binding: string, entries: [key: string, entry: Ended][]][]

/** In a worker of several without Redis: session refreshes coordinated by the primary; else null. */
export function nodeRefresh(): NodeRefresh | null {
  const link = workerLink()
  if (link === null) return null
  return processWide('node-refresh', () => new NodeRefresh(link.channel))
}

/** In a worker: takes the logouts made before it started, then the other workers' as they come. */
export function receiveEndedSessions(channel: Channel, before: EndedSnapshot): void {
  for (const [binding, entries] of before) {
    const cache = endedSessionsFor(binding)
    if (cache instanceof ReplicatedEnded) for (const [key, entry] of entries) cache.receive(key, entry)
  }
  channel.handle('ended', (args) => {
    const { binding, key, entry } = args as { binding: string; key: string; entry: Ended }
    const cache = endedSessionsFor(binding)
    if (cache instanceof ReplicatedEnded) cache.receive(key, entry)
  })
}

/** In the primary: answers one worker's questions about the node's state. */
export function serveNodeState(
  channel: Channel,
  counters: CounterPolicy,
  refreshes: RefreshCoordinator,
  others: (channel: Channel) => Iterable<Channel>,
): void {
  refreshes.serve(channel)
  channel
    .handle('counters.hit', (args) => {
      const a = args as HitArgs
      return counters.hit(a.keys, a.limits, a.expiresAt, a.now)
    })
    .handle('counters.peek', (args) => {
      const a = args as HitArgs
      return counters.peek(a.keys, a.limits, a.expiresAt, a.now)
    })
    .handle('session.get', (args) => {
      const a = args as { binding: string; key: string }
      return sessionStoreFor(a.binding).get(a.key)
    })
    .handle('session.set', (args) => {
      const a = args as { binding: string; key: string; record: SessionRecord; ttl: number }
      return sessionStoreFor(a.binding).set(a.key, a.record, a.ttl)
    })
    .handle('session.delete', (args) => {
      const a = args as { binding: string; key: string }
      return sessionStoreFor(a.binding).delete(a.key)
    })
    .handle('dpop.first-use', (args) => {
      const a = args as { key: string; until: number }
      return processReplayCache.firstUse(a.key, a.until)
    })
    .handle('ended', async (args) => {
      const a = args as { binding: string; key: string; entry: Ended }
      // Kept here too, for a worker that starts later; answered once every other worker has it.
      await endedSessionsFor(a.binding).end(a.key, a.entry)
      await Promise.all([...others(channel)].map((other) => other.call('ended', a).catch(() => {})))
    })
}
