/**
 * The gateway's own signing keys for internal tokens, in memory:
 *
 *   next ──(activate_at)──▶ active ──(next one activates)──▶ retired ──(ttl + skew)──▶ gone
 *
 * One key signs at a time. `publish_ahead` seconds before it is due, the next key is generated and
 * published in the JWKS without signing, so services that cache the JWKS (the SDK refreshes every 10
 * minutes) already hold it when the first token it signs arrives: a scheduled rotation causes no
 * unknown-kid refetch and no failed request. A retired key stays published until every token it signed
 * has expired (ttl + clock skew). Changing the algorithm on reload rotates at once (a new key of the new
 * algorithm; the old one retires normally).
 *
 * Keys never leave the process and are not stored: a restarted node starts with a new key (its tokens
 * live a minute; services fetch the JWKS again on the new kid). With Redis, nodes exchange their PUBLIC
 * keys every tick (peer-keys.ts), and each node's JWKS lists every node's keys, so a service reaching
 * any node verifies tokens minted by all of them.
 *
 * `generation` changes whenever the signing key does, so caches of minted tokens drop what the old key
 * signed instead of serving it until it expires (Oathkeeper's id_token cache keeps them).
 *
 * A withdrawn key (issue 10: `withdraw`, or a `key` revocation heard from any node) leaves at once,
 * without the retirement period: an own key is dropped (a new key signs if it was signing), a peer's is
 * left out of this node's JWKS until its node stops publishing it.
 *
 * A node of several workers has one ring: the primary's runs the schedule with exportable keys and
 * sends every change to the workers (`shareWithWorkers`), whose rings only `adopt` it — every worker
 * signs with the same key and serves the same JWKS. The private keys cross only the IPC pipe between
 * the primary and its own children, never a file or the network.
 */
