/**
 * docs/migrating-from-kong.md stays true (issue 13): its plugin table against the plugin registry and Kong's
 * bundled list, its entity tables against the declarative schema. Adding a plugin or an entity field without
 * a line on that page fails here, with a message saying which line to add.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { KONG_TOP_LEVEL_KEYS } from '../../scripts/docs/configuration.ts'
import { DOCS_DIR } from '../../scripts/docs/render.ts'
import { objectShape, unwrap } from '../../scripts/docs/schema-fields.ts'
import { buildDeclarativeSchema, IGNORED_KEYS } from '../../src/config/schema/root.ts'
import { loadBundledPlugins } from '../../src/plugins/registry.ts'

/** kong/constants.lua `plugins` of Kong/kong @ 22246ef28c16 (3.10.0): every plugin Kong OSS bundles. */
const KONG_PLUGINS: readonly string[] = [
  'jwt',
  'acl',
  'correlation-id',
  'cors',
  'oauth2',
  'tcp-log',
  'udp-log',
  'file-log',
  'http-log',
  'key-auth',
  'hmac-auth',
  'basic-auth',
  'ip-restriction',
  'request-transformer',
  'response-transformer',
  'request-size-limiting',
  'rate-limiting',
  'response-ratelimiting',
  'syslog',
  'loggly',
  'datadog',
  'ldap-auth',
  'statsd',
  'bot-detection',
  'aws-lambda',
  'request-termination',
  'prometheus',
  'proxy-cache',
  'session',
  'acme',
  'grpc-gateway',
  'grpc-web',
  'pre-function',
  'post-function',
  'azure-functions',
  'zipkin',
  'opentelemetry',
  'ai-proxy',
  'ai-prompt-decorator',
  'ai-prompt-template',
  'ai-prompt-guard',
  'ai-request-transformer',
  'ai-response-transformer',
  'standard-webhooks',
  'redirect',
]

/** Kong's credential entities (each plugin's daos.lua) that a declarative file may carry. */
const KONG_CREDENTIALS: readonly string[] = [
  'acls',
  'basicauth_credentials',
  'hmacauth_credentials',
  'jwt_secrets',
  'keyauth_credentials',
  'oauth2_credentials',
]

const STATUSES = ['supported', 'partial', 'not supported'] as const
type Status = (typeof STATUSES)[number]
const PAGE = 'docs/migrating-from-kong.md'

const registry = await loadBundledPlugins()
const root = objectShape(buildDeclarativeSchema(registry))!
const doc = readFileSync(new URL('migrating-from-kong.md', DOCS_DIR), 'utf8')

/** The text of the `## title` section, up to the next `## `. */
function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`)
  assert.ok(start >= 0, `${PAGE} has no "## ${title}" section`)
  const end = doc.indexOf('\n## ', start + 1)
  return doc.slice(start, end < 0 ? undefined : end)
}

/** Table rows `| \`name\` | **status** | ...`, by name; a row whose status is not one of STATUSES fails. */
function statusRows(text: string, where: string): Map<string, Status> {
  const rows = new Map<string, Status>()
  for (const line of text.split('\n')) {
    const m = /^\| `([^`]+)` \| ([^|]*)\|/.exec(line)
    if (!m) continue
    const status = /^\*\*(.+)\*\*$/.exec(m[2]!.trim())?.[1]
    assert.ok(
      STATUSES.includes(status as Status),
      `${PAGE}: ${where}: \`${m[1]}\` has status "${m[2]!.trim()}"; write **supported**, **partial** or **not supported**`,
    )
    assert.ok(!rows.has(m[1]!), `${PAGE}: ${where}: \`${m[1]}\` is listed twice`)
    rows.set(m[1]!, status as Status)
  }
  return rows
}

const pluginRows = statusRows(section('Plugins bundled with Kong'), 'plugin table')
const kongPlugins = new Set(KONG_PLUGINS)

test('the plugin table lists every plugin Kong OSS bundles, and nothing else', () => {
  const missing = KONG_PLUGINS.filter((name) => !pluginRows.has(name))
  assert.deepEqual(
    missing,
    [],
    `add a row to ${PAGE}'s plugin table for each: ${missing.map((n) => (registry.get(n) ? `| \`${n}\` | **supported** or **partial** | what differs |` : `| \`${n}\` | **not supported** | what to do instead |`)).join(' ')}`,
  )
  const extra = [...pluginRows.keys()].filter((name) => !kongPlugins.has(name))
  assert.deepEqual(
    extra,
    [],
    `${PAGE}'s plugin table lists plugins Kong does not bundle; move them to "Gatehouse-only plugins"`,
  )
})

