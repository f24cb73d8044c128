/**
 * The loaded configuration: flat entity lists with ids and references filled in, Kong's admin API
 * shapes (absent values are null), deep-frozen. Built by normalize.ts; read by everything else.
 */

import type { z } from 'zod'
import type { IdentityConfig } from './normalize-identity.ts'
import type { InternalTokensSettings } from './schema/internal-tokens.ts'
import type { RedisSettings } from './schema/redis.ts'
import type { adminSettings, loggingSettings, proxySettings } from './schema/settings.ts'
import type { StorageSettings } from './schema/storage.ts'
import type { Healthchecks } from './schema/upstream.ts'

export interface EntityRef {
  readonly id: string
}

export interface ServiceEntity {
  readonly id: string
  readonly name: string | null
  readonly protocol: 'http' | 'https'
  readonly host: string
  readonly port: number
  readonly path: string | null
  readonly retries: number
  readonly connect_timeout: number
  readonly write_timeout: number
  readonly read_timeout: number
  readonly enabled: boolean
  readonly tls_verify: boolean
  /** An `Upgrade: websocket` on the service's http/https routes is proxied as a WebSocket (else refused). */
  readonly websocket_upgrade: boolean
  /** The upstream speaks gRPC over HTTP/2 (Kong's grpc/grpcs services): h2c for http, TLS for https. */
  readonly grpc: boolean
  /** Most intermediate CAs accepted in the upstream's chain; null: no limit. */
  readonly tls_verify_depth: number | null
  /** Trusted CAs for the upstream (file paths or PEM text, read by proxy/upstream-tls.ts); null: the system's. */
  readonly ca_certificates: readonly string[] | null
  /** The client certificate for mutual TLS (file paths or PEM text); null: none. */
  readonly client_certificate: { readonly cert: string; readonly key: string } | null
  readonly tags: readonly string[] | null
  readonly created_at: number
  readonly updated_at: number
}

/**
 * A service in Kong's shape, for the admin API, DB mode's store and exports: a gRPC service's protocol as
 * `grpc`/`grpcs` (the model keeps `protocol` as what the connection is, http or https, plus `grpc`), so
 * what is shown can be written back and loads as the same service.
 */
export function kongService<S extends Pick<ServiceEntity, 'protocol' | 'grpc'>>(
  service: S,
): Omit<S, 'grpc' | 'protocol'> & { protocol: string } {
  const { grpc, protocol, ...rest } = service
  return { ...rest, protocol: grpc ? (protocol === 'https' ? 'grpcs' : 'grpc') : protocol }
}

export interface RouteEntity {
  readonly id: string
  readonly name: string | null
  readonly service: EntityRef | null
  readonly protocols: readonly string[]
  readonly methods: readonly string[] | null
  readonly hosts: readonly string[] | null
  readonly paths: readonly string[] | null
  readonly headers: Readonly<Record<string, readonly string[]>> | null
  readonly https_redirect_status_code: number
  readonly regex_priority: number
  readonly strip_path: boolean
  readonly path_handling: 'v0' | 'v1'
  readonly preserve_host: boolean
  readonly request_buffering: boolean
  readonly response_buffering: boolean
  readonly snis: readonly string[] | null
  readonly tags: readonly string[] | null
  /** A Gatehouse extension: the route answers from several services at once (then `service` is null). */
  readonly composition: Composition | null
  readonly created_at: number
  readonly updated_at: number
}

/** A route's composition with its defaults resolved (config/normalize-composition.ts). */
export interface Composition {
  /** Milliseconds from the start of the composition to the answer. */
  readonly timeout: number
  readonly parts: readonly CompositionPart[]
}

export interface CompositionPart {
  readonly name: string
  readonly service: EntityRef
  /** Path and optional query with `{capture}` placeholders, as written (the service path is added later). */
  readonly path: string
  /** `aud` of the internal token for this part. */
  readonly audience: string
  /** Milliseconds, at most the composition's timeout. */
  readonly timeout: number
  readonly required: boolean
  readonly public: boolean
}

export interface ConsumerEntity {
  readonly id: string
  readonly username: string | null
  readonly custom_id: string | null
  readonly tags: readonly string[] | null
  readonly created_at: number
  readonly updated_at: number
}

