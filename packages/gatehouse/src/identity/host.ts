/**
 * The identity provider's life in a process: the store (opened once), the config's users and clients
 * synced into it, the signing keys maintained (keys/rotation.ts), and the oidc-provider instance on
 * the mount, rebuilt when the configuration is reloaded or the keys change in the store (this node's
 * rotation or another's: every node checks `store.keys.version()` every second). Expired oidc-provider
 * artefacts are deleted every minute. Revocations (revocations.ts) are checked by the storage adapter.
 * Logs say what happened, never a secret or a key.
 *
 * Issue 10: each key set a provider is built from is published in process (keys/provider-keys.ts) before
 * that provider serves, so the gateway's own verifiers accept its tokens on the next request; they ask
 * back here when a token names a kid they lack. A withdrawn key (`withdrawKey`, or a `key` revocation
 * heard from any node) leaves the store and the provider at once.
 */
import type { BlockList } from 'node:net'
import type { GatewaySettings } from '../config/model.ts'
import { storageLocation } from '../config/schema/storage.ts'
import type { Logger } from '../observability/logger.ts'
import type { RouteMetrics } from '../observability/metrics.ts'
import type { Revocations } from '../redis/revocation.ts'
import { openStore } from '../storage/open.ts'
import type { Store } from '../storage/store.ts'
import { recordSessionOrigins } from './account-page/session-origin.ts'
import { linksOf } from './broker/links.ts'
import { Brokers } from './broker/registry.ts'
import { LoginThrottle } from './interactions/throttle.ts'
import { publicJwk } from './keys/generate.ts'
import type { ProviderKeys } from './keys/provider-keys.ts'
import {
  type KeyEvent,
  type KeyInfo,
  listKeys,
  maintainKeys,
  rotateNow,
  type Withdrawal,
  withdrawKey,
} from './keys/rotation.ts'
import { pollIntervalMs } from './keys/schedule.ts'
import { signingJwks } from './keys/signing-keys.ts'
import { type AccountSession, listSessions, type SignedOut, signOutEverywhere } from './manage/sessions.ts'
import { IdentityMount } from './mount.ts'
import { buildProvider } from './provider.ts'
import { Mailer } from './recovery/mailer.ts'
import { IdentityRevocations } from './revocations.ts'
import { csrfKey } from './secrets.ts'
import { selfServiceKeys } from './self-service.ts'

export const CLEANUP_INTERVAL_MS = 60_000
/**
 * How often the store's key version is checked, whatever the rotation schedule: a key withdrawn on
 * another node (or by the CLI) leaves this node's provider and verifiers within a second, Redis or not.
 */
export const KEY_WATCH_MS = 1000

export interface IdentityHostOptions {
  readonly logger: Logger
  readonly metrics: RouteMetrics
  /** The running configuration's trusted proxies (proxy.trusted_ips). */
  readonly trustedProxies: () => BlockList | null
  /** Where the gateway's own verifiers find this provider's keys (absent: the provider alone). */
  readonly providerKeys?: ProviderKeys | undefined
}

const nowSeconds = () => Math.floor(Date.now() / 1000)

export class IdentityHost {
  readonly mount: IdentityMount
  readonly store: Store
  readonly #logger: Logger
  readonly #revocations: IdentityRevocations
  /** The store in use (a file or a database): a change applies at the next start. */
  readonly #storageLocation: string
  #settings: GatewaySettings
  readonly #providerKeys: ProviderKeys | null
  #keysVersion = -1
  /** The kids of the provider being served. */
  #kids: ReadonlySet<string> = new Set()
  #poll: NodeJS.Timeout | null = null
  #watch: NodeJS.Timeout | null = null
  #cleanup: NodeJS.Timeout | null = null
  /** Serialises rebuilds: a reload and a key poll never build at once. */
  #queue: Promise<unknown> = Promise.resolve()
  #closed = false
  /** The revocations the provider being served checks (the running configuration's `redis`). */
  #currentRevocations: Revocations | null = null

  /** Opens the store and serves the provider of `settings` (identity enabled). */
  static async start(settings: GatewaySettings, options: IdentityHostOptions): Promise<IdentityHost> {
    const store = await openStore(settings.storage)
    const host = new IdentityHost(store, settings, options)
    try {
      await host.#apply(settings, 'start')
    } catch (err) {
      await host.close()
      throw err
    }
    host.#schedule()
    return host
  }

