/**
 * The reference docs as strings, rendered in memory from the schemas, the plugin registry and the error
 * codes. `npm run docs` writes them to docs/; the docs test renders them again and compares.
 * Deterministic: no dates or environment in the output, so a re-run changes nothing.
 */
import type { PluginRegistry } from '../../src/plugins/registry.ts'
import { renderConfiguration } from './configuration.ts'
import { renderErrors } from './errors.ts'
import { renderPlugins } from './plugins.ts'

export { CONFIGURATION_EXAMPLE, renderConfiguration } from './configuration.ts'
export { renderErrors } from './errors.ts'
export { renderPlugins } from './plugins.ts'
export { undescribedKeys } from './schema-fields.ts'

/** The generated files, relative to the repository's docs/ folder. */
export const GENERATED_DOCS = ['configuration.md', 'plugins.md', 'errors.md'] as const
export type GeneratedDoc = (typeof GENERATED_DOCS)[number]

/** The repository's docs/ folder. */
export const DOCS_DIR = new URL('../../../../docs/', import.meta.url)

export function renderDocs(registry: PluginRegistry): Record<GeneratedDoc, string> {
  return {
    'configuration.md': renderConfiguration(registry),
    'plugins.md': renderPlugins(registry),
    'errors.md': renderErrors(registry),
  }
}
