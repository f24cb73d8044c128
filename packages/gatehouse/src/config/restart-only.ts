/**
 * Which restart-only settings (RESTART_ONLY: listeners, the log level) a reload changed: the reload
 * keeps running with the old values, and the operator is told which apply at the next restart.
 */
import type { GatewayConfig } from './model.ts'
import { RESTART_ONLY } from './schema/settings.ts'

/** The dotted names (`proxy.listen`, `proxy.tls.http2`) of the restart-only settings that differ. */
export function restartOnlyChanges(before: GatewayConfig, after: GatewayConfig): string[] {
  const changed: string[] = []
  for (const [section, keys] of Object.entries(RESTART_ONLY)) {
    const was = before.settings[section as keyof typeof RESTART_ONLY] as Record<string, unknown>
    const is = after.settings[section as keyof typeof RESTART_ONLY] as Record<string, unknown>
    for (const key of keys) if (valueAt(was, key) !== valueAt(is, key)) changed.push(`${section}.${key}`)
  }
  return changed
}

/** `a.b` of a settings section (RESTART_ONLY names keys of nested sections so). */
function valueAt(section: Record<string, unknown> | undefined, key: string): unknown {
  let value: unknown = section
  for (const part of key.split('.')) value = (value as Record<string, unknown> | undefined)?.[part]
  return value
}
