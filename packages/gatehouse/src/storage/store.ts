/**
 * The storage interface: everything Gatehouse keeps that must outlive a process — identity users and
 * clients, oidc-provider's artefacts (sessions, grants, codes, refresh tokens, ...), signing keys,
 * login throttling, and in DB mode the gateway's entities. SQLite implements it for one node
 * (sqlite.ts), PostgreSQL for several sharing one database (postgres.ts). Both pass
 * store.contract.test.ts. Every method is async so both can implement it; times are epoch seconds;
 * lists come back in a stable order (creation, then id).
 */

export interface StoredUser {
  readonly id: string
  /** Unique, compared case-insensitively. */
  readonly username: string
  /** Unique when set, compared case-insensitively. */
  readonly email: string | null
  /** argon2id PHC string. */
  readonly password_hash: string
  readonly roles: readonly string[]
  readonly claims: Readonly<Record<string, string | number | boolean>>
  readonly disabled: boolean
  /** Who manages it: the declarative file (replaced on every load) or the CLI. */
  readonly source: 'config' | 'cli'
  readonly created_at: number
  readonly updated_at: number
}

export interface ClientMetadata {
  readonly client_name: string | null
  readonly redirect_uris: readonly string[]
  readonly post_logout_redirect_uris: readonly string[]
  readonly grant_types: readonly string[]
  readonly scopes: readonly string[]
  readonly resources: readonly string[]
  readonly first_party: boolean
  /** The client's second-factor policy, or null: it sets none (the provider's default and the user's decide). */
  readonly mfa: MfaPolicy | null
}

/** Whether a sign-in asks for a second factor (identity/factors/policy.ts): the strictest setting wins. */
export type MfaPolicy = 'off' | 'optional' | 'required'

/** The kinds of second factor: an authenticator app, or a passkey (WebAuthn; its data in StoredPasskey). */
export type FactorKind = 'totp' | 'passkey'

/** One second factor of a user: an authenticator app (TOTP) now. */
export interface StoredFactor {
  readonly id: string
  readonly user_id: string
  readonly kind: FactorKind
  /** What the user calls it ("Phone"); shown, never secret. */
  readonly name: string
  /** The factor's secret, sealed (identity/factors/seal.ts): never stored in clear. */
  readonly secret: string
  /** The last TOTP time step accepted; null before the first. */
  readonly last_step: number | null
  readonly created_at: number
  readonly last_used_at: number | null
}

/** What a `passkey` factor adds (migration 006): the WebAuthn credential, none of it secret. */
export interface StoredPasskey {
  readonly factor_id: string
  /** base64url credential id, unique across users (a passkey alone finds its account by it). */
  readonly credential_id: string
  /** base64url COSE public key. */
  readonly public_key: string
  /** The authenticator's signature counter (0: the authenticator keeps none). */
  readonly counter: number
  readonly transports: readonly string[]
  /** The credential is synced (backed up) by its provider. */
  readonly backed_up: boolean
  /** The authenticator model's AAGUID (all zeroes with attestation `none` on most). */
  readonly aaguid: string
}

export interface StoredClient extends ClientMetadata {
  readonly client_id: string
  /** `hmac-sha256$<base64>` keyed hash of the secret; null for a public client. */
  readonly secret_hash: string | null
  readonly source: 'config' | 'cli'
  readonly created_at: number
  readonly updated_at: number
}

export type SigningKeyState = 'next' | 'active' | 'retired'

export interface StoredSigningKey {
  readonly kid: string
  readonly alg: string
  /** next: published, not yet signing; active: signs; retired: published until delete_after. */
  readonly state: SigningKeyState
  /** The private JWK, encrypted (AES-256-GCM, key derived from identity.secret): never stored in clear. */
  readonly encrypted_jwk: string
  readonly created_at: number
  /** When a `next` key becomes `active`. */
  readonly activate_at: number
  readonly retired_at: number | null
  /** When a retired key may be deleted: every token it signed has expired. */
  readonly delete_after: number | null
}

