/**
 * docs/configuration.md, from the root declarative schema: one section per top-level key, its table from
 * the keys' `.describe()` texts, types and defaults. The prose around the tables states what the schema
 * cannot: the Kong format, vault references and which source wins.
 */

import { buildDeclarativeSchema } from '../../src/config/schema/root.ts'
import { RESTART_ONLY } from '../../src/config/schema/settings.ts'
import type { PluginRegistry } from '../../src/plugins/registry.ts'
import { FIELD_HEADER, fieldRow, fieldTables } from './field-tables.ts'
import { anchor, code, codeBlock, document, generatedNotice, table } from './markdown.ts'
import { type FieldDoc, objectFields } from './schema-fields.ts'

/** The example shown at the top; the docs test loads it, so it stays a valid file. */
export const CONFIGURATION_EXAMPLE = `_format_version: "3.0"
services:
  - name: orders
    url: http://orders.internal:8080
    routes:
      - name: orders-api
        paths: [/orders]
plugins:
  - name: request-id
admin:
  token: "{vault://env/admin-token}"
`

export function renderConfiguration(registry: PluginRegistry): string {
  const root = buildDeclarativeSchema(registry)
  const fields = objectFields(root)
  const values = fields.filter((f) => !f.nested)
  const sections = fields.filter((f) => f.nested)
  return document([
    '# Configuration reference',
    generatedNotice('the zod schemas in `packages/gatehouse/src/config/schema/`'),
    intro(fields, registry),
    codeBlock('yaml', CONFIGURATION_EXAMPLE),
    VAULT,
    KONG_FILES,
    precedence(fields),
    '## Keys',
    `The top-level keys: ${fields.map((f) => `[${code(f.key)}](#${anchor(sectionHeading(f, values))})`).join(', ')}. ` +
      'Unknown keys are errors, at every level.',
    `## ${sectionHeading(values[0]!, values)}`,
    'Top-level keys that hold a single value.',
    table(
      FIELD_HEADER,
      values.map((f) => fieldRow(f)),
    ),
    ...sections.flatMap((f) => section(f, sections)),
  ])
}

/**
 * The top-level keys of Kong 3.x's declarative format, but for the plugins' credential lists (acls,
 * jwt_secrets, ...), which come from the plugins that own them. What the schema has beyond these (and the
 * credential lists) is Gatehouse's own; what it lacks of these, a Kong file cannot use here yet.
 */
export const KONG_TOP_LEVEL_KEYS: readonly string[] = [
  '_format_version',
  '_transform',
  '_comment',
  '_ignore',
  '_info',
  'services',
  'routes',
  'consumers',
  'plugins',
  'upstreams',
  'targets',
  'certificates',
  'ca_certificates',
  'snis',
  'consumer_groups',
  'vaults',
  'keys',
  'key_sets',
]

/** The top-level keys the schema has and Kong's format does not, and Kong's the schema does not read. */
export function topLevelDifferences(
  schemaKeys: readonly string[],
  registry: PluginRegistry,
): { own: string[]; unread: string[] } {
  const kong = new Set([...KONG_TOP_LEVEL_KEYS, ...registry.credentialDefinitions().map((d) => d.name)])
  return {
    own: schemaKeys.filter((k) => !kong.has(k)),
    unread: KONG_TOP_LEVEL_KEYS.filter((k) => !schemaKeys.includes(k)),
  }
}

function intro(fields: readonly FieldDoc[], registry: PluginRegistry): string {
  const { own, unread } = topLevelDifferences(
    fields.map((f) => f.key),
    registry,
  )
  const link = (key: string) => `[${code(key)}](#${anchor(code(key))})`
  const unreadText =
    unread.length === 0
      ? ''
      : ` Kong's ${listText(unread.map(code))} are not read yet: a file with one of them is refused, naming it.`
  return `Gatehouse reads one declarative file, YAML or JSON. It is Kong's DB-less declarative format 3.0 \
(\`_format_version: "3.0"\`), so a Kong 3.x file with services, routes, consumers and the plugins listed in \
[plugins.md](plugins.md) loads unchanged; [migrating-from-kong.md](migrating-from-kong.md) marks each Kong plugin and \
entity field as supported, partial or not supported. Gatehouse adds \
${countText(own.length)} ${own.length === 1 ? 'section' : 'sections'} Kong does not have: \
${listText(own.map(link))}.${unreadText}

The whole file is checked once, when it is loaded: against the schema below and each plugin's own schema, then \
for rules between entities (a route names an existing service, a consumer has a username or custom_id). Every \
problem is reported as \`FILE: path: message\` (see [errors.md](errors.md#configuration-errors)), and nothing \
starts until there are none. \`gatehouse config check FILE\` runs the same checks without starting anything.

A minimal file:`
}

const COUNTS = [
  'no',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
]

function countText(n: number): string {
  return COUNTS[n] ?? String(n)
}

/** `a`, `a and b`, `a, b and c`. */
function listText(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`
}

const VAULT = `## Secrets: \`{vault://env/NAME}\`

Any string value may be a reference \`{vault://env/NAME}\` instead: it is replaced, when the file is loaded, by \
the environment variable \`NAME\` upper-cased with \`-\` turned into \`_\` (\`{vault://env/admin-secret}\` reads \
\`ADMIN_SECRET\`). \`{vault://env/NAME/field}\` reads the string \`field\` of a JSON value. A variable that is \
not set is a configuration error, so a secret never has to be written in the file. Only the \`env\` vault exists.`

const KONG_FILES = `## Kong files: format versions, \`_comment\` and \`_ignore\`

\`_format_version\` is \`"3.0"\`, or \`"1.1"\` / \`"2.1"\` for a file written for Kong 1.x or 2.x: the versions \
Kong 3.x loads (\`declarative_config.lua\`); any other is refused, naming them.

\`_comment\` (a string) and \`_ignore\` (a list of anything) may stand at the top and on every entity, nested or \
top-level (services, routes, consumers, plugins, credentials, upstreams, targets), as in Kong: they are ignored, \
never stored, never shown by the admin API. Like Kong, a plugin's \`config\` takes neither (it is no entity), and \
every other unknown key is still an error, with a did-you-mean hint.

### Kong 2.x files

A \`"1.1"\` or \`"2.1"\` file is read as the \`"3.0"\` file it stands for, with Kong's 2.x → 3.0 changes. Each \
change is logged once per load (at start, on reload, and by \`gatehouse config check\`) as a warning \
\`configuration notice\` that names where it is (\`services[0].routes[1].paths[0]: format 2.1: ...\`). The \
configuration hash is still that of the file as written. \`gatehouse config convert FILE [--output OUT]\` writes \
the 3.0 file with the same changes, keeping a YAML file's comments and layout (JSON stays JSON); it prints to \
stdout, and replaces FILE only when \`--output\` names it.

| What | Kong 2.x | Kong 3.0, and here |
| --- | --- | --- |
| A route path with a character outside \`[A-Za-z0-9._~/%-]\` | a regular expression, guessed from its characters | gains the \`~\` that marks a regex in 3.0 (Kong's \`migrate_path_280_300.lua\`, decK's \`file convert\`); a path already starting with \`~\` is left alone |
| Percent-escapes in such a regex | decoded before matching | the escape of an unreserved character is decoded (\`%2E\` → \`\\.\`, a decoded \`.\` or \`-\` escaped); others stay, upper-cased, matching the request path as it is routed ([edge.md](edge.md)) |
| A plain path | normalised | unchanged in the file: every prefix path is made canonical at load anyway |
| \`config.whitelist\` / \`config.blacklist\` of any plugin (acl, ip-restriction) | accepted as shorthands | renamed \`allow\` / \`deny\` (decK's rule: an empty value gives way to the other; both set is an error naming the old key) |
| http-log \`config.headers\` with a list of values | sent comma-separated | one string, the values joined with \`", "\`; an empty list is dropped (Kong's 3.0 migration) |
| \`path_handling\` | default \`v0\` | default \`v0\` too (\`routes.lua\` in 2.8 and 3.0): nothing changes; \`v1\` keeps its meaning here, as with Kong 3's \`traditional\` router (decK only warns) |
| Two targets with the same address in one upstream | the last one counted | refused, as Kong 3's loader does: keep the last |
| serverless \`functions\`, aws-lambda \`proxy_scheme\` | decK renames or removes them | not applicable: Gatehouse has no such plugins, and a file using one is refused, naming it |

\`gatehouse config export\` on a node whose entities come from its file (\`storage.entities: file\`) writes them \
as DB mode's export does: format 3.0, flat lists with their ids, references as \`{ id }\`, secrets as the file \
has them (vault references as references, keys as written, basic-auth passwords as their argon2id hashes), \
upstreams and targets included. Settings stay in the configuration file.`

/**
 * Which setting a flag or a GATEHOUSE_* variable overrides, read from the descriptions (which name them:
 * "Flag `--proxy-listen`, env `GATEHOUSE_PROXY_LISTEN`"), so the list cannot drift from the schema.
 */
function precedence(fields: readonly FieldDoc[]): string {
  const rows: string[][] = []
  // Sections and the objects nested in them (proxy.tls.listen has a flag too).
  const visit = (path: string, section: FieldDoc) => {
    if (section.nested?.suffix !== '') return
    for (const f of objectFields(section.nested.schema)) {
      const flag = /\bFlag `(--[a-z-]+)`/.exec(f.description)?.[1]
      const env = /\b[Ee]nv `(GATEHOUSE_[A-Z_]+)`/.exec(f.description)?.[1]
      if (flag || env) rows.push([code(`${path}.${f.key}`), flag ? code(flag) : '—', env ? code(env) : '—'])
      visit(`${path}.${f.key}`, f)
    }
  }
  for (const section of fields) visit(section.key, section)
  return `## Which setting wins

A setting is taken from, in this order: the command-line flag, the \`GATEHOUSE_*\` environment variable, the \
file, the default. The file itself is named by \`--config\` or \`GATEHOUSE_CONFIG\`. These settings have a flag \
or a variable:

${table(['Setting', 'Flag', 'Environment variable'], rows)}

A reload (\`SIGHUP\` or \`POST /config\`) applies every setting except these, which are fixed when the \
listeners and the logger are made; a reload that changes them logs a warning and they apply at the next \
restart: ${Object.entries(RESTART_ONLY)
    .flatMap(([section, keys]) => keys.map((k) => code(`${section}.${k}`)))
    .join(', ')}.`
}

function sectionHeading(field: FieldDoc, values: readonly FieldDoc[]): string {
  return values.includes(field) ? `${code(values[0]!.key)} and other values` : code(field.key)
}

/** A top-level key with an object (or a list of objects) below it. */
function section(field: FieldDoc, sections: readonly FieldDoc[]): string[] {
  const nested = field.nested!
  const intro = `${field.description} Type: ${field.type}${field.default ? `; default: ${field.default}` : ''}.`
  const tables = fieldTables(nested.schema, {
    level: '###',
    path: `${field.key}${nested.suffix}`,
    reference: (child) => topLevelReference(child, field, sections),
  })
  return [`## ${code(field.key)}`, intro, ...tables]
}

/**
 * Nested entities (routes inside services, plugins inside routes) point at their top-level section when
 * every key they accept is documented there the same way; the keys they lack are named.
 */
function topLevelReference(
  child: FieldDoc,
  parent: FieldDoc,
  sections: readonly FieldDoc[],
): string | undefined {
  const top = sections.find((s) => s.key === child.key && s !== parent)
  if (!top || top.nested?.suffix !== child.nested?.suffix) return undefined
  const topRows = new Map(objectFields(top.nested!.schema).map((f) => [f.key, fieldRow(f).join('\0')]))
  const childFields = objectFields(child.nested!.schema)
  if (!childFields.every((f) => topRows.get(f.key) === fieldRow(f).join('\0'))) return undefined
  const missing = [...topRows.keys()].filter((k) => !childFields.some((f) => f.key === k))
  const without = missing.length > 0 ? ` (without ${missing.map(code).join(', ')})` : ''
  return `[${code(top.key)}](#${anchor(code(top.key))})${without}`
}
