/**
 * `gatehouse config`:
 * - `check FILE` (or `--config FILE`, or GATEHOUSE_CONFIG): loads the file and builds the runtime as `start` would, without listening;
 * - `export [--output FILE]`: the entities as a format 3.0 declarative file (YAML, or JSON for an
 *   `.json` output), flat lists with their ids: DB mode's stored ones, or on a DB-less node (storage.entities:
 *   file) the configuration file's own (db-mode/file-export.ts), without opening the store;
 * - `convert FILE [--output OUT]`: a Kong 1.x/2.x file as format 3.0 (config-convert.ts);
 * - `import FILE [--dry-run]`: a declarative file's entities into the database, replacing every stored
 *   one, checked as the file it is first and written all or nothing (db-mode/import.ts).
 * export and import find the store through --config (or GATEHOUSE_CONFIG), whose settings the imported
 * entities are checked with.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { stringify } from 'yaml'
import { checkRuntime } from '../config/check-runtime.ts'
import { loadConfigFile, parseConfigText } from '../config/load.ts'
import { storageLocation } from '../config/schema/storage.ts'
import { exportDocument, settingsOf } from '../db-mode/documents.ts'
import { fileModeExport } from '../db-mode/file-export.ts'
import { commitImport, type ImportPlan, planImport } from '../db-mode/import.ts'
import { entityKinds } from '../db-mode/kinds.ts'
import type { EntityContext } from '../db-mode/writer.ts'
import { ConfigError } from '../errors/errors.ts'
import { loadBundledPlugins } from '../plugins/registry.ts'
import { openStore } from '../storage/open.ts'
import { StoreConflictError } from '../storage/store.ts'
import { convert } from './config-convert.ts'
import { CommandFailure, UsageError } from './lib/errors.ts'
import { plural, printTable } from './lib/output.ts'
import { CONFIG_OPTION, configFileFrom, splitSubcommand, withStore } from './lib/store-command.ts'

export async function configCommand(args: string[]): Promise<number> {
  const [sub, rest] = splitSubcommand(args)
  switch (sub) {
    case 'check':
      return check(rest)
    case 'export':
      return exportEntities(rest)
    case 'import':
      return importEntities(rest)
    case 'convert':
      return convert(rest)
    default:
      throw new UsageError(
        `unknown config command '${sub ?? ''}' (expected: check, export, import or convert)`,
      )
  }
}

async function check(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONFIG_OPTION, allowPositionals: true })
  if (positionals.length > 1) throw new UsageError('config check takes exactly one FILE')
  // FILE as it always was, or --config FILE as every other command takes it; never both, which would
  // leave a reader unsure which file was checked.
  if (positionals.length === 1 && values.config !== undefined)
    throw new UsageError(
      `config check takes FILE or --config FILE, not both ('${positionals[0]}' and '${values.config}')`,
    )
  const file = positionals[0] ?? (values.config || process.env.GATEHOUSE_CONFIG)
  if (!file) throw new UsageError('config check needs FILE (or --config FILE, or GATEHOUSE_CONFIG)')
  const registry = await loadBundledPlugins()
  const config = await loadConfigFile(file, { registry })
  await checkRuntime(config, registry)
  for (const notice of config.notices) process.stderr.write(`${file}: warning: ${notice}\n`)
  process.stdout.write(
    `${file}: OK (${plural(config.services.length, 'service')}, ${plural(config.routes.length, 'route')}, ` +
      `${plural(config.consumers.length, 'consumer')}, ${plural(config.plugins.length, 'plugin')})\n`,
  )
  return 0
}

async function exportEntities(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...CONFIG_OPTION, output: { type: 'string', short: 'o' } },
    allowPositionals: true,
  })
  if (positionals.length > 0) throw new UsageError('config export takes no arguments (--output FILE)')
  const configFile = configFileFrom(values.config, 'config export')
  const registry = await loadBundledPlugins()
  const config = await loadConfigFile(configFile, { registry })
  const kinds = entityKinds(registry)
  let document: Record<string, unknown>
  let from: string
  let count: number
  if (config.settings.entities === 'file') {
    ;({ document, count } = fileModeExport(await readDocument(configFile), config, kinds))
    from = `${configFile} (storage.entities: file)`
  } else {
    const store = await openStore(config.settings.storage)
    try {
      const snapshot = await store.entities.snapshot()
      document = exportDocument(snapshot.entities, kinds)
      count = snapshot.entities.length
      from = `${storageLocation(config.settings.storage)} (version ${snapshot.version})`
    } finally {
      await store.close()
    }
  }
  const json = values.output?.toLowerCase().endsWith('.json') === true
  const text = json ? `${JSON.stringify(document, null, 2)}\n` : stringify(document, { lineWidth: 0 })
  if (values.output === undefined) process.stdout.write(text)
  else await writeFile(values.output, text)
  process.stderr.write(`exported ${count} ${count === 1 ? 'entity' : 'entities'} from ${from}\n`)
  return 0
}

async function importEntities(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...CONFIG_OPTION, 'dry-run': { type: 'boolean' } },
    allowPositionals: true,
  })
  const [file, ...extra] = positionals
  if (!file || extra.length > 0) throw new UsageError('config import takes exactly one FILE')
  const configFile = configFileFrom(values.config, 'config import')
  const registry = await loadBundledPlugins()
  const kinds = entityKinds(registry)
  const document = await readDocument(file)
  const settings = settingsOf((await readDocument(configFile)) as Record<string, unknown>, kinds)
  return withStore(configFile, async ({ config, store }) => {
    const ctx: EntityContext = {
      store,
      registry,
      kinds,
      settings,
      options: { registry, env: process.env, baseDir: dirname(resolve(configFile)) },
      source: file,
    }
    const ignored = Object.keys(document).filter(
      (k) => !k.startsWith('_') && !kinds.some((kind) => kind.type === k),
    )
    if (ignored.length > 0)
      process.stderr.write(
        `${file}: not imported (settings come from ${configFile}): ${ignored.join(', ')}\n`,
      )
    if (config.settings.entities !== 'database')
      process.stderr.write(
        `${configFile}: note: storage.entities is file; nodes use the imported entities with storage.entities: database\n`,
      )
    const location = storageLocation(config.settings.storage)
    for (let attempt = 1; ; attempt++) {
      const plan = await planImport(ctx, document, file)
      printChanges(plan)
      if (values['dry-run']) {
        process.stdout.write(`${file}: valid; dry run, nothing written to ${location}\n`)
        return 0
      }
      if (Object.values(plan.changes).every((c) => c.created + c.updated + c.deleted === 0)) {
        process.stdout.write(`${file}: ${location} already holds these entities (version ${plan.version})\n`)
        return 0
      }
      try {
        const version = await commitImport(ctx, plan)
        process.stdout.write(`${file}: imported into ${location} (version ${version})\n`)
        return 0
      } catch (err) {
        if (!(err instanceof StoreConflictError) || err.field !== 'version') throw err
        if (attempt >= 3)
          throw new CommandFailure('the entities kept changing during the import; run it again')
      }
    }
  })
}

/** The document in FILE, which must be a mapping (a ConfigError, printed as usual, otherwise). */
async function readDocument(file: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new CommandFailure(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
  const value = parseConfigText(text, file)
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(file, [
      { path: '', message: 'expected a mapping with `_format_version: "3.0"` at the top' },
    ])
  return value as Record<string, unknown>
}

function printChanges(plan: ImportPlan): void {
  const rows = Object.entries(plan.changes)
    .filter(([, c]) => c.created + c.updated + c.deleted + c.unchanged > 0)
    .map(([type, c]) => [type, String(c.created), String(c.updated), String(c.deleted), String(c.unchanged)])
  if (rows.length === 0) process.stdout.write('no entities before or after\n')
  else printTable(['ENTITIES', 'CREATED', 'UPDATED', 'DELETED', 'UNCHANGED'], rows)
}
