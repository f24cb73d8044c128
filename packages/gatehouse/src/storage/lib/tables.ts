/**
 * The rows as SQL sees them, for kysely's typed queries. Dialect-neutral on purpose (SQLite now,
 * PostgreSQL later): JSON is text, flags are integers 0/1, times are integer epoch seconds, and unique
 * case-insensitive values have a lower-cased `*_key` column (no COLLATE NOCASE, no citext).
 */

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
  roles: string
  /** JSON object. */
  claims: string
  disabled: number
  source: 'config' | 'cli'
  created_at: number
  updated_at: number
}

export interface ClientRow {
  client_id: string
  secret_hash: string | null
  client_name: string | null
  /** The list columns are JSON arrays of strings. */
  redirect_uris: string
  post_logout_redirect_uris: string
  grant_types: string
  scopes: string
  resources: string
  first_party: number
  source: 'config' | 'cli'
  created_at: number
  updated_at: number
}

/** One oidc-provider artefact; grant_id, uid and user_code are copied out of the payload for lookups. */
export interface OidcRow {
  model: string
  id: string
  /** JSON object. */
  payload: string
  grant_id: string | null
  uid: string | null
  user_code: string | null
  expires_at: number | null
  consumed_at: number | null
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
}
