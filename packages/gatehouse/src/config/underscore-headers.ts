/**
 * Header names with `_` that a configuration relies on while proxy.headers_with_underscores keeps them
 * from everything after the parse stage (proxy/header-names.ts):
 * - a route's `headers` matcher on such a name can never match, so the file is refused: there is no
 *   reading of it that works, and a silently dead route is worse than a clear error at load;
 * - a plugin that reads such a header (key-auth `key_names`, jwt `header_names`, ...) only gets a
 *   notice: the same name may still work elsewhere (key-auth also reads it as a query parameter, and
 *   the header with `-`), so the configuration stays usable.
 */
import type { PluginRegistry } from '../plugins/registry.ts'
import type { PluginEntity, RouteEntity } from './model.ts'

export function checkUnderscoreHeaders(
  action: 'drop' | 'reject' | 'allow',
  routes: readonly { entity: RouteEntity; at: string }[],
  plugins: readonly { entity: PluginEntity; at: string }[],
  registry: PluginRegistry,
  issue: (path: string, message: string) => void,
  notice: (message: string) => void,
): void {
  if (action === 'allow') return
  const setting = `proxy.headers_with_underscores is ${action}`
  for (const { entity, at } of routes) {
    for (const name of Object.keys(entity.headers ?? {})) {
      if (name.includes('_'))
        issue(
          `${at}.headers.${name}`,
          `'${name}' contains '_' and can never match: ${setting}, so such request headers never reach the router (use '-', or set it to allow)`,
        )
    }
  }
  for (const { entity, at } of plugins) {
    const uses = registry.get(entity.name)?.requestHeaders?.(entity.config as never) ?? []
    for (const { key, name } of uses) {
      if (name.includes('_'))
        notice(
          `${at}.config.${key}: request header '${name}' contains '_', and ${setting}, so plugin '${entity.name}' never sees it in a header`,
        )
    }
  }
}