/** One oidc-provider artefact (adapter model `name`, e.g. Session, Grant, RefreshToken). */
export interface OidcRecord {
  readonly payload: Record<string, unknown>
  /** Epoch seconds; null never expires. */
  readonly expires_at: number | null
  readonly consumed_at: number | null
}

export interface ThrottleState {
  /** e.g. `user:alice` or `ip:203.0.113.9`. */
  readonly key: string
  /** Failures since `window_start`. */
  readonly failures: number
  readonly window_start: number
  readonly locked_until: number | null
}

/**
 * The password_hash of an account that has none (created by a first sign-in with an external provider):
 * no password matches it, and the login page answers as for a wrong password until one is set.
 */
export const NO_PASSWORD = '!'

/** A local user's link to an identity at an external OpenID Connect provider (identity/broker/). */
export interface StoredLink {
  /** The provider's configured name (identity.external_providers[].name). */
  readonly broker: string
  /** The provider's `sub`: with `broker`, the one key of an external identity. */
  readonly subject: string
  readonly user_id: string
  /** For display only, as the provider last said (never used to match). */
  readonly email: string | null
  readonly username: string | null
  readonly created_at: number
  readonly last_used_at: number | null
}

export interface LinkStore {
  find(broker: string, subject: string): Promise<StoredLink | undefined>
  /** A user's links, oldest first. */
  listByUser(userId: string): Promise<StoredLink[]>
  /**
   * Throws StoreConflictError (field `subject`: the external identity is linked already; `broker`: the
   * user has a link to that provider already), StoreNotFoundError when the user does not exist.
   */
  insert(link: StoredLink): Promise<void>
  /** The user and its first link in one transaction: neither is written without the other. */
  insertUserWithLink(user: StoredUser, link: StoredLink): Promise<void>
  /** Records a sign-in through the link, and the display copies the provider sent with it. */
  touch(
    broker: string,
    subject: string,
    seen: { email: string | null; username: string | null },
    now: number,
  ): Promise<void>
  /** Removes the user's link to `broker`; false when there was none. */
  remove(userId: string, broker: string): Promise<boolean>
}

/**
 * One scalar fact of an audit event's detail. No objects or arrays: a detail is a handful of fields each
 * caller names one by one, so nothing secret can ride along inside a structure copied in whole.
 */
export type AuditValue = string | number | boolean | null

/** An audit event as it is recorded (identity/manage/audit.ts decides what goes in it). */
export interface AuditRecord {
  /** Epoch seconds. */
  readonly at: number
  /** A stable dotted name (`user.mfa_reset`). */
  readonly action: string
  /** Who made the change: `via` the surface (`admin-api`, `cli`), and the fields that surface knows. */
  readonly actor: { readonly via: string } & Readonly<Record<string, string | null>>
  readonly target: {
    /** `user`, `client`, `signing_key`, `revocation`, `audit`. */
    readonly type: string
    /** A user's id, a client_id, a kid; null when there is none (an unknown username unlocked). */
    readonly id: string | null
    /** A username, a client's name; null when it has none. */
    readonly name: string | null
  }
  readonly detail: Readonly<Record<string, AuditValue>>
}

export interface StoredAuditEvent extends AuditRecord {
  /** Increases with every event recorded in this database: the order of the trail and its paging key. */
  readonly id: number
}

export interface AuditQuery {
  /**
   * Events about one target of this type: its `id`, or its `name` (case-insensitive), whichever matches;
   * neither given, every target of the type.
   */
  readonly target?: { readonly type: string; readonly id?: string; readonly name?: string }
  readonly action?: string
  /** Only events older than the event with this id (keyset paging: the last id of the page before). */
  readonly before?: number
  readonly limit: number
}

/**
 * The identity audit trail (migration 007): append-only, newest first when listed. Not tied to the users
 * table: the trail of a removed user stays. Kept until pruned.
 */
export interface AuditStore {
  record(event: AuditRecord): Promise<StoredAuditEvent>
  /** Newest first. */
  list(query: AuditQuery): Promise<StoredAuditEvent[]>
  /** Deletes the events recorded before `at` (epoch seconds); returns how many. */
  prune(at: number): Promise<number>
}