/** A load-balanced virtual host (Kong's upstreams); a service whose `host` is `name` is balanced. */
export interface UpstreamEntity {
  readonly id: string
  /** Lower-cased, as service hosts are. */
  readonly name: string
  readonly algorithm: 'round-robin' | 'least-connections'
  readonly hash_on: 'none'
  readonly hash_fallback: 'none'
  readonly hash_on_header: string | null
  readonly hash_fallback_header: string | null
  readonly hash_on_cookie: string | null
  readonly hash_on_cookie_path: string
  readonly hash_on_query_arg: string | null
  readonly hash_fallback_query_arg: string | null
  readonly hash_on_uri_capture: string | null
  readonly hash_fallback_uri_capture: string | null
  readonly slots: number
  /** Every key present, defaults applied (schema/upstream.ts). */
  readonly healthchecks: Healthchecks
  readonly host_header: string | null
  readonly use_srv_name: false
  readonly tags: readonly string[] | null
  readonly created_at: number
  readonly updated_at: number
}

/** One backend of an upstream: `host:port` (port filled in, Kong's default 8000) and its weight. */
export interface TargetEntity {
  readonly id: string
  readonly upstream: EntityRef
  readonly target: string
  /** 0..65535; 0 disables the target. */
  readonly weight: number
  readonly tags: readonly string[] | null
  readonly created_at: number
  readonly updated_at: number
}

export interface PluginEntity {
  readonly id: string
  readonly name: string
  readonly instance_name: string | null
  /** Parsed by the plugin's schema, defaults applied. */
  readonly config: unknown
  readonly enabled: boolean
  readonly protocols: readonly string[]
  readonly service: EntityRef | null
  readonly route: EntityRef | null
  readonly consumer: EntityRef | null
  readonly tags: readonly string[] | null
  readonly created_at: number
  readonly updated_at: number
}

/**
 * A consumer's credential, owned by the plugin that defines it (jwt_secrets by jwt, keyauth_credentials by
 * key-auth, ...). The core fills the common fields; the plugin's entity definition fills the rest.
 */
export interface CredentialEntity {
  readonly id: string
  readonly consumer: EntityRef
  readonly tags: readonly string[] | null
  readonly created_at: number
  readonly [field: string]: unknown
}

export interface GatewaySettings {
  readonly proxy: Readonly<z.output<typeof proxySettings>>
  readonly admin: Readonly<z.output<typeof adminSettings>>
  readonly logging: Readonly<z.output<typeof loggingSettings>>
  readonly identity: IdentityConfig
  readonly internal_tokens: InternalTokensSettings
  /** The shared Redis (schema/redis.ts); null when the file has no `redis` section. */
  readonly redis: RedisSettings | null
  /** One backend (schema/storage.ts): a SQLite file (absolute, or `:memory:`) or a PostgreSQL database. */
  readonly storage: StorageSettings
  /** `storage.entities`: entities from this file (DB-less) or from the store (DB mode, db-mode/). */
  readonly entities: 'file' | 'database'
}

export interface GatewayConfig {
  /** Where it came from: a file path, or `POST /config`. */
  readonly source: string
  /** sha256 of the document as written (vault references unresolved, so it never depends on a secret), hex. */
  readonly hash: string
  readonly settings: GatewaySettings
  readonly services: readonly ServiceEntity[]
  readonly routes: readonly RouteEntity[]
  readonly consumers: readonly ConsumerEntity[]
  readonly plugins: readonly PluginEntity[]
  readonly upstreams: readonly UpstreamEntity[]
  /** Every upstream's targets, in file order. */
  readonly targets: readonly TargetEntity[]
  /** Credentials by entity name (`jwt_secrets`, `keyauth_credentials`, ...), each list in file order. */
  readonly credentials: Readonly<Record<string, readonly CredentialEntity[]>>
  /** Things worth a warning that do not stop the load (a generated secret, say), as `path: message`. */
  readonly notices: readonly string[]
  /**
   * Values read through vault references, value → the reference as written (`{vault://env/NAME}`), so
   * the admin API can show the reference instead of the secret. A Map: never serialised.
   */
  readonly vaultReferences: ReadonlyMap<string, string>
}
