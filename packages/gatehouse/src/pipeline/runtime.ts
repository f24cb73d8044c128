/**
 * A configuration made runnable: router, route contexts, plugin instances and upstream pools. Built
 * whole from a loaded configuration and swapped in one assignment on reload, so a request sees either
 * the old runtime or the new one, never a mix.
 */
import { BlockList, isIPv6 } from 'node:net'
import { planComposition } from '../composition/plan.ts'
import type { ConsumerEntity, GatewayConfig, PluginEntity, ServiceEntity } from '../config/model.ts'
import { ConfigError, type ConfigIssue } from '../errors/errors.ts'
import { ProviderKeys } from '../identity/keys/provider-keys.ts'
import type { InternalKeyRing } from '../internal-tokens/key-ring.ts'
import type { Logger } from '../observability/logger.ts'
import type { GatewayMetrics } from '../observability/metrics.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import type { PluginHandler } from '../plugins/types.ts'
import { IDENTITY_HEADERS } from '../proxy/identity-headers.ts'
import type { UpstreamRegistry } from '../proxy/upstreams.ts'
import { Router } from '../router/router.ts'
import { compilePluginChain, type PluginInstance } from './plugin-chain.ts'
import { RouteContext } from './route-context.ts'

export interface RuntimeDependencies {
  readonly registry: PluginRegistry
  readonly upstreams: UpstreamRegistry
  readonly metrics: GatewayMetrics
  readonly logger: Logger
  readonly internalKeys: InternalKeyRing
  /**
   * The built-in identity provider's keys in process (they live across reloads); absent where no
   * provider runs (a configuration check).
   */
  readonly providerKeys?: ProviderKeys | undefined
}

export class GatewayRuntime {
  readonly config: GatewayConfig
  readonly router: Router<RouteContext>
  /** Every route's compiled context, in the configuration's order (a dry run names one: pipeline/explain.ts). */
  readonly routeContexts: readonly RouteContext[]
  readonly consumers: ReadonlyMap<string, ConsumerEntity>
  readonly pluginInstances: readonly PluginInstance[]
  /** Upstream pool and balancer keys this runtime uses (the others can be closed after a swap). */
  readonly upstreamKeys: ReadonlySet<string>
  /** Peers whose X-Forwarded-* headers are trusted; null when none are. */
  readonly trustedProxies: BlockList | null
  /**
   * Header names removed from every client request (lower-case): the built-in identity headers and those
   * this configuration's plugins declare (GatewayPlugin.identityHeaders).
   */
  readonly identityHeaders: ReadonlySet<string>
  /**
   * The global tracing instance (opentelemetry) that traces requests without a route: the gateway's own
   * endpoints, unmatched and refused-before-routing requests (PluginHandler.traceBuiltin); null without
   * one, and then those requests cost nothing more.
   */
  readonly builtinTracer: PluginHandler | null

