/**
 * Plugin configs in a format 1.1/2.1 file: the keys Kong 3.0 removed, moved to what replaced them.
 * - `whitelist` → `allow`, `blacklist` → `deny`: Kong 2.1 renamed them (acl, ip-restriction,
 *   bot-detection kept them as shorthands) and 3.0 removed the old names; decK's `file convert`
 *   (convert/plugin_updates.go updateLegacyPluginConfig) renames them in every plugin, with its rules:
 *   an empty old value gives way to the new one, an empty new value to the old one, two values conflict.
 * - http-log `headers`: a list of values per header in 2.x, one string in 3.0. Kong's own 3.0 migration
 *   (kong/plugins/http-log/migrations/001_280_to_300.lua) joins the list with ", " (what 2.x sent) and
 *   drops a header whose list is empty (2.x did not send it).
 */
import type { ConfigIssue } from '../errors/errors.ts'
import { joinPath } from './format-issues.ts'

export type KeyPath = readonly (string | number)[]

/** One change to the document: `value` at `path`, or the key removed when `value` is undefined. */
export interface Edit {
  readonly path: KeyPath
  readonly value?: unknown
}

export interface UpgradeSink {
  edit(edit: Edit): void
  notice(path: KeyPath, message: string): void
  issue(path: KeyPath, message: string): void
}

const RENAMED = [
  ['whitelist', 'allow'],
  ['blacklist', 'deny'],
] as const

export function upgradePluginConfig(plugin: Record<string, unknown>, at: KeyPath, sink: UpgradeSink): void {
  const config = plugin.config
  if (!isRecord(config)) return
  const base = [...at, 'config']
  for (const [old, now] of RENAMED) {
    if (!(old in config)) continue
    const before = config[old]
    const after = config[now]
    if (!isEmpty(before) && !isEmpty(after)) {
      sink.issue(
        [...base, old],
        `both '${old}' (removed in Kong 3.0) and '${now}' are set; keep '${now}' alone`,
      )
      sink.edit({ path: [...base, old] }) // reported once, not again as an unknown key
      continue
    }
    sink.edit({ path: [...base, old] })
    if (isEmpty(after) && !isEmpty(before)) sink.edit({ path: [...base, now], value: before })
    sink.notice([...base, old], `renamed to '${now}' (Kong 3.0 removed '${old}')`)
  }
  if (plugin.name === 'http-log' && isRecord(config.headers))
    upgradeHttpLogHeaders(config.headers, base, sink)
}

function upgradeHttpLogHeaders(headers: Record<string, unknown>, base: KeyPath, sink: UpgradeSink): void {
  const at = [...base, 'headers']
  const entries = Object.entries(headers)
  const lists = entries.filter(([, v]) => Array.isArray(v))
  if (lists.length === 0) return
  if (lists.every(([, v]) => (v as unknown[]).length === 0) && lists.length === entries.length) {
    sink.edit({ path: at })
    sink.notice(at, 'removed: every header had an empty list of values, which Kong 2.x did not send')
    return
  }
  for (const [name, values] of lists as [string, unknown[]][]) {
    if (values.length === 0) {
      sink.edit({ path: [...at, name] })
      sink.notice([...at, name], 'removed: an empty list of values, which Kong 2.x did not send')
    } else {
      // The values are not quoted: a header here often carries a credential.
      sink.edit({ path: [...at, name], value: values.map(String).join(', ') })
      sink.notice([...at, name], 'the list of values is now one string, joined with ", " as Kong 2.x sent it')
    }
  }
}

/** `services[0].plugins[1].config` for a key path. */
export function pathText(path: KeyPath): string {
  return path.reduce<string>((out, key) => joinPath(out, key), '')
}

export function toIssue(path: KeyPath, message: string): ConfigIssue {
  return { path: pathText(path), message }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (Array.isArray(value) && value.length === 0)
}