export interface UserStore {
  get(id: string): Promise<StoredUser | undefined>
  findByUsername(username: string): Promise<StoredUser | undefined>
  findByEmail(email: string): Promise<StoredUser | undefined>
  list(): Promise<StoredUser[]>
  /** Throws StoreConflictError when the username or e-mail is taken. */
  insert(user: StoredUser): Promise<void>
  /** Throws StoreConflictError on a taken username/e-mail, StoreNotFoundError for an unknown id. */
  update(id: string, patch: Partial<Omit<StoredUser, 'id' | 'created_at'>>): Promise<void>
  /**
   * Sets the password hash only while it is still `expected`, in one statement: false when it has
   * changed (or there is no such user). What is authorised by the current hash (a password reset link)
   * is then used once, even by two requests at the same moment on two nodes.
   */
  replacePasswordHash(id: string, expected: string, next: string, updatedAt: number): Promise<boolean>
  remove(id: string): Promise<boolean>
  /**
   * Makes the config-managed users exactly `seeds` in one transaction: inserts new ones, updates
   * existing ones (matched by username; a CLI user of that name becomes config-managed), deletes
   * config-managed users no longer listed, and makes each listed user's own mfa policy the seed's. A
   * seed's `id`, when given, is the new user's id; an existing user with another id is a
   * StoreConflictError.
   */
  syncConfigUsers(seeds: readonly ConfigUserSeed[], now: number): Promise<ConfigUsersSynced>
}

/** A user as the configuration file declares it (identity.users), for UserStore.syncConfigUsers. */
export type ConfigUserSeed = Omit<StoredUser, 'id' | 'source' | 'created_at' | 'updated_at'> & {
  readonly id?: string | null
  /** The user's own mfa policy (FactorStore.policy); absent or null: none, and a stored one is cleared. */
  readonly mfa?: MfaPolicy | null
}

/** What UserStore.syncConfigUsers changed that its caller reports. */
export interface ConfigUsersSynced {
  /** Usernames of CLI users the file now manages. */
  readonly takenOver: readonly string[]
  /** Usernames whose own mfa policy was cleared: the file sets none for them. */
  readonly mfaCleared: readonly string[]
}

export interface ClientStore {
  get(clientId: string): Promise<StoredClient | undefined>
  list(): Promise<StoredClient[]>
  /** Throws StoreConflictError when the client_id is taken. */
  insert(client: StoredClient): Promise<void>
  remove(clientId: string): Promise<boolean>
  /** As UserStore.syncConfigUsers, matched by client_id. */
  syncConfigClients(
    seeds: readonly Omit<StoredClient, 'source' | 'created_at' | 'updated_at'>[],
    now: number,
  ): Promise<string[]>
}

/** oidc-provider's adapter contract (lib/adapters/memory_adapter.js), per model name. */
export interface OidcStore {
  upsert(
    model: string,
    id: string,
    payload: Record<string, unknown>,
    expiresInSeconds: number | undefined,
    now: number,
  ): Promise<void>
  find(model: string, id: string, now: number): Promise<OidcRecord | undefined>
  findByUid(model: string, uid: string, now: number): Promise<OidcRecord | undefined>
  findByUserCode(model: string, userCode: string, now: number): Promise<OidcRecord | undefined>
  consume(model: string, id: string, now: number): Promise<void>
  destroy(model: string, id: string): Promise<void>
  /**
   * Deletes the unexpired artefact and returns its payload, in one statement: of many concurrent takes
   * of the same artefact exactly one gets it (a single-use value, a WebAuthn challenge).
   */
  take(model: string, id: string, now: number): Promise<Record<string, unknown> | undefined>
  /** Deletes every artefact (any model) of the grant. */
  revokeByGrantId(grantId: string): Promise<void>
  /** Deletes expired artefacts; returns how many. */
  deleteExpired(now: number): Promise<number>
  /** The unexpired artefacts of `model` that belong to the account, oldest first (issue 14, account page). */
  listByAccount(
    model: string,
    accountId: string,
    now: number,
  ): Promise<(OidcRecord & { readonly id: string })[]>
  /** Deletes every artefact (any model) of the account; returns how many. */
  deleteByAccount(accountId: string): Promise<number>
}

