/**
 * Loading a declarative configuration: read (YAML or JSON) → upgrade a Kong 1.x/2.x file to format 3.0
 * (upgrade-2x.ts) → resolve vault references → check against the schema (plugins' own schemas
 * included) → normalise entities and cross-entity rules → deep-freeze.
 * Everything is checked here, once; the running gateway never re-validates. Throws a ConfigError
 * carrying every problem as `FILE: path: message`.
 *
 * "Every problem" includes the cross-entity ones when the schema pass failed: the document is then read
 * again leniently (schema/root.ts, salvage) and normalised, so a duplicate name is reported together
 * with a typo elsewhere. An entity that already has a problem is not reported again for what follows
 * from it (a route whose only path is invalid is not also "a route without paths").
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { LineCounter, parseDocument } from 'yaml'
import { ConfigError, type ConfigIssue } from '../errors/errors.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import { sharedRedisIssues } from '../redis/plugin-references.ts'
import { zodIssuesToConfigIssues } from './format-issues.ts'
import type { GatewayConfig } from './model.ts'
import { normalizeDocument } from './normalize.ts'
import { normalizeIdentity } from './normalize-identity.ts'
import { buildDeclarativeSchema, type DeclarativeDocument, type DeclarativeSchema } from './schema/root.ts'
import { resolveStorage } from './schema/storage.ts'
import { applyEdits, planUpgrade } from './upgrade-2x.ts'
import { redactSecrets, resolveVaultReferences } from './vault.ts'

export interface LoadOptions {
  registry: PluginRegistry
  /** Where vault references are read from. Default: process.env. */
  env?: NodeJS.ProcessEnv
  /** Clock for created_at/updated_at, in seconds. */
  nowSeconds?: number
  /** Folder relative paths in the file are resolved against. Default: the file's folder, else the cwd. */
  baseDir?: string
}

const schemas = new WeakMap<PluginRegistry, { strict: DeclarativeSchema; salvage: DeclarativeSchema }>()

export async function loadConfigFile(file: string, options: LoadOptions): Promise<GatewayConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (err as Error).message
    throw new ConfigError(
      file,
      [{ path: '', message: `cannot read the configuration: ${reason}` }],
      'GH_ERR_CONFIG_UNREADABLE',
    )
  }
  return loadConfigText(text, file, { baseDir: dirname(resolve(file)), ...options })
}

/** Parses YAML (JSON is YAML too) and loads it. */
export function loadConfigText(text: string, source: string, options: LoadOptions): GatewayConfig {
  return loadConfigObject(parseConfigText(text, source), source, options)
}

/** The document in a YAML (or JSON) text, not yet checked; throws GH_ERR_CONFIG_UNREADABLE. */
export function parseConfigText(text: string, source: string): unknown {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { uniqueKeys: true, merge: true, prettyErrors: false, lineCounter })
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0])
      return { path: '', message: `line ${line}, column ${col}: ${e.message.split('\n')[0]}` }
    })
    throw new ConfigError(source, issues, 'GH_ERR_CONFIG_UNREADABLE')
  }
  try {
    return doc.toJS({ maxAliasCount: 1000 })
  } catch (err) {
    // Too many aliases (a "billion laughs" document) is refused here rather than expanded.
    throw new ConfigError(source, [{ path: '', message: (err as Error).message }], 'GH_ERR_CONFIG_UNREADABLE')
  }
}