  constructor(config: GatewayConfig, deps: RuntimeDependencies) {
    this.config = config
    const services = new Map(config.services.map((s) => [s.id, s]))
    this.consumers = new Map(config.consumers.map((c) => [c.id, c]))
    const problems: ConfigIssue[] = []
    const consumers = this.consumers
    const byReference = new Map<string, ConsumerEntity>()
    // Kong resolves a consumer reference (e.g. `anonymous`) as an id, then a username; custom_id last.
    for (const c of config.consumers) if (c.custom_id !== null) byReference.set(c.custom_id, c)
    for (const c of config.consumers) if (c.username !== null) byReference.set(c.username, c)
    for (const c of config.consumers) byReference.set(c.id, c)
    const memos = new Map<string, unknown>()
    const identity = config.settings.identity
    const identityProvider =
      identity.enabled && identity.issuer !== undefined
        ? { issuer: identity.issuer, keys: deps.providerKeys ?? new ProviderKeys() }
        : null
    this.pluginInstances = config.plugins.flatMap((entity) => {
      const def = deps.registry.get(entity.name)!
      if (!deps.registry.prepared(entity.name))
        throw new TypeError(`plugin '${entity.name}' is not prepared: await preparePlugins(config) first`)
      try {
        const handler = def.create(entity.config as never, {
          id: entity.id,
          logger: deps.logger.child({ plugin: entity.name, plugin_id: entity.id }),
          consumers,
          findConsumer: (reference) => byReference.get(reference),
          credentials: (name) => config.credentials[name] ?? [],
          internalTokens: { ring: deps.internalKeys, settings: config.settings.internal_tokens },
          redis: config.settings.redis,
          identityProvider,
          metrics: deps.metrics.registry,
          memo: <T>(key: string, build: () => T): T => {
            const k = `${entity.name}\0${key}`
            if (!memos.has(k)) memos.set(k, build())
            return memos.get(k) as T
          },
        })
        return [{ entity, handler, priority: def.priority }]
      } catch (err) {
        // A config the schema let through but the plugin cannot use is a config error, named, not a crash.
        problems.push({
          path: pluginPath(config, entity),
          message: `plugin '${entity.name}' cannot use this config: ${(err as Error).message}`,
        })
        return []
      }
    })
    if (problems.length > 0) throw new ConfigError(config.source, problems)
    const keys = new Set<string>()
    const acquire = (service: ServiceEntity) => {
      const upstream = deps.upstreams.acquire(service, config)
      keys.add(upstream.key)
      return upstream
    }
    const contexts = config.routes.map((route) => {
      const service = route.service ? (services.get(route.service.id) ?? null) : null
      const upstream = service ? acquire(service) : null
      const composition = route.composition ? planComposition(route.composition, services, acquire) : null
      const chain = compilePluginChain(route, this.pluginInstances)
      const ctx = new RouteContext(
        route,
        service,
        upstream,
        composition,
        chain,
        deps.metrics.forRoute(service ? (service.name ?? service.id) : '', route.name ?? route.id),
      )
      return { route, target: ctx }
    })
    for (const key of deps.upstreams.acquireUpstreams(config)) keys.add(key)
    this.router = new Router(contexts)
    this.routeContexts = contexts.map((c) => c.target)
    this.upstreamKeys = keys
    this.trustedProxies = buildBlockList(config.settings.proxy.trusted_ips)
    this.identityHeaders = identityHeadersOf(config, deps.registry)
    this.builtinTracer =
      this.pluginInstances.find(
        ({ entity: p, handler }) =>
          handler.traceBuiltin !== undefined && p.enabled && !p.route && !p.service && !p.consumer,
      )?.handler ?? null
  }

  /** Lets plugin instances release what they hold. */
  async close(): Promise<void> {
    await Promise.all(this.pluginInstances.map((i) => i.handler.close?.()))
  }
}

/**
 * Loads what the plugins of `config` run on (GatewayPlugin.prepare: the tracing SDK, say), once per
 * process: awaited before `new GatewayRuntime(config)`, so a process loads a plugin's heavy modules only
 * when a configuration has an instance of that plugin.
 */
export function preparePlugins(config: GatewayConfig, registry: PluginRegistry): Promise<void> {
  return registry.prepare(config.plugins.map((p) => p.name))
}

/** Where a plugin is attached, in the file's words: `plugins (cors on route 'api')`. */
function pluginPath(config: GatewayConfig, p: PluginEntity): string {
  const named = (
    list: readonly { id: string; name?: string | null; username?: string | null }[],
    id: string,
  ) => {
    const e = list.find((x) => x.id === id)
    return e?.name ?? e?.username ?? id
  }
  const scope = [
    p.service && `service '${named(config.services, p.service.id)}'`,
    p.route && `route '${named(config.routes, p.route.id)}'`,
    p.consumer && `consumer '${named(config.consumers, p.consumer.id)}'`,
  ].filter(Boolean)
  return `plugins (${p.name}${scope.length > 0 ? ` on ${scope.join(', ')}` : ', global'})`
}

/**
 * Headers a client's request carries for the request itself: never stripped as identity headers, even
 * when a plugin copies a claim into one, since removing them on every route would break every route.
 */
const REQUEST_OWN = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'host',
  'content-length',
  'content-type',
])

function identityHeadersOf(config: GatewayConfig, registry: PluginRegistry): ReadonlySet<string> {
  const names = new Set<string>(IDENTITY_HEADERS)
  for (const entity of config.plugins) {
    if (!entity.enabled) continue
    const declared = registry.get(entity.name)?.identityHeaders?.(entity.config as never) ?? []
    for (const name of declared) if (!REQUEST_OWN.has(name.toLowerCase())) names.add(name.toLowerCase())
  }
  return names
}

function buildBlockList(cidrs: readonly string[]): BlockList | null {
  if (cidrs.length === 0) return null
  const list = new BlockList()
  for (const entry of cidrs) {
    const [address, bits] = entry.split('/') as [string, string | undefined]
    const type = isIPv6(address) ? 'ipv6' : 'ipv4'
    if (bits === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(bits), type)
  }
  return list
}
