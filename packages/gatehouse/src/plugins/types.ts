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
import type { z } from 'zod'
import type { Logger } from '../observability/logger.ts'
import type { PriorityBand } from '../pipeline/phases.ts'
import type { RequestState } from '../pipeline/request-state.ts'

/** The per-instance handler `create` returns. Every method is optional; absent phases cost nothing. */
export interface PluginHandler {
  /**
   * Before the request is forwarded, in priority order. May change the upstream request, or end the
   * request with `state.exit(...)` (later plugins and the upstream are then skipped). A returned
   * promise is awaited; return nothing when the work is synchronous, which keeps the hot path free of
   * promises.
   */
  access?(state: RequestState): void | Promise<void>
  /**
   * When the response headers are known (from the upstream, an `exit`, or an error), before they are
   * sent. Synchronous: edit `state.response.headers`. Runs for every plugin whose `access` ran.
   */
  response?(state: RequestState): void
  /** After the response was sent (or the client went away). Must not throw. */
  log?(state: RequestState): void
  /** Called when the configuration that created this instance is replaced. */
  close?(): void | Promise<void>
}

/** What `create` receives besides the validated config. */
export interface PluginCreateContext {
  /** The plugin entity's id. */
  readonly id: string
  readonly logger: Logger
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
  /** Builds the instance once per configuration load; do the expensive work here, not per request. */
  create(config: Config, context: PluginCreateContext): PluginHandler
}
