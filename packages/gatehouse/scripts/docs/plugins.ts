/**
 * docs/plugins.md, from the plugin registry: the priority ladder, then every bundled plugin in the order
 * it runs, with its configuration table from its own schema. A plugin added under src/plugins appears here
 * on the next `npm run docs`.
 */
import { comparePlugins, PRIORITY_BANDS } from '../../src/pipeline/phases.ts'
import type { PluginRegistry } from '../../src/plugins/registry.ts'
import type { GatewayPlugin, PluginScopes } from '../../src/plugins/types.ts'
import { fieldTables } from './field-tables.ts'
import { anchor, code, document, generatedNotice, table } from './markdown.ts'
import { objectShape, typeText, unwrap } from './schema-fields.ts'

export function renderPlugins(registry: PluginRegistry): string {
  const plugins = registry.all().toSorted(comparePlugins)
  return document([
    '# Plugins',
    generatedNotice("each plugin's `plugin.ts` and `schema.ts` under `packages/gatehouse/src/plugins/`"),
    INTRO,
    '## Priority ladder',
    ladder(plugins),
    '## Bundled plugins',
    'In the order they run:',
    table(
      ['Plugin', 'Version', 'Priority', 'Band', 'Description'],
      plugins.map((p) => [
        `[${code(p.name)}](#${anchor(code(p.name))})`,
        p.version,
        String(p.priority),
        p.band,
        p.description,
      ]),
    ),
    ...plugins.flatMap(pluginSection),
  ])
}

const INTRO = `A plugin is switched on by a \`plugins\` entry naming it, globally or on a service, route or consumer \
(see [configuration.md](configuration.md#plugins)); its \`config\` is checked against the plugin's schema \
below when the file is loaded. Plugins run in priority order, highest first, ties broken by name. A \
plugin's priority lies inside the band of the pipeline stage it belongs to, so the order reads as a \
policy; the bands follow Kong's bundled priorities, so a plugin Kong also has keeps its place.`

function ladder(plugins: readonly GatewayPlugin[]): string {
  const rows = Object.entries(PRIORITY_BANDS).map(([band, b]) => [
    band,
    `${b.min}–${b.max}`,
    b.examples,
    plugins
      .filter((p) => p.band === band)
      .map((p) => `${code(p.name)} ${p.priority}`)
      .join(', ') || '—',
  ])
  return table(['Band', 'Priorities', 'Examples', 'Bundled here'], rows)
}

const SCOPE_WORDS: Record<keyof PluginScopes, string> = {
  global: 'globally',
  service: 'on services',
  route: 'on routes',
  consumer: 'on consumers',
}

function pluginSection(plugin: GatewayPlugin): string[] {
  const scopes = (Object.keys(SCOPE_WORDS) as (keyof PluginScopes)[])
    .filter((s) => plugin.scopes?.[s] ?? true)
    .map((s) => SCOPE_WORDS[s])
  const facts = table(
    ['Version', 'Priority', 'Band', 'Attaches'],
    [[plugin.version, String(plugin.priority), plugin.band, scopes.join(', ')]],
  )
  const schema = plugin.schema
  const about = unwrap(schema).description
  const config = objectShape(schema)
    ? fieldTables(schema, { level: '####', path: 'config', title: code(plugin.name) })
    : [`\`config\` is ${typeText(schema)}.`]
  return [
    `## ${code(plugin.name)}`,
    plugin.description,
    facts,
    `### ${code(plugin.name)} configuration`,
    ...(about ? [about] : []),
    ...config,
  ]
}