  private constructor(store: Store, settings: GatewaySettings, options: IdentityHostOptions) {
    this.store = store
    this.#providerKeys = options.providerKeys ?? null
    this.#revocations = new IdentityRevocations(
      store,
      options.logger.child({ component: 'identity' }),
      (kid) => this.#keyRevoked(kid),
    )
    this.#settings = settings
    this.#logger = options.logger.child({ component: 'identity' })
    this.#storageLocation = storageLocation(settings.storage)
    this.mount = new IdentityMount({
      issuer: settings.identity.issuer!,
      metrics: options.metrics,
      trustedProxies: options.trustedProxies,
    })
  }

  /** A reloaded configuration (identity still enabled): a new provider, the same store. */
  reload(settings: GatewaySettings): Promise<void> {
    if (storageLocation(settings.storage) !== this.#storageLocation)
      this.#logger.warn({ settings: ['storage'] }, 'settings changed that apply at the next restart')
    return this.#serially(async () => {
      await this.#apply(settings, 'reload')
      this.#schedule()
    })
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#poll !== null) clearInterval(this.#poll)
    if (this.#watch !== null) clearInterval(this.#watch)
    if (this.#cleanup !== null) clearInterval(this.#cleanup)
    this.#providerKeys?.clear()
    await this.#queue.catch(() => {})
    await this.#revocations.close()
    await this.store.close()
  }

  async #apply(settings: GatewaySettings, cause: 'start' | 'reload'): Promise<void> {
    const identity = settings.identity
    const now = nowSeconds()
    // Before anything is written: the stored keys must open with this identity.secret.
    signingJwks(await this.store.keys.list(), identity)
    const synced = await this.store.users.syncConfigUsers(identity.users, now)
    // Warned, not refused: before identity.users[].mfa existed, a declared user's policy was set with the
    // admin API; the first load after the upgrade clears it, and the operator must see that.
    if (synced.mfaCleared.length > 0)
      this.#logger.warn(
        { users: synced.mfaCleared },
        'the configuration file cleared the own mfa policy of users it declares without identity.users[].mfa',
      )
    const takenClients = await this.store.clients.syncConfigClients(identity.clients, now)
    this.#logKeyEvents(await maintainKeys(this.store, identity, now))
    await this.#build(settings)
    this.#settings = settings
    this.#logger.info(
      {
        cause,
        issuer: identity.issuer,
        config_users: identity.users.length,
        config_clients: identity.clients.length,
        taken_over_users: synced.takenOver.length > 0 ? synced.takenOver : undefined,
        taken_over_clients: takenClients.length > 0 ? takenClients : undefined,
      },
      cause === 'start' ? 'identity provider started' : 'identity provider reloaded',
    )
  }

  /** Builds a provider from the keys in the store now, and serves it. */
  async #build(settings: GatewaySettings): Promise<void> {
    const identity = settings.identity
    const version = await this.store.keys.version()
    const keys = await this.store.keys.list()
    const jwks = signingJwks(keys, identity)
    const revocations = this.#revocations.use(settings.redis)
    this.#currentRevocations = revocations
    const provider = buildProvider({
      identity,
      store: this.store,
      logger: this.#logger,
      jwks,
      trustProxy: settings.proxy.trusted_ips.length > 0,
      revocations,
    })
    recordSessionOrigins(provider, this.store, this.#logger)
    const issuer = new URL(identity.issuer!)
    const basePath = issuer.pathname === '/' ? '' : issuer.pathname
    const throttle = new LoginThrottle(this.store.throttle, identity.login)
    // Before the provider serves: a token it signs must verify on the very next request.
    const published = jwks.map(publicJwk)
    this.#providerKeys?.publish(identity.issuer!, published, () => this.#serially(() => this.#follow()))
    this.#kids = new Set(published.map((k) => k.kid!))
    this.mount.setIssuer(identity.issuer!)
    this.mount.serve({
      provider,
      interactions: {
        provider,
        store: this.store,
        identity,
        logger: this.#logger,
        csrfKey: csrfKey(identity.secret!),
        throttle,
        basePath,
        brokers: new Brokers(identity),
      },
      selfService: {
        provider,
        store: this.store,
        identity,
        logger: this.#logger,
        throttle,
        basePath,
        issuer: identity.issuer!,
        revocations,
        mailer: identity.email !== undefined ? new Mailer(identity.email, this.#logger) : null,
        keys: selfServiceKeys(identity.secret!),
        linksOf: (userId) => linksOf(this.store, identity, userId),
      },
    })
    this.#keysVersion = version
    this.#logger.info(
      { keys: keys.map((k) => ({ kid: k.kid, alg: k.alg, state: k.state })) },
      'identity provider signing keys loaded',
    )
  }

  #schedule(): void {
    if (this.#closed) return
    if (this.#poll !== null) clearInterval(this.#poll)
    this.#poll = setInterval(() => {
      this.#serially(() => this.#tick()).catch((err: unknown) => {
        this.#logger.error({ err }, 'signing key maintenance failed; retrying at the next poll')
      })
    }, pollIntervalMs(this.#settings.identity))
    this.#poll.unref()
    if (this.#watch === null && pollIntervalMs(this.#settings.identity) > KEY_WATCH_MS) {
      this.#watch = setInterval(() => {
        this.#serially(() => this.#follow()).catch((err: unknown) => {
          this.#logger.error({ err }, 'checking the store for signing key changes failed')
        })
      }, KEY_WATCH_MS)
      this.#watch.unref()
    }
    if (this.#cleanup === null) {
      this.#cleanup = setInterval(() => {
        this.#serially(() => this.#deleteExpired()).catch((err: unknown) => {
          this.#logger.error({ err }, 'deleting expired identity artefacts failed')
        })
      }, CLEANUP_INTERVAL_MS)
      this.#cleanup.unref()
    }
  }

  /** Due key rotations, then a rebuild if the keys changed (here or on another node). */
  async #tick(): Promise<void> {
    const settings = this.#settings
    this.#logKeyEvents(await maintainKeys(this.store, settings.identity, nowSeconds()))
    await this.#follow()
  }

  /** A rebuild when the keys in the store changed (another node, the CLI); nothing otherwise. */
  async #follow(): Promise<void> {
    if ((await this.store.keys.version()) !== this.#keysVersion) await this.#build(this.#settings)
  }

  /** The signing keys in the store, for the admin API: never key material. */
  listKeys(): Promise<KeyInfo[]> {
    return listKeys(this.store)
  }

  /**
   * Rotates now (`gatehouse keys rotate`, POST /identity/keys/rotate): for each configured algorithm, or
   * only `alg`, the next key signs from now on and the active one is retired; this node's provider is
   * rebuilt with them before this resolves (the others follow the store within a second). The caller
   * checks that `alg` is configured.
   */
  async rotateKeys(alg?: string): Promise<readonly KeyEvent[]> {
    const done = await this.#serially(async () => {
      const events = await rotateNow(this.store, this.#settings, alg !== undefined ? { alg } : {})
      this.#logKeyEvents(events)
      await this.#follow()
      return events
    })
    return done ?? []
  }

  /** The algorithms new keys are made for (identity.keys.algorithms of the running configuration). */
  get keyAlgorithms(): readonly string[] {
    return this.#settings.identity.keys.algorithms
  }

  /**
   * Withdraws the signing key `kid` (issue 10): out of the store, another key signing at once when it
   * was the active one, and the provider rebuilt without it before this resolves. Null when the store
   * has no such key.
   */
  async withdrawKey(kid: string): Promise<Withdrawal | null> {
    const done = await this.#serially(async () => {
      const withdrawal = await withdrawKey(this.store, this.#settings.identity, kid, nowSeconds())
      if (withdrawal !== null) this.#logKeyEvents(withdrawal.events)
      await this.#follow()
      return withdrawal
    })
    return done ?? null
  }

  /** The provider sessions of the account (issue 14: account page, admin API). */
  listSessions(userId: string): Promise<AccountSession[]> {
    return listSessions(this.store, userId)
  }

  /**
   * Ends every session, grant and token of the account, and records a subject revocation so internal
   * tokens and gateway sessions end on every node (issue 14). Rejects when the revocation could not be
   * recorded (the store is cleared all the same).
   */
  signOutEverywhere(userId: string, reason: string): Promise<SignedOut> {
    return signOutEverywhere(this.store, this.#currentRevocations, userId, reason)
  }

  /** A `key` revocation heard (from any node): withdraws it here too when it is one of ours. */
  #keyRevoked(kid: string): void {
    if (!this.#kids.has(kid)) return
    this.withdrawKey(kid).catch((err: unknown) => {
      this.#logger.error(
        { err, kid },
        'withdrawing a revoked signing key from the store failed; it is refused all the same',
      )
    })
  }

  async #deleteExpired(): Promise<void> {
    const deleted = await this.store.oidc.deleteExpired(nowSeconds())
    if (deleted > 0) this.#logger.info({ deleted }, 'expired identity artefacts deleted')
  }

  #logKeyEvents(events: readonly KeyEvent[]): void {
    for (const e of events)
      this.#logger.info({ kid: e.kid, alg: e.alg, event: e.event }, 'signing key changed')
  }

  #serially<T>(task: () => Promise<T>): Promise<T | undefined> {
    const run = this.#queue.then(() => (this.#closed ? undefined : task()))
    this.#queue = run.catch(() => {})
    return run
  }
}