test('every Gatehouse plugin with a Kong name is marked supported or partial, and only those', () => {
  for (const name of registry.names().filter((n) => kongPlugins.has(n)))
    assert.notEqual(
      pluginRows.get(name),
      'not supported',
      `${PAGE}: Gatehouse now has \`${name}\`: mark its row **supported** or **partial** (and say what differs from Kong's schema.lua)`,
    )
  for (const [name, status] of pluginRows)
    if (status !== 'not supported')
      assert.ok(
        registry.get(name),
        `${PAGE}: \`${name}\` is marked **${status}** but the plugin registry has no such plugin; mark it **not supported**`,
      )
})

test('every Gatehouse-only plugin has a line under "Gatehouse-only plugins"', () => {
  const listed = new Set(
    [...section('Gatehouse-only plugins').matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!),
  )
  const own = registry.names().filter((n) => !kongPlugins.has(n))
  assert.deepEqual(
    own.filter((n) => !listed.has(n)),
    [],
    `add a row to ${PAGE}'s "Gatehouse-only plugins" table for each`,
  )
  assert.deepEqual(
    [...listed].filter((n) => !own.includes(n)),
    [],
    `${PAGE}'s "Gatehouse-only plugins" lists plugins the registry lacks or that Kong bundles`,
  )
})

interface EntityDoc {
  readonly status: Status
  readonly fields: Map<string, Status>
}

/** The `### \`entity\`` subsections of "Entities": each one's status line and field table. */
function entityDocs(): Map<string, EntityDoc> {
  const entities = new Map<string, EntityDoc>()
  for (const part of section('Entities').split('\n### ').slice(1)) {
    const name = /^`([^`]+)`/.exec(part)?.[1]
    assert.ok(name, `${PAGE}: an entity heading is not of the form ### \`name\``)
    const status = /^Status: \*\*([^*]+)\*\*/m.exec(part)?.[1] as Status | undefined
    assert.ok(
      status && STATUSES.includes(status),
      `${PAGE}: \`${name}\` needs a line "Status: **supported**", "**partial**" or "**not supported**"`,
    )
    entities.set(name, { status, fields: statusRows(part, `\`${name}\``) })
  }
  return entities
}

const entities = entityDocs()
/** The entities of Kong's format: its top-level keys that are not `_` metadata, and the credentials. */
const kongEntities = [...KONG_TOP_LEVEL_KEYS.filter((k) => !k.startsWith('_')), ...KONG_CREDENTIALS]

/** The fields of a top-level section's entries, as the schema accepts them (without `_comment`/`_ignore`). */
function entityFields(key: string): string[] {
  const inner = unwrap(root[key]!).inner
  const def = inner._zod.def as unknown as { type: string; element?: typeof inner }
  const shape = objectShape(def.type === 'array' ? def.element! : inner)
  assert.ok(shape, `the schema's \`${key}\` is not a list of objects`)
  return Object.keys(shape).filter((f) => !IGNORED_KEYS.includes(f))
}

test("the entity sections cover every entity of Kong's format, each as the schema accepts it", () => {
  const missing = kongEntities.filter((e) => !entities.has(e))
  assert.deepEqual(missing, [], `add a "### \`<entity>\`" section with a Status line to ${PAGE} for each`)
  for (const [name, { status }] of entities) {
    assert.ok(kongEntities.includes(name), `${PAGE}: \`${name}\` is not an entity of Kong's format`)
    const accepted = name in root
    if (accepted)
      assert.notEqual(
        status,
        'not supported',
        `${PAGE}: the configuration now accepts \`${name}\`: mark it **supported** or **partial** and list its fields`,
      )
    else
      assert.equal(
        status,
        'not supported',
        `${PAGE}: \`${name}\` is marked **${status}** but the configuration refuses it; mark it **not supported**`,
      )
  }
})

test('every field of every entity the configuration accepts has a row under its entity', () => {
  const problems: string[] = []
  for (const name of kongEntities.filter((e) => e in root)) {
    const rows = entities.get(name)?.fields ?? new Map<string, Status>()
    const fields = entityFields(name)
    for (const field of fields)
      if (!rows.has(field))
        problems.push(
          `add to ${PAGE} under \`${name}\`: | \`${field}\` | **supported** or **partial** | ... |`,
        )
    for (const [field, status] of rows)
      if (status !== 'not supported' && !fields.includes(field))
        problems.push(
          `${PAGE}: \`${name}.${field}\` is marked **${status}** but the schema has no such field; mark it **not supported**`,
        )
  }
  assert.deepEqual(problems, [])
})