export function loadConfigObject(value: unknown, source: string, options: LoadOptions): GatewayConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(source, [
      { path: '', message: 'expected a mapping with `_format_version: "3.0"` at the top' },
    ])
  }
  const hash = hashDocument(value)
  // A Kong 1.x/2.x file is read as the 3.0 file it stands for; issues keep the file's own paths.
  const upgrade = planUpgrade(value)
  const document = upgrade ? applyEdits(value as Record<string, unknown>, upgrade.edits) : value
  const vault = resolveVaultReferences(document, options.env ?? process.env)
  const issues: ConfigIssue[] = [...(upgrade?.issues ?? []), ...vault.issues]

  const { strict, salvage } = schemasFor(options.registry)
  let doc: DeclarativeDocument | undefined
  const parsed = strict.safeParse(vault.value)
  if (parsed.success) {
    doc = parsed.data
  } else {
    // A value whose vault reference failed is reported once, not again as the wrong kind of value.
    const schemaIssues = zodIssuesToConfigIssues(parsed.error.issues, strict)
    issues.push(...schemaIssues.filter((i) => !vault.issues.some((v) => isWithin(i.path, v.path))))
    doc = salvage.safeParse(vault.value).data
  }

  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000)
  const normalized = doc ? normalizeDocument(doc, options.registry, now) : undefined
  if (normalized) {
    const entityOf = entityPathOf(options.registry)
    const flagged = new Set(issues.map((i) => entityOf(i.path)).filter((e) => e !== ''))
    issues.push(...normalized.issues.filter((i) => !flagged.has(entityOf(i.path))))
  }
  const identityIssues: ConfigIssue[] = []
  const identity =
    doc && !issues.some((i) => i.path.startsWith('identity'))
      ? normalizeIdentity(doc.identity, (path, message) => identityIssues.push({ path, message }))
      : undefined
  issues.push(...identityIssues)
  if (doc) issues.push(...sharedRedisIssues(doc, options.registry))
  if (issues.length > 0 || !doc || !normalized || !identity) {
    const redacted = issues.map((i) => ({ path: i.path, message: redactSecrets(i.message, vault.secrets) }))
    throw new ConfigError(source, dedupe(redacted))
  }

  const { proxy, admin, logging, internal_tokens } = doc
  const storage = resolveStorage(doc.storage, options.baseDir ?? process.cwd())
  const vaultReferences = new Map(vault.secrets.map((s) => [s.value, s.reference] as const))
  return deepFreeze({
    source,
    hash,
    settings: {
      proxy,
      admin,
      logging,
      identity,
      storage,
      entities: doc.storage.entities,
      internal_tokens,
      redis: doc.redis ?? null,
    },
    ...normalized.entities,
    notices: [...(upgrade?.notices ?? []), ...normalized.entities.notices],
    vaultReferences,
  })
}

/**
 * The sha256 (hex) of a document as written: vault references unresolved, so the hash never depends
 * on a secret, and `POST /config?check_hash=1` can compare without loading.
 */
export function hashDocument(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex')
}

/**
 * The strict declarative schema every configuration is checked with, for this registry: the admin
 * API's route table names its parts as the bodies of `POST /config` and of the entity writes.
 */
export function declarativeSchemaFor(registry: PluginRegistry): DeclarativeSchema {
  return schemasFor(registry).strict
}

function schemasFor(registry: PluginRegistry): { strict: DeclarativeSchema; salvage: DeclarativeSchema } {
  let pair = schemas.get(registry)
  if (!pair) {
    pair = {
      strict: buildDeclarativeSchema(registry, 'strict'),
      salvage: buildDeclarativeSchema(registry, 'salvage'),
    }
    schemas.set(registry, pair)
  }
  return pair
}

const entityPaths = new WeakMap<PluginRegistry, (path: string) => string>()

/**
 * The entity a key path lies in (`services[0].routes[1]` for `services[0].routes[1].paths[0]`, and
 * `consumers[0].acls[2]` for its `group`), or ''. Entities nest under routes, plugins and credential lists.
 */
function entityPathOf(registry: PluginRegistry): (path: string) => string {
  let fn = entityPaths.get(registry)
  if (!fn) {
    const nested = ['routes', 'plugins', ...registry.credentialDefinitions().map((d) => d.name)].join('|')
    const pattern = new RegExp(`^[a-z_]+\\[\\d+\\](?:\\.(?:${nested})\\[\\d+\\])*`)
    fn = (path) => pattern.exec(path)?.[0] ?? ''
    entityPaths.set(registry, fn)
  }
  return fn
}

function isWithin(path: string, base: string): boolean {
  return path === base || path.startsWith(`${base}.`) || path.startsWith(`${base}[`)
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
