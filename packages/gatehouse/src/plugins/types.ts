/**
 * The contract a gateway plugin implements. A plugin is a folder with `plugin.ts` (this interface) and
 * `schema.ts` (its zod config schema); the registry loads it by name and refuses a malformed one.
 *
 * @example
 * ```ts
 * export const plugin: GatewayPlugin<MyConfig> = {
 *   name: 'my-plugin', version: '1.0.0', priority: 801, phase: 'transform',
 *   description: 'Adds a header.', schema: myConfigSchema,
 *   create: (config) => ({ access(state) { state.setUpstreamHeader('x-my', config.value) } }),
 * }
 * ```
 */

import type { Registry } from 'prom-client'
import type { z } from 'zod'
import type { ConsumerEntity, CredentialEntity } from '../config/model.ts'
import type { InternalTokensSettings } from '../config/schema/internal-tokens.ts'
import type { RedisSettings } from '../config/schema/redis.ts'
import type { ProviderKeys } from '../identity/keys/provider-keys.ts'
import type { InternalKeyRing } from '../internal-tokens/key-ring.ts'
import type { Logger } from '../observability/logger.ts'
import type { PriorityBand } from '../pipeline/phases.ts'
import type { RequestState } from '../pipeline/request-state.ts'

/** The per-instance handler `create` returns. Every method is optional; absent phases cost nothing. */
export interface PluginHandler {
  /**
   * Before the request is forwarded, in priority order. May change the upstream request, or end the
   * request with `state.exit(...)` (later plugins and the upstream are then skipped), or watch the
   * upstream's response body stream by with `state.tapResponse(...)` (ResponseTap). A returned
   * promise is awaited; return nothing when the work is synchronous, which keeps the hot path free of
   * promises.
   */
  access?(state: RequestState): void | Promise<void>
  /**
   * When the response headers are known (from the upstream, an `exit`, or an error), before they are
   * sent. Synchronous: edit `state.response.headers`. Runs for every plugin whose `access` ran.
   */
  response?(state: RequestState): void
  /**
   * After the response was sent (or the client went away), for every plugin on the route, also those
   * after a plugin that answered (Kong's log phase: refused requests are logged and counted too), with
   * `state.finalStatus` and `state.totalLatency` set. Must not throw, and must not hold the request up:
   * queue slow work (log-shipping plugins batch and send later).
   */
  log?(state: RequestState): void
  /**
   * For a plugin that may read the whole request body (`state.readBody`): whether it will for this
   * request, judged from the head alone, before any plugin runs. When it says yes and Content-Length
   * announces more than proxy.max_buffered_body_size, the pipeline answers 413 at once: no plugin runs,
   * nothing is read and the upstream is not called. When it cannot tell yet (it depends on what earlier
   * plugins decide), it says no and `readBody` still refuses the announced length before reading.
   */
  readsBody?(state: RequestState): boolean
  /**
   * A tracing plugin's global instance: opens the trace (`state.trace`) of a request that has no route
   * and so runs no chain: the gateway's own endpoints (the identity provider's, the internal-token JWKS),
   * a request no route matched, and one refused before routing. Called for the first such global
   * instance only.
   */
  traceBuiltin?(state: RequestState): void
  /** Called when the configuration that created this instance is replaced. */
  close?(): void | Promise<void>
}

/** What `create` receives besides the validated config. */
export interface PluginCreateContext {
  /** The plugin entity's id. */
  readonly id: string
  readonly logger: Logger
  /** Every consumer of the configuration, by id. */
  readonly consumers: ReadonlyMap<string, ConsumerEntity>
  /** The consumer a reference (username, custom_id or id) names, as Kong resolves `anonymous`. */
  findConsumer(reference: string): ConsumerEntity | undefined
  /** The credentials of one entity kind (e.g. `jwt_secrets`), in file order. */
  credentials(entity: string): readonly CredentialEntity[]
  /**
   * A value built once per configuration and shared by every instance of this plugin (an index of
   * credentials, say), so N routes with the plugin do not build N copies.
   */
  memo<T>(key: string, build: () => T): T
  /**
   * The gateway's internal-token signing keys (they live across reloads) and the `internal_tokens`
   * settings of the configuration being loaded.
   */
  readonly internalTokens: { readonly ring: InternalKeyRing; readonly settings: InternalTokensSettings }
  /**
   * The top-level `redis` section of the configuration being loaded (null without one): the server
   * revocations, shared sessions and DPoP proofs live in (src/redis/). Open connections lazily or hold a
   * lease released in `close`.
   */
  readonly redis: RedisSettings | null
  /**
   * The gateway's built-in identity provider when the configuration enables it: its issuer and its
   * public signing keys in process (a verifier of its tokens needs no HTTP fetch); null otherwise.
   */
  readonly identityProvider: { readonly issuer: string; readonly keys: ProviderKeys } | null
  /** The gateway's metrics registry (/metrics), for a plugin that adds families of its own (prometheus). */
  readonly metrics: Registry
}

