/**
 * The reference docs as strings, rendered in memory from the schemas, the plugin registry, the error
 * codes and the admin route table. `npm run docs` writes them to docs/; the docs test renders them again
 * and compares. Deterministic: no dates or environment in the output, so a re-run changes nothing.
 * docs/admin-api.md is prose written by hand with a generated section at its end: it is rendered from
 * the file as it is, and only that section changes.
 */
import { readFileSync } from 'node:fs'
import type { PluginRegistry } from '../../src/plugins/registry.ts'
import { renderAdminApi, renderAdminOpenApi } from './admin-api.ts'
import { renderConfiguration } from './configuration.ts'
import { renderErrors } from './errors.ts'
import { renderPlugins } from './plugins.ts'

export { CONFIGURATION_EXAMPLE, renderConfiguration } from './configuration.ts'
export { renderErrors } from './errors.ts'
export { renderPlugins } from './plugins.ts'
export { undescribedKeys } from './schema-fields.ts'

/** The generated files, relative to the repository's docs/ folder. */
export const GENERATED_DOCS = [
  'configuration.md',
  'plugins.md',
  'errors.md',
  'admin-api.md',
  'admin-openapi.json',
] as const
export type GeneratedDoc = (typeof GENERATED_DOCS)[number]

/** The repository's docs/ folder. */
export const DOCS_DIR = new URL('../../../../docs/', import.meta.url)

export function renderDocs(registry: PluginRegistry): Record<GeneratedDoc, string> {
  return {
    'configuration.md': renderConfiguration(registry),
    'plugins.md': renderPlugins(registry),
    'errors.md': renderErrors(registry),
    'admin-api.md': renderAdminApi(registry, readCurrent('admin-api.md')),
    'admin-openapi.json': renderAdminOpenApi(registry),
  }
}

function readCurrent(name: string): string {
  try {
    return readFileSync(new URL(name, DOCS_DIR), 'utf8')
  } catch {
    return ''
  }
}