export interface KeyStore {
  list(): Promise<StoredSigningKey[]>
  insert(key: StoredSigningKey): Promise<void>
  update(
    kid: string,
    patch: Partial<Omit<StoredSigningKey, 'kid' | 'alg' | 'encrypted_jwk' | 'created_at'>>,
  ): Promise<void>
  remove(kid: string): Promise<void>
  /** A number that changes whenever keys change, so nodes can poll cheaply for rotations. */
  version(): Promise<number>
}

export interface ThrottleStore {
  get(key: string): Promise<ThrottleState | undefined>
  /**
   * Counts a failure atomically: starts a new window when the last one began more than
   * `windowSeconds` ago. Returns the state after counting.
   */
  recordFailure(key: string, now: number, windowSeconds: number): Promise<ThrottleState>
  lock(key: string, until: number): Promise<void>
  clear(key: string): Promise<void>
}

/**
 * Second factors, recovery codes and each user's own `mfa` policy. Everything here goes when its user
 * is removed. Recovery codes arrive hashed (the caller hashes), so the store never sees one in clear.
 */
export interface FactorStore {
  /** The user's factors, oldest first. */
  list(userId: string): Promise<StoredFactor[]>
  get(id: string): Promise<StoredFactor | undefined>
  /** StoreNotFoundError when the user does not exist, StoreConflictError when the id is taken. */
  insert(factor: StoredFactor): Promise<void>
  remove(id: string): Promise<boolean>
  /**
   * Accepts TOTP time step `step` for the factor when it is later than every step accepted before, and
   * records it with `now` as last use, atomically (one conditional UPDATE: of two nodes racing with the
   * same code, one wins). False: the step, or a later one, was already used (a replay), or no factor.
   */
  acceptStep(id: string, step: number, now: number): Promise<boolean>
  /** Stores a `passkey` factor and its credential in one transaction (StoreConflictError: id taken). */
  insertPasskey(factor: StoredFactor, passkey: StoredPasskey): Promise<void>
  /** The passkey with this credential id and its factor, whoever's it is. */
  findPasskey(credentialId: string): Promise<{ factor: StoredFactor; passkey: StoredPasskey } | undefined>
  /** The user's passkeys (their credentials), oldest first. */
  passkeys(userId: string): Promise<StoredPasskey[]>
  /**
   * Records a use of the passkey: its counter becomes `counter` only while the stored one is lower
   * (or both are 0, an authenticator that keeps no counter), in one conditional UPDATE. False: the
   * counter did not go forward (a cloned authenticator, or a replay), or no such passkey.
   */
  acceptCounter(factorId: string, counter: number, now: number): Promise<boolean>
  /** Renames a factor of the user; false when the user has no such factor. */
  rename(userId: string, id: string, name: string): Promise<boolean>
  /** Replaces all of the user's recovery codes by these hashes (a new set invalidates the old one). */
  replaceRecoveryCodes(userId: string, hashes: readonly string[], now: number): Promise<void>
  /** Marks the unused code with this hash used, atomically; false when there is none (used, or never). */
  consumeRecoveryCode(userId: string, hash: string, now: number): Promise<boolean>
  /** How many of the user's recovery codes are unused. */
  recoveryCodesLeft(userId: string): Promise<number>
  /** Removes every factor and recovery code of the user in one transaction; returns how many factors. */
  removeAll(userId: string): Promise<number>
  /** The user's own mfa policy, or null when they have none. */
  policy(userId: string): Promise<MfaPolicy | null>
  /** Sets (null: clears) the user's own policy; StoreNotFoundError when the user does not exist. */
  setPolicy(userId: string, mfa: MfaPolicy | null, now: number): Promise<void>
}

/**
 * A gateway entity in DB mode (`storage.entities: database`): a service, route, consumer, plugin or
 * credential, kept as the declarative document that describes it (db-mode/ decides what goes in it).
 */
