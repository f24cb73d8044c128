/**
 * Loading a declarative configuration: read (YAML or JSON) → resolve vault references → check against
 * the schema (plugins' own schemas included) → normalise entities and cross-entity rules → deep-freeze.
 * Everything is checked here, once; the running gateway never re-validates. Throws a ConfigError
 * carrying every problem as `FILE: path: message`.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { parseDocument } from 'yaml'
import { ConfigError, type ConfigIssue } from '../errors/errors.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import { zodIssuesToConfigIssues } from './format-issues.ts'
import type { GatewayConfig } from './model.ts'
import { normalizeDocument } from './normalize.ts'
import { buildDeclarativeSchema, type DeclarativeSchema } from './schema/root.ts'
import { resolveVaultReferences } from './vault.ts'

export interface LoadOptions {
  registry: PluginRegistry
  /** Where vault references are read from. Default: process.env. */
  env?: NodeJS.ProcessEnv
  /** Clock for created_at/updated_at, in seconds. */
  nowSeconds?: number
}

const schemas = new WeakMap<PluginRegistry, DeclarativeSchema>()

export async function loadConfigFile(file: string, options: LoadOptions): Promise<GatewayConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message
    throw new ConfigError(
      file,
      [{ path: '', message: `cannot read the configuration: ${reason}` }],
      'GH_ERR_CONFIG_UNREADABLE',
    )
  }
  return loadConfigText(text, file, options)
}

/** Parses YAML (JSON is YAML too) and loads it. */
export function loadConfigText(text: string, source: string, options: LoadOptions): GatewayConfig {
  const doc = parseDocument(text, { uniqueKeys: true, merge: true, prettyErrors: false })
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => {
      const pos = e.linePos?.[0]
      const where = pos ? `line ${pos.line}, column ${pos.col}: ` : ''
      return { path: '', message: `${where}${e.message.split('\n')[0]}` }
    })
    throw new ConfigError(source, issues, 'GH_ERR_CONFIG_UNREADABLE')
  }
  const value: unknown = doc.toJS({ maxAliasCount: 1000 })
  return loadConfigObject(value, source, options)
}

export function loadConfigObject(value: unknown, source: string, options: LoadOptions): GatewayConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(source, [
      { path: '', message: 'expected a mapping with `_format_version: "3.0"` at the top' },
    ])
  }
  const hash = createHash('sha256').update(JSON.stringify(value)).digest('hex')
  const issues: ConfigIssue[] = []
  const resolved = resolveVaultReferences(value, options.env ?? process.env, issues)

  let schema = schemas.get(options.registry)
  if (!schema) {
    schema = buildDeclarativeSchema(options.registry)
    schemas.set(options.registry, schema)
  }
  const parsed = schema.safeParse(resolved)
  if (!parsed.success) issues.push(...zodIssuesToConfigIssues(parsed.error.issues, schema))
  if (!parsed.success || issues.length > 0) throw new ConfigError(source, dedupe(issues))

  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000)
  const { entities, issues: entityIssues } = normalizeDocument(parsed.data, options.registry, now)
  if (entityIssues.length > 0) throw new ConfigError(source, dedupe(entityIssues))

  const { proxy, admin, logging } = parsed.data
  return deepFreeze({ source, hash, settings: { proxy, admin, logging }, ...entities })
}

function dedupe(issues: ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>()
  return issues.filter((i) => {
    const key = `${i.path}\0${i.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}
