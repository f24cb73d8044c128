/**
 * Which plugins lean on the top-level `redis` section, checked when the file loads (a plugin's own schema
 * cannot see the rest of the file). Kong's plugins name their Redis as `policy: redis` plus `redis.host`;
 * in Gatehouse a plugin with `policy: redis` and no `redis.host` of its own uses the shared section, so
 * that section must exist.
 */
import type { DeclarativeDocument } from '../config/schema/root.ts'
import type { ConfigIssue } from '../errors/errors.ts'
import type { PluginRegistry } from '../plugins/registry.ts'

interface RawPlugin {
  readonly name: string
  readonly config?: Record<string, unknown> | undefined
}

/** A parsed plugin config that asks for the shared Redis. */
export function usesSharedRedis(config: unknown): boolean {
  if (typeof config !== 'object' || config === null) return false
  const c = config as { policy?: unknown; redis?: { host?: unknown } | null }
  return c.policy === 'redis' && (c.redis?.host ?? null) === null
}

/** One issue per plugin that needs the top-level `redis` section when the file has none. */
export function sharedRedisIssues(doc: DeclarativeDocument, registry: PluginRegistry): ConfigIssue[] {
  if (doc.redis !== undefined) return []
  const issues: ConfigIssue[] = []
  const check = (list: readonly RawPlugin[] | undefined, at: string) => {
    for (const [i, p] of (list ?? []).entries()) {
      const parsed = registry.get(p.name)?.schema.safeParse(p.config ?? {})
      if (parsed?.success && usesSharedRedis(parsed.data))
        issues.push({
          path: `${at}plugins[${i}].config.policy`,
          message:
            "'redis' needs a Redis server: add the top-level `redis` section (shared by every plugin), or set config.redis.host",
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