import { type CryptoKey, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import type { InternalTokensSettings } from '../config/schema/internal-tokens.ts'
import type { RedisSettings } from '../config/schema/redis.ts'
import type { Logger } from '../observability/logger.ts'
import { RevocationFollower } from '../redis/revocation-follower.ts'
import type { PeerKeys } from './peer-keys.ts'

/** Clock skew allowed to verifiers (the SDK's default leeway is 5 s; be generous). */
const CLOCK_SKEW_SECONDS = 30
/** How often the schedule is checked. */
const TICK_MS = 1000

export type KeyState = 'next' | 'active' | 'retired'

export interface RingKey {
  readonly kid: string
  readonly alg: 'ES256' | 'EdDSA'
  readonly privateKey: CryptoKey
  readonly publicJwk: JWK
  state: KeyState
  /** Epoch ms. */
  activateAt: number
  /** Epoch ms after which the key leaves the JWKS (retired keys only). */
  removeAt: number
}

/** A ring as the primary sends it to its workers (cluster/primary.ts). */
export interface KeyRingState {
  readonly keys: readonly {
    kid: string
    alg: 'ES256' | 'EdDSA'
    privateJwk: JWK
    publicJwk: JWK
    state: KeyState
    activateAt: number
    removeAt: number
  }[]
  readonly activeKid: string | null
  readonly generation: number
  readonly peerKeys: readonly JWK[]
}

export class InternalKeyRing {
  #settings: InternalTokensSettings
  readonly #logger: Logger
  readonly #now: () => number
  #keys: RingKey[] = []
  #active: RingKey | null = null
  #generation = 0
  #jwksBody = '{"keys":[]}'
  #timer: NodeJS.Timeout | null = null
  #busy: Promise<void> | null = null
  #peers: PeerKeys | null = null
  #peerKeys: JWK[] = []
  #peerText = '[]'
  #follower: RevocationFollower | null = null
  /** A worker's ring: takes the primary's (adopt), runs no schedule of its own. */
  #adopted = false
  #onChange: (() => Promise<void>) | null = null
  /** Changed since the workers last heard (shareWithWorkers). */
  #dirty = false

  constructor(settings: InternalTokensSettings, logger: Logger, now: () => number = Date.now) {
    this.#settings = settings
    this.#logger = logger
    this.#now = now
  }

  /** Creates the first key and starts the schedule. */
  async start(): Promise<void> {
    if (this.#adopted) return
    await this.maintain()
    this.#timer ??= setInterval(() => void this.maintain(), TICK_MS)
    this.#timer.unref()
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer)
    this.#timer = null
    const peers = this.#peers
    this.#peers = null
    void peers?.close()
    void this.#follower?.close()
    this.#follower = null
  }

  /**
   * Follows the revocations of the running configuration's `redis` section (at start and on every
   * reload): a withdrawn key is dropped here whichever node it was withdrawn on.
   */
  followRevocations(settings: RedisSettings | null): void {
    if (this.#adopted) return
    this.#follower ??= new RevocationFollower(this.#logger, (r) => {
      if (r.kind === 'key') void this.withdraw(r.id)
    })
    this.#follower.use(settings)
  }

  /** Exchanges public keys with the other nodes from the next tick on (Redis configured). */
  sharePublicKeys(peers: PeerKeys): void {
    this.#peers = peers
  }

  /**
   * The primary of several workers: keys are generated exportable, and after every step that changed
   * the ring `onChange` delivers it (`exportState`) to the workers before the step returns, so an admin
   * rotation or withdrawal is answered once every worker signs with the new key. Before start().
   */
  shareWithWorkers(onChange: () => Promise<void>): void {
    this.#onChange = onChange
  }

  /** Makes this a worker's ring, which only ever holds what the primary sends (`adopt`). */
  followPrimary(): void {
    this.#adopted = true
  }

  /** The ring with its private keys, for the workers of this node (only with shareWithWorkers). */
  async exportState(): Promise<KeyRingState> {
    const keys = await Promise.all(
      this.#keys.map(async (k) => ({
        kid: k.kid,
        alg: k.alg,
        privateJwk: await exportJWK(k.privateKey),
        publicJwk: k.publicJwk,
        state: k.state,
        activateAt: k.activateAt,
        removeAt: k.removeAt,
      })),
    )
    return {
      keys,
      activeKid: this.#active?.kid ?? null,
      generation: this.#generation,
      peerKeys: this.#peerKeys,
    }
  }

  /** A worker: takes the primary's ring as it is now (signing key, JWKS, generation). */
  async adopt(state: KeyRingState): Promise<void> {
    const keys: RingKey[] = await Promise.all(
      state.keys.map(async (k) => ({
        kid: k.kid,
        alg: k.alg,
        privateKey: (await importJWK(k.privateJwk, k.alg, { extractable: false })) as CryptoKey,
        publicJwk: Object.freeze({ ...k.publicJwk }),
        state: k.state,
        activateAt: k.activateAt,
        removeAt: k.removeAt,
      })),
    )
    this.#keys = keys
    this.#active = keys.find((k) => k.kid === state.activeKid) ?? null
    this.#generation = state.generation
    this.#peerKeys = [...state.peerKeys]
    this.#peerText = JSON.stringify(this.#peerKeys)
    this.#render()
  }

  /** The key that signs now, or null before start(). */
  get active(): RingKey | null {
    return this.#active
  }

  /** Changes whenever the signing key changes. */
  get generation(): number {
    return this.#generation
  }

  get settings(): InternalTokensSettings {
    return this.#settings
  }

  /** The public JWKS document, serialised once per change. */
  get jwksBody(): string {
    return this.#jwksBody
  }

  /** What `GET /internal-tokens/keys` shows: never private material. */
  list(): { kid: string; alg: string; state: KeyState; activate_at: number; remove_at: number | null }[] {
    return this.#keys.map((k) => ({
      kid: k.kid,
      alg: k.alg,
      state: k.state,
      activate_at: Math.floor(k.activateAt / 1000),
      remove_at: k.state === 'retired' ? Math.floor(k.removeAt / 1000) : null,
    }))
  }

  /** The other nodes' published keys this node lists (Redis configured): kid and alg. */
  peers(): { kid: string; alg: string }[] {
    return this.#peerKeys.map((k) => ({ kid: k.kid!, alg: String(k.alg ?? '') }))
  }

  /**
   * Withdraws the key `kid` now (issue 10). This node's own key leaves the JWKS at once and, when it was
   * signing, the next key (or a new one) signs from now: `generation` changes, so no minted token it
   * signed is reused. A peer's key is left out of this node's JWKS. Resolves to what the key was here:
   * its state, `peer`, or null when this node knows no such key.
   */
  async withdraw(kid: string): Promise<KeyState | 'peer' | null> {
    const result: { was: KeyState | 'peer' | null } = { was: null }
    await this.#exclusive(async () => {
      const key = this.#keys.find((k) => k.kid === kid)
      if (key === undefined) {
        if (!this.#peerKeys.some((k) => k.kid === kid)) return
        result.was = 'peer'
        this.#setPeers(this.#peerKeys.filter((k) => k.kid !== kid))
        return
      }
      result.was = key.state
      this.#keys = this.#keys.filter((k) => k !== key)
      if (key === this.#active) {
        const now = this.#now()
        const next = this.#keys.find((k) => k.state === 'next' && k.alg === this.#settings.algorithm)
        this.#active = null
        this.#activate(next ?? (await this.#generate(now)), now)
      } else this.#changed(false)
      this.#logger.warn({ kid, alg: key.alg, state: key.state }, 'internal token key withdrawn')
      // The other nodes list it no more from this node's next publication on: now.
      await this.#exchange()
    })
    return result.was
  }

  /** New settings from a reload; an algorithm change rotates now. */
  async configure(settings: InternalTokensSettings): Promise<void> {
    if (this.#adopted) {
      this.#settings = settings
      return
    }
    const algorithmChanged = settings.algorithm !== this.#settings.algorithm
    this.#settings = settings
    if (algorithmChanged && this.#active !== null) await this.rotateNow()
    else await this.maintain()
  }

  /** Forced rotation (admin API): a new key signs at once; the old one retires. Not published ahead. */
  async rotateNow(): Promise<void> {
    await this.#exclusive(async () => {
      const now = this.#now()
      const next = this.#keys.find((k) => k.state === 'next' && k.alg === this.#settings.algorithm)
      const key = next ?? (await this.#generate(now))
      this.#activate(key, now)
    })
  }

  /** Applies whatever the schedule says is due. Safe to call at any time. */
  maintain(): Promise<void> {
    return this.#exclusive(async () => {
      const now = this.#now()
      const { rotation_interval: interval, publish_ahead: ahead } = this.#settings.keys
      const alg = this.#settings.algorithm
      if (this.#active === null || this.#active.alg !== alg) {
        this.#activate(await this.#generate(now), now)
      }
      const active = this.#active!
      const due = active.activateAt + interval * 1000
      let next = this.#keys.find((k) => k.state === 'next')
      if (next !== undefined && next.alg !== alg) {
        this.#keys = this.#keys.filter((k) => k !== next)
        next = undefined
        this.#changed(false)
      }
      if (next === undefined && now >= due - ahead * 1000) {
        // Late (the process was paused): still publish it ahead rather than sign with an unseen key.
        next = await this.#generate(Math.max(due, now + ahead * 1000))
        this.#changed(false)
        this.#logger.info(
          { kid: next.kid, alg, activate_at: new Date(next.activateAt).toISOString() },
          'internal token key published ahead',
        )
      }
      if (next !== undefined && now >= next.activateAt) this.#activate(next, now)
      const before = this.#keys.length
      this.#keys = this.#keys.filter((k) => k.state !== 'retired' || k.removeAt > now)
      if (this.#keys.length !== before) this.#changed(false)
      await this.#exchange()
    })
  }

  async #generate(activateAt: number): Promise<RingKey> {
    const alg = this.#settings.algorithm
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: this.#onChange !== null })
    const jwk = await exportJWK(publicKey)
    const kid = await calculateJwkThumbprint(jwk, 'sha256')
    const key: RingKey = {
      kid,
      alg,
      privateKey,
      publicJwk: Object.freeze({ ...jwk, kid, alg, use: 'sig' }),
      state: 'next',
      activateAt,
      removeAt: Number.POSITIVE_INFINITY,
    }
    this.#keys.push(key)
    return key
  }

  #activate(key: RingKey, now: number): void {
    const previous = this.#active
    if (previous !== null && previous !== key) {
      previous.state = 'retired'
      previous.removeAt = now + (this.#settings.ttl + CLOCK_SKEW_SECONDS) * 1000
    }
    key.state = 'active'
    key.activateAt = Math.min(key.activateAt, now)
    this.#active = key
    this.#changed(true)
    this.#logger.info(
      { kid: key.kid, alg: key.alg, retired: previous?.kid },
      'internal token signing key activated',
    )
  }

  /** Publishes this node's public keys and takes the others'; on failure the last known ones stay. */
  async #exchange(): Promise<void> {
    if (this.#peers === null) return
    const peers = await this.#peers.exchange(this.#keys.map((k) => k.publicJwk))
    if (peers === null) return
    const own = new Set(this.#keys.map((k) => k.kid))
    const listed = peers.filter((k) => !own.has(k.kid!) && !this.#revoked(k.kid!))
    this.#setPeers([...new Map(listed.map((k) => [k.kid!, k])).values()])
  }

  #setPeers(peers: JWK[]): void {
    peers.sort((a, b) => (a.kid! < b.kid! ? -1 : 1))
    const text = JSON.stringify(peers)
    if (text === this.#peerText) return
    this.#peerKeys = peers
    this.#peerText = text
    this.#changed(false)
  }

  /** Whether a key revocation names `kid` (a peer that has not withdrawn it yet still publishes it). */
  #revoked(kid: string): boolean {
    return this.#follower?.revocations?.keyRevoked(kid) ?? false
  }

  #changed(signingKeyChanged: boolean): void {
    if (signingKeyChanged) this.#generation++
    this.#render()
    this.#dirty = true
  }

  #render(): void {
    // Active first, then next, then retired: a reader of the document sees the signing key first.
    const order: Record<KeyState, number> = { active: 0, next: 1, retired: 2 }
    const keys = [...this.#keys].sort((a, b) => order[a.state] - order[b.state])
    this.#jwksBody = JSON.stringify({ keys: [...keys.map((k) => k.publicJwk), ...this.#peerKeys] })
  }

  /** One schedule step at a time (a timer tick and an admin rotation must not interleave). */
  async #exclusive(step: () => Promise<void>): Promise<void> {
    while (this.#busy !== null) await this.#busy
    const run = step()
      .then(async () => {
        if (!this.#dirty || this.#onChange === null) return
        this.#dirty = false
        await this.#onChange()
      })
      .catch((err: unknown) => {
        this.#logger.error({ error: (err as Error).message }, 'internal token key maintenance failed')
      })
    this.#busy = run.finally(() => {
      this.#busy = null
    })
    await this.#busy
  }
}
