/**
 * The signing-key lifecycle, kept in the store so every node sees the same keys:
 *
 *   next ──(activate_at)──▶ active ──(next one activates)──▶ retired ──(delete_after)──▶ deleted
 *
 * Per configured algorithm there is always one `active` key (it signs). `publish_ahead` seconds before
 * it is due for rotation a `next` key is created: published in the JWKS, not signing, so verifiers
 * have it cached before the first token it signs. At `activate_at` it becomes active and the old one
 * `retired`: still published until every token it signed has expired (schedule.ts), then deleted.
 * Keys of algorithms no longer configured are retired the same way.
 *
 * `maintainKeys` applies whatever is due and is safe to run on every poll of every node: it runs under
 * the store's `signing-keys` lock (as does `rotateNow`), so nodes sharing a PostgreSQL database take
 * turns and never add a key twice. Should two writers still race (a SQLite file opened by two
 * processes), the next run repairs it: one active, one next per algorithm.
 *
 * `withdrawKey` is the emergency exit (issue 10): the key leaves the store at once, whatever its state,
 * and when it was signing another takes over in the same step (the published next key, or a new one), so
 * the provider never stops signing.
 */
import type { GatewaySettings } from '../../config/model.ts'
import type { IdentityConfig } from '../../config/normalize-identity.ts'
import type { Store, StoredSigningKey } from '../../storage/store.ts'
import { keyEncryptionKey } from '../secrets.ts'
import { generateSigningKey, type SigningAlgorithm } from './generate.ts'
import { retentionSeconds } from './schedule.ts'
import { sealJwk } from './sealed-jwk.ts'

export interface KeyEvent {
  readonly kid: string
  readonly alg: string
  readonly event: 'created' | 'scheduled' | 'activated' | 'retired' | 'deleted' | 'withdrawn'
}

const byActivation = (a: StoredSigningKey, b: StoredSigningKey) =>
  a.activate_at - b.activate_at || a.created_at - b.created_at || (a.kid < b.kid ? -1 : 1)

/** Applies every step that is due at `now` (epoch seconds); returns what it did. */
export function maintainKeys(store: Store, identity: IdentityConfig, now: number): Promise<KeyEvent[]> {
  return store.withLock(KEYS_LOCK, () => maintain(store, identity, now))
}

/** The lock every change to the signing keys holds. */
const KEYS_LOCK = 'signing-keys'

async function maintain(store: Store, identity: IdentityConfig, now: number): Promise<KeyEvent[]> {
  const events: KeyEvent[] = []
  const lifecycle = new Lifecycle(store, identity, now, events)
  const keys = await store.keys.list()
  const configured = new Set<string>(identity.keys.algorithms)

  for (const alg of identity.keys.algorithms) {
    const mine = keys.filter((k) => k.alg === alg)
    const actives = mine.filter((k) => k.state === 'active').sort(byActivation)
    const nexts = mine.filter((k) => k.state === 'next').sort(byActivation)
    // Repairs: one active (the newest), one next (the earliest).
    for (const extra of actives.slice(0, -1)) await lifecycle.retire(extra)
    for (const extra of nexts.slice(1)) await lifecycle.remove(extra)
    let active = actives.at(-1)
    let next = nexts[0]

    if (active === undefined) {
      if (next !== undefined) {
        active = await lifecycle.activate(next)
        next = undefined
      } else {
        active = await lifecycle.create(alg as SigningAlgorithm, 'active', now)
      }
    }
    const due = active.activate_at + identity.keys.rotation_interval
    if (next === undefined && now >= due - identity.keys.publish_ahead) {
      // Late (the node was down): still publish it ahead rather than sign with an unseen key.
      next = await lifecycle.create(
        alg as SigningAlgorithm,
        'next',
        Math.max(due, now + identity.keys.publish_ahead),
      )
    }
    if (next !== undefined && now >= next.activate_at) {
      await lifecycle.activate(next)
      await lifecycle.retire(active)
    }
  }

  for (const key of keys) {
    if (configured.has(key.alg)) continue
    if (key.state === 'active') await lifecycle.retire(key)
    else if (key.state === 'next') await lifecycle.remove(key)
  }
  for (const key of await store.keys.list()) {
    if (key.state === 'retired' && key.delete_after !== null && key.delete_after <= now)
      await lifecycle.remove(key)
  }
  return events
}

/**
 * `gatehouse keys rotate`: for each configured algorithm (or only `alg`), the next key (created if
 * there is none) becomes active now and the active one is retired. Unlike a scheduled rotation the new
 * key was not published ahead: verifiers see its kid first in a token and must refetch the JWKS.
 */
export function rotateNow(
  store: Store,
  settings: GatewaySettings,
  options: { alg?: string; now?: number } = {},
): Promise<KeyEvent[]> {
  return store.withLock(KEYS_LOCK, () => rotate(store, settings, options))
}