/** What a credential definition's `build` receives. */
export interface CredentialBuildContext {
  /** Key path of the entity in the file, e.g. `consumers[0].jwt_secrets[1]`. */
  readonly at: string
  readonly consumer: ConsumerEntity
  /** Reports a problem with one field (or the whole entity when `field` is null). */
  issue(field: string | null, message: string): void
  /**
   * A random value for a field the file leaves out (Kong's `auto = true`), kept for this entity across
   * reloads of this process. It changes when the process restarts, so a warning says to write it down.
   */
  generated(field: string, make: () => string): string
}

/**
 * A kind of consumer credential a plugin owns (Kong's daos.lua): how it appears in declarative files
 * (nested under a consumer, or top-level with `consumer:`) and in the admin API.
 */
export interface CredentialDefinition {
  /** Key in declarative files, e.g. `jwt_secrets`. */
  readonly name: string
  /** Admin API: the collection (`/jwts`) and the name nested under a consumer (`/consumers/{c}/jwt`). */
  readonly adminCollection: string
  readonly adminNested: string
  /** The field that names an entity in admin URLs and its stable id (Kong's endpoint_key), if any. */
  readonly endpointKey: string | null
  /**
   * The endpoint key is a secret (an API key): ids are then not derived from it, since an id travels
   * upstream and into logs and a hash of a weak key can be searched offline.
   */
  readonly endpointKeyIsSecret?: boolean
  /** Fields unique across every entity of this kind. */
  readonly unique: readonly string[]
  /** Fields unique within one consumer (acl groups). */
  readonly uniquePerConsumer?: readonly string[]
  /** The fields a file may give (zod, each `.describe()`d); `id`, `tags` and `consumer` are added by the core. */
  readonly fields: z.ZodRawShape
  /** The stored fields from the parsed ones: defaults, generated values, hashes. Report problems with `ctx.issue`. */
  build(fields: Record<string, unknown>, ctx: CredentialBuildContext): Record<string, unknown>
  /** The entity as the admin API shows it; drop what must never leave the process. Default: unchanged. */
  present?(entity: CredentialEntity): Record<string, unknown>
}

/** Where an instance of the plugin may be attached. Defaults: everywhere. */
export interface PluginScopes {
  global: boolean
  service: boolean
  route: boolean
  consumer: boolean
}

export interface GatewayPlugin<Config = unknown> {
  /** The name used in configuration files; Kong's name where Kong has the same plugin. */
  readonly name: string
  /** `x.y.z`. */
  readonly version: string
  /** Higher runs first; must lie inside the band's range (see pipeline/phases.ts). */
  readonly priority: number
  /** The stage of the pipeline the plugin belongs to. */
  readonly band: PriorityBand
  /** One line for docs/plugins.md. */
  readonly description: string
  /** Config schema: strict objects with `.describe()` on every key. Parsed once at load. */
  readonly schema: z.ZodType<Config>
  readonly scopes?: Partial<PluginScopes>
  /** Credential kinds this plugin owns. */
  readonly credentials?: readonly CredentialDefinition[]
  /**
   * Loads what the plugin runs on and most configurations never use (an SDK of a few hundred modules),
   * so that a process whose configuration has no instance of the plugin never imports it. Awaited once
   * per process, before the first runtime with an instance of the plugin is built
   * (PluginRegistry.prepare); `create` and the handlers then use what it loaded synchronously. Must be
   * safe to call again (return the same promise).
   *
   * @example
   * ```ts
   * prepare: () => (sdk ??= import('./sdk.ts')).then(() => {}),
   * ```
   */
  prepare?(): Promise<void>
  /** Builds the instance once per configuration load; do the expensive work here, not per request. */
  create(config: Config, context: PluginCreateContext): PluginHandler
  /**
   * Upstream headers an instance with this config sets to tell the upstream who called (a claim copied
   * into a header, the internal token's header). The core removes them from every client request on
   * every route, as it does the built-in identity headers (proxy/identity-headers.ts), since an upstream
   * cannot tell a route where the plugin set one from a route where a client did.
   *
   * @example
   * ```ts
   * identityHeaders: (config) => Object.values(config.claims_to_headers ?? {}),
   * ```
   */
  identityHeaders?(config: Config): readonly string[]
  /**
   * Request header names an instance with this config reads, with the config key naming each
   * (`key_names[1]`), so the loader can warn when proxy.headers_with_underscores keeps one from it.
   */
  requestHeaders?(config: Config): readonly RequestHeaderUse[]
}

/** A request header a plugin reads, and the config key that names it. */
export interface RequestHeaderUse {
  /** Key path inside the plugin's `config`, e.g. `key_names[1]`. */
  readonly key: string
  readonly name: string
}
