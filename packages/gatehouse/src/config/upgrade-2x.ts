/**
 * Kong's 2.x → 3.0 changes to a declarative file of `_format_version` "1.1" or "2.1", applied before the
 * file is checked, as Kong 3.x does on the fly (kong/db/declarative/migrations/route_path.lua) and decK's
 * `file convert --from kong-gateway-2.x` does to the file. The loader applies them to what it loads and
 * logs one notice per change, naming where it is; `gatehouse config convert` applies them to the file
 * itself (as edits, so a YAML file keeps its comments and layout). The rules, each in its own module:
 * route paths (upgrade-2x-paths.ts) and plugin configs (upgrade-2x-plugins.ts); docs/configuration.md
 * lists them, and what Kong's upgrade notes change that needs nothing here.
 */
import type { ConfigIssue } from '../errors/errors.ts'
import { upgradeRoutePath } from './upgrade-2x-paths.ts'
import {
  type Edit,
  isRecord,
  type KeyPath,
  pathText,
  toIssue,
  type UpgradeSink,
  upgradePluginConfig,
} from './upgrade-2x-plugins.ts'

export type { Edit, KeyPath } from './upgrade-2x-plugins.ts'

/** The `_format_version`s Kong 3.x loads (declarative_config.lua); the older two are upgraded. */
export const FORMAT_VERSIONS = ['1.1', '2.1', '3.0'] as const
export const CURRENT_FORMAT_VERSION = '3.0'
export const UNSUPPORTED_FORMAT_VERSION = `unsupported format version; expected one of ${FORMAT_VERSIONS.map((v) => `"${v}"`).join(', ')} (Kong's declarative formats; "1.1" and "2.1" are upgraded to "3.0" on load)`

export interface FormatUpgrade {
  /** The version the file declares. */
  readonly from: string
  /** Every change, `_format_version` last. */
  readonly edits: readonly Edit[]
  /** One per change, as `path: message`, and a first one for the file. */
  readonly notices: readonly string[]
  /** What cannot be upgraded without a choice only the author can make. */
  readonly issues: readonly ConfigIssue[]
}

/** The changes a format 1.1/2.1 document needs to be read as 3.0, or null for any other document. */
export function planUpgrade(doc: unknown): FormatUpgrade | null {
  if (!isRecord(doc)) return null
  const from = doc._format_version
  if (from !== '1.1' && from !== '2.1') return null
  const edits: Edit[] = []
  const changes: string[] = []
  const issues: ConfigIssue[] = []
  const sink: UpgradeSink = {
    edit: (edit) => edits.push(edit),
    notice: (path, message) => changes.push(`${pathText(path)}: format ${from}: ${message}`),
    issue: (path, message) => issues.push(toIssue(path, `format ${from}: ${message}`)),
  }
  for (const [route, at] of routesOf(doc)) upgradeRoutePaths(route, at, sink)
  for (const [plugin, at] of pluginsOf(doc)) upgradePluginConfig(plugin, at, sink)
  edits.push({ path: ['_format_version'], value: CURRENT_FORMAT_VERSION })
  const summary =
    `_format_version: "${from}" is read as "${CURRENT_FORMAT_VERSION}" with Kong's 2.x → 3.0 changes ` +
    `(${changes.length === 0 ? 'none applies to this file' : `${changes.length} below`}); ` +
    '`gatehouse config convert` writes the 3.0 file'
  return { from, edits, notices: [summary, ...changes], issues }
}

/** A copy of `doc` with `edits` applied; `doc` is left as it is. */
export function applyEdits(doc: Record<string, unknown>, edits: readonly Edit[]): Record<string, unknown> {
  const copy = structuredClone(doc)
  for (const { path, value } of edits) {
    let parent: unknown = copy
    for (const key of path.slice(0, -1)) parent = (parent as Record<string | number, unknown>)[key]
    const last = path[path.length - 1]!
    const target = parent as Record<string | number, unknown>
    if (value === undefined) delete target[last]
    else target[last] = value
  }
  return copy
}

function upgradeRoutePaths(route: Record<string, unknown>, at: KeyPath, sink: UpgradeSink): void {
  if (!Array.isArray(route.paths)) return
  for (const [k, path] of route.paths.entries()) {
    if (typeof path !== 'string') continue
    const upgraded = upgradeRoutePath(path)
    if (upgraded === null) continue
    sink.edit({ path: [...at, 'paths', k], value: upgraded })
    sink.notice(
      [...at, 'paths', k],
      `'${path}' is a regular expression (Kong 2.x guessed so from its characters); read as '${upgraded}'`,
    )
  }
}

/** Routes where a declarative file puts them: top-level, and nested in services. */
function* routesOf(doc: Record<string, unknown>): Generator<[Record<string, unknown>, KeyPath]> {
  for (const [i, service] of entries(doc.services))
    for (const [j, route] of entries(service.routes)) yield [route, ['services', i, 'routes', j]]
  for (const [i, route] of entries(doc.routes)) yield [route, ['routes', i]]
}

/** Plugins where a declarative file puts them: top-level, and nested in services, routes and consumers. */
function* pluginsOf(doc: Record<string, unknown>): Generator<[Record<string, unknown>, KeyPath]> {
  for (const [i, plugin] of entries(doc.plugins)) yield [plugin, ['plugins', i]]
  for (const [i, service] of entries(doc.services)) {
    for (const [j, plugin] of entries(service.plugins)) yield [plugin, ['services', i, 'plugins', j]]
    for (const [j, route] of entries(service.routes))
      for (const [k, plugin] of entries(route.plugins))
        yield [plugin, ['services', i, 'routes', j, 'plugins', k]]
  }
  for (const [i, route] of entries(doc.routes))
    for (const [j, plugin] of entries(route.plugins)) yield [plugin, ['routes', i, 'plugins', j]]
  for (const [i, consumer] of entries(doc.consumers))
    for (const [j, plugin] of entries(consumer.plugins)) yield [plugin, ['consumers', i, 'plugins', j]]
}

/** The mappings in a list, with their indexes; anything else the schema reports later. */
function entries(list: unknown): [number, Record<string, unknown>][] {
  if (!Array.isArray(list)) return []
  return list.flatMap((item, i) => (isRecord(item) ? [[i, item] as [number, Record<string, unknown>]] : []))
}
