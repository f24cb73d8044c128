/**
 * Finds the bundled plugins (one folder each under src/plugins with a `plugin.ts`; `_shared/` is not one), checks each one's
 * shape and refuses to start with a message naming the plugin when one is malformed. Deleting a
 * plugin's folder removes it; nothing else lists plugins.
 */
import { readdir } from 'node:fs/promises'
import { MODULE_EXT } from '../module-ext.ts'
import { PRIORITY_BANDS } from '../pipeline/phases.ts'
import type { CredentialDefinition, GatewayPlugin } from './types.ts'

export interface PluginRegistry {
  get(name: string): GatewayPlugin | undefined
  names(): string[]
  all(): GatewayPlugin[]
  /** Every credential kind the plugins own, sorted by name. */
  credentialDefinitions(): CredentialDefinition[]
  /**
   * Runs the `prepare` of each named plugin that has one (GatewayPlugin.prepare), once per plugin:
   * awaited before a runtime with instances of those plugins is built.
   */
  prepare(names: Iterable<string>): Promise<void>
  /** Whether the plugin is ready for `create`: it has no `prepare`, or its `prepare` has completed. */
  prepared(name: string): boolean
}

const pluginsDir = new URL('./', import.meta.url)

/** Problems with a plugin definition, empty when it is well-formed. */
export function checkPluginShape(folder: string, candidate: unknown): string[] {
  const p = candidate as Partial<GatewayPlugin> | undefined
  if (!p || typeof p !== 'object') return [`plugin '${folder}': plugin.ts must export \`plugin\``]
  const problems: string[] = []
  const where = `plugin '${folder}'`
  if (p.name !== folder) problems.push(`${where}: name '${String(p.name)}' must equal its folder name`)
  if (typeof p.version !== 'string' || !/^\d+\.\d+\.\d+$/.test(p.version))
    problems.push(`${where}: version must be x.y.z`)
  if (typeof p.description !== 'string' || p.description.length === 0)
    problems.push(`${where}: description must be a non-empty string`)
  const band = p.band !== undefined ? PRIORITY_BANDS[p.band] : undefined
  if (!band) problems.push(`${where}: band must be one of ${Object.keys(PRIORITY_BANDS).join(', ')}`)
  if (!Number.isInteger(p.priority)) problems.push(`${where}: priority must be an integer`)
  else if (band && (p.priority! < band.min || p.priority! > band.max))
    problems.push(
      `${where}: priority ${p.priority} lies outside the ${p.band} band (${band.min}..${band.max})`,
    )
  if (!p.schema || typeof (p.schema as { safeParse?: unknown }).safeParse !== 'function')
    problems.push(`${where}: schema must be a zod schema`)
  if (typeof p.create !== 'function') problems.push(`${where}: create must be a function`)
  for (const hook of ['identityHeaders', 'requestHeaders', 'prepare'] as const)
    if (p[hook] !== undefined && typeof p[hook] !== 'function')
      problems.push(`${where}: ${hook} must be a function when present`)
  for (const [i, c] of (p.credentials ?? []).entries()) {
    const at = `${where}: credentials[${i}]`
    for (const key of ['name', 'adminCollection', 'adminNested'] as const)
      if (typeof c[key] !== 'string' || !/^[a-z][a-z_-]*$/.test(c[key]))
        problems.push(`${at}.${key} must be a lower-case name`)
    if (typeof c.fields !== 'object' || c.fields === null) problems.push(`${at}.fields must be a zod shape`)
    if (typeof c.build !== 'function') problems.push(`${at}.build must be a function`)
  }
  return problems
}

export function createRegistry(plugins: readonly GatewayPlugin[]): PluginRegistry {
  const byName = new Map(plugins.map((p) => [p.name, p]))
  const sorted = [...byName.keys()].sort()
  const credentials = plugins.flatMap((p) => p.credentials ?? []).sort((a, b) => (a.name < b.name ? -1 : 1))
  const ready = new Set(plugins.filter((p) => p.prepare === undefined).map((p) => p.name))
  return {
    get: (name) => byName.get(name),
    names: () => sorted,
    all: () => sorted.map((n) => byName.get(n)!),
    credentialDefinitions: () => credentials,
    async prepare(names) {
      const pending = new Set<string>()
      for (const name of names) if (!ready.has(name) && byName.has(name)) pending.add(name)
      await Promise.all(
        [...pending].map(async (name) => {
          await byName.get(name)!.prepare!()
          ready.add(name)
        }),
      )
    },
    prepared: (name) => ready.has(name),
  }
}

let bundled: Promise<PluginRegistry> | undefined

/** The bundled plugins, loaded once per process. Throws a TypeError naming every malformed plugin. */
export function loadBundledPlugins(): Promise<PluginRegistry> {
  bundled ??= (async () => {
    const entries = await readdir(pluginsDir, { withFileTypes: true })
    // A folder starting with `_` holds code plugins share, not a plugin.
    const folders = entries.filter((e) => e.isDirectory() && !e.name.startsWith('_')).map((e) => e.name)
    const problems: string[] = []
    const plugins: GatewayPlugin[] = []
    for (const folder of folders.sort()) {
      let mod: { plugin?: unknown }
      try {
        mod = (await import(new URL(`./${folder}/plugin${MODULE_EXT}`, pluginsDir).href)) as {
          plugin?: unknown
        }
      } catch (err) {
        problems.push(`plugin '${folder}': cannot load plugin.ts: ${(err as Error).message}`)
        continue
      }
      const shape = checkPluginShape(folder, mod.plugin)
      if (shape.length > 0) problems.push(...shape)
      else plugins.push(mod.plugin as GatewayPlugin)
    }
    const owners = new Map<string, string>()
    for (const p of plugins)
      for (const c of p.credentials ?? []) {
        const other = owners.get(c.name)
        if (other)
          problems.push(`plugin '${p.name}': credential '${c.name}' is already defined by plugin '${other}'`)
        owners.set(c.name, p.name)
      }
    if (problems.length > 0) throw new TypeError(`malformed plugins:\n${problems.join('\n')}`)
    return createRegistry(plugins)
  })()
  return bundled
}