async function rotate(
  store: Store,
  settings: GatewaySettings,
  options: { alg?: string; now?: number },
): Promise<KeyEvent[]> {
  const identity = settings.identity
  const now = options.now ?? Math.floor(Date.now() / 1000)
  const events: KeyEvent[] = []
  const lifecycle = new Lifecycle(store, identity, now, events)
  const keys = await store.keys.list()
  const algorithms = identity.keys.algorithms.filter((a) => options.alg === undefined || a === options.alg)
  if (algorithms.length === 0)
    throw new TypeError(
      `'${options.alg}' is not in identity.keys.algorithms (${identity.keys.algorithms.join(', ')})`,
    )
  for (const alg of algorithms) {
    const mine = keys.filter((k) => k.alg === alg)
    const next =
      mine.filter((k) => k.state === 'next').sort(byActivation)[0] ??
      (await lifecycle.create(alg as SigningAlgorithm, 'next', now))
    await lifecycle.activate(next)
    for (const active of mine.filter((k) => k.state === 'active')) await lifecycle.retire(active)
  }
  return events
}

/** What `withdrawKey` did. */
export interface Withdrawal {
  readonly kid: string
  readonly alg: string
  /** The state the key was in. */
  readonly was: StoredSigningKey['state']
  /** The key that signs instead (it was the active one), or null. */
  readonly replacedBy: string | null
  readonly events: readonly KeyEvent[]
}

/**
 * `gatehouse keys revoke` and `POST /signing-keys/{kid}/revoke`: removes the key `kid` from the store
 * now. When it was the active key of an algorithm still configured, the next key of that algorithm
 * becomes active (a new one is made when there is none). Null when no key has this kid (so a second node
 * doing the same after the first finds nothing to do).
 */
export function withdrawKey(
  store: Store,
  identity: IdentityConfig,
  kid: string,
  now = Math.floor(Date.now() / 1000),
): Promise<Withdrawal | null> {
  return store.withLock(KEYS_LOCK, async () => {
    const keys = await store.keys.list()
    const key = keys.find((k) => k.kid === kid)
    if (key === undefined) return null
    const events: KeyEvent[] = []
    const lifecycle = new Lifecycle(store, identity, now, events)
    // The replacement first: whoever reads the store in between (a SQLite file shared with a running
    // node has no cross-process lock) sees an active key, never none, and repairs to the newest.
    let replacedBy: string | null = null
    const configured = (identity.keys.algorithms as readonly string[]).includes(key.alg)
    if (key.state === 'active' && configured) {
      const next = keys.filter((k) => k.alg === key.alg && k.state === 'next').sort(byActivation)[0]
      const signing =
        next !== undefined
          ? await lifecycle.activate(next)
          : await lifecycle.create(key.alg as SigningAlgorithm, 'active', now)
      replacedBy = signing.kid
    }
    await store.keys.remove(kid)
    events.push({ kid, alg: key.alg, event: 'withdrawn' })
    return { kid, alg: key.alg, was: key.state, replacedBy, events }
  })
}

/** What `gatehouse keys list` shows: never the private key, sealed or not. */
export interface KeyInfo {
  readonly kid: string
  readonly alg: string
  readonly state: StoredSigningKey['state']
  readonly created_at: number
  readonly activate_at: number
  readonly retired_at: number | null
  readonly delete_after: number | null
}

export async function listKeys(store: Store): Promise<KeyInfo[]> {
  const keys = await store.keys.list()
  return keys.map(({ kid, alg, state, created_at, activate_at, retired_at, delete_after }) => ({
    kid,
    alg,
    state,
    created_at,
    activate_at,
    retired_at,
    delete_after,
  }))
}

/** The store writes of each transition, recorded as events. */
class Lifecycle {
  readonly #store: Store
  readonly #identity: IdentityConfig
  readonly #now: number
  readonly #events: KeyEvent[]

  constructor(store: Store, identity: IdentityConfig, now: number, events: KeyEvent[]) {
    this.#store = store
    this.#identity = identity
    this.#now = now
    this.#events = events
  }

  async create(
    alg: SigningAlgorithm,
    state: 'active' | 'next',
    activateAt: number,
  ): Promise<StoredSigningKey> {
    const { kid, jwk } = await generateSigningKey(alg)
    const key: StoredSigningKey = {
      kid,
      alg,
      state,
      encrypted_jwk: sealJwk(keyEncryptionKey(this.#identity.secret!), kid, jwk),
      created_at: this.#now,
      activate_at: activateAt,
      retired_at: null,
      delete_after: null,
    }
    await this.#store.keys.insert(key)
    this.#events.push({ kid, alg, event: state === 'active' ? 'created' : 'scheduled' })
    return key
  }

  async activate(key: StoredSigningKey): Promise<StoredSigningKey> {
    const patch = { state: 'active', activate_at: Math.min(key.activate_at, this.#now) } as const
    await this.#store.keys.update(key.kid, patch)
    this.#events.push({ kid: key.kid, alg: key.alg, event: 'activated' })
    return { ...key, ...patch }
  }

  async retire(key: StoredSigningKey): Promise<void> {
    await this.#store.keys.update(key.kid, {
      state: 'retired',
      retired_at: this.#now,
      delete_after: this.#now + retentionSeconds(this.#identity),
    })
    this.#events.push({ kid: key.kid, alg: key.alg, event: 'retired' })
  }

  async remove(key: StoredSigningKey): Promise<void> {
    await this.#store.keys.remove(key.kid)
    this.#events.push({ kid: key.kid, alg: key.alg, event: 'deleted' })
  }
}
