/**
 * The rows as SQL sees them, for kysely's typed queries, in both dialects (dialect.ts): JSON is written
 * as text and read as the driver returns it (text from SQLite, parsed from PostgreSQL's jsonb), flags
 * are 0/1 or booleans, times are integer epoch seconds (bigint, which the PostgreSQL store reads back
 * as numbers), and unique case-insensitive values have a lower-cased `*_key` column (no COLLATE NOCASE,
 * no citext).
 */
import type { ColumnType, Generated } from 'kysely'
import type { Flag } from './dialect.ts'

/** A JSON document: written as JSON text, read back through the dialect's readJson. */
export type JsonColumn = ColumnType<unknown, string, string>

export interface UserRow {
  id: string
  username: string
  /** username, lower-cased: the unique key. */
  username_key: string
  email: string | null
  /** email, lower-cased: the unique key (NULLs never collide). */
  email_key: string | null
  password_hash: string
  /** JSON array of strings. */
  roles: JsonColumn
  /** JSON object. */
  claims: JsonColumn
  disabled: Flag
  source: 'config' | 'cli'
  created_at: number
  updated_at: number
}

export interface ClientRow {
  client_id: string
  secret_hash: string | null
  client_name: string | null
  /** The list columns are JSON arrays of strings. */
  redirect_uris: JsonColumn
  post_logout_redirect_uris: JsonColumn
  grant_types: JsonColumn
  scopes: JsonColumn
  resources: JsonColumn
  first_party: Flag
  /** off | optional | required, or null: the client sets no policy (migration 003). */
  mfa: 'off' | 'optional' | 'required' | null
  source: 'config' | 'cli'
  created_at: number
  updated_at: number
}

/** One oidc-provider artefact; grant_id, uid and user_code are copied out of the payload for lookups. */
export interface OidcRow {
  model: string
  id: string
  /** JSON object. */
  payload: JsonColumn
  grant_id: string | null
  uid: string | null
  user_code: string | null
  expires_at: number | null
  consumed_at: number | null
  /** The payload's accountId (migration 005), for the account page's session list and sign-out. */
  account_id: string | null
}

export interface SigningKeyRow {
  kid: string
  alg: string
  state: 'next' | 'active' | 'retired'
  encrypted_jwk: string
  created_at: number
  activate_at: number
  retired_at: number | null
  delete_after: number | null
}

/** One row (id 1): bumped in the same transaction as every signing-key change. */
export interface KeyVersionRow {
  id: number
  version: number
}

export interface ThrottleRow {
  key: string
  failures: number
  window_start: number
  locked_until: number | null
}

export interface Database {
  users: UserRow
  clients: ClientRow
  oidc_artifacts: OidcRow
  signing_keys: SigningKeyRow
  signing_key_version: KeyVersionRow
  login_throttle: ThrottleRow
  entities: EntityRow
  config_version: ConfigVersionRow
  factors: FactorRow
  recovery_codes: RecoveryCodeRow
  factor_settings: FactorSettingsRow
  identity_links: LinkRow
  passkeys: PasskeyRow
  identity_audit: AuditRow
}

/** One second factor of a user (migration 003, lib/factors.ts). */
export interface FactorRow {
  id: string
  user_id: string
  kind: 'totp' | 'passkey'
  name: string
  /** Sealed (AES-256-GCM), never the secret in clear. */
  secret: string
  /** The last TOTP time step accepted (RFC 6238 replay protection); null before the first. */
  last_step: number | null
  created_at: number
  last_used_at: number | null
}

/** What a passkey factor needs beyond 003's columns (migration 006, lib/factors.ts). */
export interface PasskeyRow {
  factor_id: string
  /** base64url, as WebAuthn's JSON carries it. */
  credential_id: string
  /** base64url COSE public key: it verifies, it is not a secret. */
  public_key: string
  counter: number
  /** JSON array of the authenticator's transports ("internal", "usb", "hybrid", ...). */
  transports: string
  backed_up: Flag
  aaguid: string
}

export interface RecoveryCodeRow {
  user_id: string
  /** Keyed hash of the code. */
  code_hash: string
  created_at: number
  used_at: number | null
}

export interface FactorSettingsRow {
  user_id: string
  mfa: 'off' | 'optional' | 'required'
  updated_at: number
}

/** A user's link to an external provider's identity (migration 004, lib/links.ts). */
export interface LinkRow {
  broker: string
  subject: string
  user_id: string
  email: string | null
  username: string | null
  created_at: number
  last_used_at: number | null
}

/**
 * A gateway entity (service, route, consumer, plugin, credential) for the database mode, stored as a
 * JSON document (migration 002, lib/entities.ts).
 */
export interface EntityRow {
  /** `services`, `routes`, `consumers`, `plugins`, or a credential list (`keyauth_credentials`, ...). */
  entity_type: string
  id: string
  /** The entity's unique name within its type, when it has one. */
  name: string | null
  document: JsonColumn
  created_at: number
  updated_at: number
}

/** One row (id 1): bumped in the same transaction as every entity change, so nodes poll one row. */
export interface ConfigVersionRow {
  id: number
  version: number
}

/** One event of the identity audit trail (migration 007, lib/audit.ts); no foreign key, on purpose. */
export interface AuditRow {
  /** The database's counter (SQLite integer, PostgreSQL bigserial, read back as a number). */
  id: Generated<number>
  at: number
  action: string
  actor_via: string
  /** JSON object of strings (and nulls). */
  actor: JsonColumn
  target_type: string
  target_id: string | null
  target_name: string | null
  /** JSON object of scalars. */
  detail: JsonColumn
}