export interface StoredEntity {
  /** The declarative list it belongs to: `services`, `routes`, `consumers`, `plugins`, `keyauth_credentials`, ... */
  readonly type: string
  readonly id: string
  /** Unique within its type when set (a service's name, a consumer's username); the database enforces it. */
  readonly name: string | null
  readonly document: Readonly<Record<string, unknown>>
  readonly created_at: number
  readonly updated_at: number
}

/** Every entity, as of one configuration version (0: nothing was ever written). */
export interface EntitySnapshot {
  readonly version: number
  /** By type, then creation, then id. */
  readonly entities: readonly StoredEntity[]
}

export interface EntityChanges {
  /** Inserted, or replacing the entity of the same type and id (its created_at is kept). */
  readonly upsert: readonly StoredEntity[]
  readonly remove: readonly { readonly type: string; readonly id: string }[]
}

export interface EntityStore {
  /** Every entity and the version they are at, read consistently. */
  snapshot(): Promise<EntitySnapshot>
  /** The configuration version: changes (in one transaction) with every write, so nodes poll one row. */
  version(): Promise<number>
  /**
   * Applies `changes` in one transaction if the version is still `expected`, bumps the version and
   * tells watchers; returns the new version. A StoreConflictError on `version` when another write came
   * first, on `name` when a name is taken; either way nothing is written.
   */
  apply(expected: number, changes: EntityChanges): Promise<number>
  /** As `apply`, making the entities exactly `entities` (the others are deleted). */
  replace(expected: number, entities: readonly StoredEntity[]): Promise<number>
  /**
   * Calls `onChange` soon after any connection writes (PostgreSQL's LISTEN/NOTIFY, reconnecting by
   * itself), and once after each reconnection, when notifications may have been missed. Where the
   * backend cannot notify (SQLite) it never calls: poll `version()`. Resolves once listening; the
   * returned function stops.
   */
  watch(onChange: () => void): Promise<() => Promise<void>>
}

export interface Store {
  readonly users: UserStore
  readonly clients: ClientStore
  readonly oidc: OidcStore
  readonly keys: KeyStore
  readonly throttle: ThrottleStore
  /** Users' second factors, recovery codes and mfa policies. */
  readonly factors: FactorStore
  /** Users' links to external OpenID Connect providers; removed with the user. */
  readonly links: LinkStore
  /** The gateway's own entities in DB mode. */
  readonly entities: EntityStore
  /** Who changed which user, client or key, and how (issue 14); outlives what it names. */
  readonly audit: AuditStore
  /** Applies pending migrations (versioned, in order, in a transaction); returns the names it applied. */
  migrate(): Promise<string[]>
  /** Throws StoreError when the schema is older than this version expects (run `gatehouse migrate`). */
  checkSchema(): Promise<void>
  /**
   * Runs `fn` while holding the lock `name`, and returns what it returns: two holders of the same name
   * never run at once. On PostgreSQL every node sharing the database respects it (an advisory lock); on
   * SQLite, one node's own file, it orders this store's callers only. For read-then-write maintenance such as key
   * rotation, which `fn` does through this store as usual. An error in `fn` releases the lock.
   */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T>
  /** One trivial query (readiness); rejects, StoreUnavailableError among others, when it fails. */
  ping(): Promise<void>
  close(): Promise<void>
}

export class StoreError extends Error {
  override name = 'StoreError'
}

/** A unique value (username, e-mail, client_id, kid, an entity's name) is taken, or a version moved on. */
export class StoreConflictError extends StoreError {
  override name = 'StoreConflictError'
  readonly field: string
  constructor(field: string, message: string) {
    super(message)
    this.field = field
  }
}

/**
 * The database cannot be reached now: the connection is refused or lost, PostgreSQL is shutting down or
 * full, the SQLite file is locked by another writer or cannot be read or written. Whatever the failing
 * call was writing is not committed (transactions); the same call may succeed later.
 */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError'
}

export class StoreNotFoundError extends StoreError {
  override name = 'StoreNotFoundError'
}
