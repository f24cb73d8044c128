/**
 * Which plugins lean on the top-level `redis` section, checked when the file loads (a plugin's own schema
 * cannot see the rest of the file). Kong's plugins name their Redis as `policy: redis` plus `redis.host`;
 * in Gatehouse a plugin with `policy: redis` and no `redis.host` of its own uses the shared section, so
 * that section must exist. So must it for sessions kept in Redis (session `storage: redis`) and DPoP
 * proofs remembered there (openid-connect `dpop.replay: redis`), which have no Redis of their own.
 */
import type { DeclarativeDocument } from '../config/schema/root.ts'
import type { ConfigIssue } from '../errors/errors.ts'
import type { PluginRegistry } from '../plugins/registry.ts'

interface RawPlugin {
  readonly name: string
  readonly config?: Record<string, unknown> | undefined
}

/** Where a parsed plugin config asks for the shared Redis (`policy`, `storage`, `dpop.replay`), or null. */
export function sharedRedisField(config: unknown): string | null {
  if (typeof config !== 'object' || config === null) return null
  const c = config as {
    policy?: unknown
    redis?: { host?: unknown } | null
    storage?: unknown
    strategy?: unknown
    dpop?: { replay?: unknown } | null
  }
  if (c.policy === 'redis' && (c.redis?.host ?? null) === null) return 'policy'
  if (c.storage === 'redis') return 'storage'
  if (c.dpop?.replay === 'redis') return 'dpop.replay'
  if (c.strategy === 'redis') return 'strategy' // proxy-cache
  return null
}

/** A parsed plugin config that asks for the shared Redis. */
export function usesSharedRedis(config: unknown): boolean {
  return sharedRedisField(config) !== null
}

/** One issue per plugin that needs the top-level `redis` section when the file has none. */
export function sharedRedisIssues(doc: DeclarativeDocument, registry: PluginRegistry): ConfigIssue[] {
  if (doc.redis !== undefined) return []
  const issues: ConfigIssue[] = []
  const check = (list: readonly RawPlugin[] | undefined, at: string) => {
    for (const [i, p] of (list ?? []).entries()) {
      const parsed = registry.get(p.name)?.schema.safeParse(p.config ?? {})
      const field = parsed?.success ? sharedRedisField(parsed.data) : null
      if (field !== null)
        issues.push({
          path: `${at}plugins[${i}].config.${field}`,
          message:
            field === 'policy'
              ? "'redis' needs a Redis server: add the top-level `redis` section (shared by every plugin), or set config.redis.host"
              : "'redis' needs a Redis server: add the top-level `redis` section (shared by every plugin)",
        })
    }
  }
  check(doc.plugins, '')
  for (const [i, s] of (doc.services ?? []).entries()) {
    check(s.plugins, `services[${i}].`)
    for (const [j, r] of (s.routes ?? []).entries()) check(r.plugins, `services[${i}].routes[${j}].`)
  }
  for (const [i, r] of (doc.routes ?? []).entries()) check(r.plugins, `routes[${i}].`)
  for (const [i, c] of (doc.consumers ?? []).entries()) check(c.plugins, `consumers[${i}].`)
  return issues
}
