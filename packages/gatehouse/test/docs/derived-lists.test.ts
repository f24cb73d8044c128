/**
 * Lists in the hand-written docs and the CLI's help that the code can vouch for (issue 15, "Stale docs"):
 * the sections Gatehouse adds to Kong's format, the protocols, the environment variables, the plugin names
 * and the plugin settings the examples use. The generated files are compared whole by docs.test.ts; these
 * tests check what a generator cannot, or what it states as a claim about the loader.
 */
import assert from 'node:assert/strict'
import { globSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parse } from 'yaml'
import { KONG_TOP_LEVEL_KEYS, topLevelDifferences } from '../../scripts/docs/configuration.ts'
import { DOCS_DIR } from '../../scripts/docs/render.ts'
import { objectShape } from '../../scripts/docs/schema-fields.ts'
import { INTERNAL_ENV } from '../../src/cluster/worker.ts'
import { buildDeclarativeSchema } from '../../src/config/schema/root.ts'
import { PROXY_PROTOCOLS } from '../../src/config/schema/typedefs.ts'
import { AUDIT_ACTIONS } from '../../src/identity/manage/audit.ts'
import { loadBundledPlugins } from '../../src/plugins/registry.ts'
import { problems } from '../harness/config.ts'
import { runCli } from '../harness/gatehouse.ts'

const packageDir = new URL('../../', import.meta.url)
const repoDir = new URL('../../../../', import.meta.url)
const registry = await loadBundledPlugins()
const schemaKeys = Object.keys(objectShape(buildDeclarativeSchema(registry))!)

function readDoc(name: string): string {
  return readFileSync(new URL(name, DOCS_DIR), 'utf8')
}

/** The code spans of `text`, without their backticks. */
function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)
}

/**
 * The GATEHOUSE_* variables the gateway's source reads (`env.X`, or the name passed as a string), but for
 * those a primary sets for its own workers (INTERNAL_ENV).
 */
function variablesRead(): Set<string> {
  const found = new Set<string>()
  for (const file of globSync('src/**/*.ts', { cwd: packageDir, exclude: ['**/*.test.ts'] })) {
    const text = readFileSync(new URL(file, packageDir), 'utf8')
    for (const m of text.matchAll(/\benv\.(GATEHOUSE_[A-Z_]+)\b|'(GATEHOUSE_[A-Z_]+)'/g))
      found.add(m[1] ?? m[2]!)
  }
  for (const internal of INTERNAL_ENV) found.delete(internal)
  return found
}

test("configuration.md names as Gatehouse's own sections exactly the top-level keys Kong's format lacks", () => {
  const sentence = /Gatehouse adds \w+ sections? Kong does not have: ([^\n]*?)\.(?: |\n)/.exec(
    readDoc('configuration.md'),
  )
  assert.ok(sentence, 'configuration.md no longer says which sections Gatehouse adds')
  const { own } = topLevelDifferences(schemaKeys, registry)
  assert.deepEqual(codeSpans(sentence[1]!), own)
  // The settings sections at least; a new one is listed without anyone editing the docs.
  for (const key of ['proxy', 'admin', 'logging', 'identity', 'storage', 'internal_tokens', 'redis'])
    assert.ok(own.includes(key), `${key} is not listed as Gatehouse's own`)
})

test('the Kong sections configuration.md says are not read are refused by the loader, naming them', () => {
  const { unread } = topLevelDifferences(schemaKeys, registry)
  assert.ok(unread.length > 0 && unread.every((k) => KONG_TOP_LEVEL_KEYS.includes(k)))
  const text = `_format_version: "3.0"\n${unread.map((k) => `${k}: []`).join('\n')}\n`
  assert.deepEqual(
    problems(text),
    unread.map((k) => `gatehouse.yaml: ${k}: unknown key`),
  )
})

test('configuration.md lists, for routes and services, the protocols the proxy serves and no others', () => {
  const doc = readDoc('configuration.md')
  const row = (section: string, key: string) => {
    const body = doc.slice(doc.indexOf(`## \`${section}\``))
    const line = body.split('\n').find((l) => l.startsWith(`| \`${key}\` |`))
    assert.ok(line, `no ${section}.${key} row in configuration.md`)
    return codeSpans(line.split(' | ')[1]!)
  }
  assert.deepEqual(row('routes', 'protocols'), [...PROXY_PROTOCOLS])
  assert.deepEqual(row('services', 'protocol'), [...PROXY_PROTOCOLS])
})

test('gatehouse --help lists every GATEHOUSE_ variable the gateway reads, and no other', async () => {
  const help = await runCli(['--help'])
  assert.equal(help.code, 0)
  const section = help.stdout.slice(help.stdout.indexOf('Environment:'))
  const listed = [...section.matchAll(/^ {2}(GATEHOUSE_[A-Z_]+)\s/gm)].map((m) => m[1]!)
  assert.deepEqual(listed.toSorted(), [...variablesRead()].toSorted())
})

test("every variable and flag that sets a configuration key is in configuration.md's precedence table", async () => {
  const doc = readDoc('configuration.md')
  const table = doc.slice(doc.indexOf('## Which setting wins'), doc.indexOf('## Keys'))
  const inTable = new Set(codeSpans(table))
  // GATEHOUSE_CONFIG names the file itself; the table's prose says so.
  const variables = [...variablesRead()].filter((v) => v !== 'GATEHOUSE_CONFIG')
  assert.deepEqual(
    variables.filter((v) => !inTable.has(v)),
    [],
  )
  const help = await runCli(['start', '--help'])
  assert.equal(help.code, 0)
  const options = help.stdout.slice(help.stdout.indexOf('Options:'), help.stdout.indexOf('Environment:'))
  const flags = [...options.matchAll(/--[a-z-]+/g)]
    .map((m) => m[0])
    .filter((f) => f !== '--config' && f !== '--help')
  assert.ok(flags.includes('--workers'))
  assert.deepEqual(
    flags.filter((f) => !inTable.has(f)),
    [],
  )
})

test('the README names every bundled plugin', () => {
  const readme = readFileSync(new URL('README.md', repoDir), 'utf8')
  const missing = registry.names().filter((name) => !readme.includes(`\`${name}\``))
  assert.deepEqual(missing, [], `not in README.md: ${missing.join(', ')}`)
})

test('the YAML examples in the docs use only bundled plugins, and only settings their schemas have', () => {
  const files = ['README.md', ...globSync('docs/*.md', { cwd: repoDir })]
  const found: string[] = []
  const wrong: string[] = []
  for (const file of files) {
    const text = readFileSync(new URL(file, repoDir), 'utf8')
    for (const block of text.matchAll(/```ya?ml\n([\s\S]*?)```/g)) {
      const visit = (value: unknown, key: string | null): void => {
        if (Array.isArray(value)) {
          for (const item of value) {
            if (key === 'plugins' && typeof item?.name === 'string') {
              found.push(item.name)
              const def = registry.get(item.name)
              if (!def) wrong.push(`${file}: unknown plugin '${item.name}'`)
              // Examples leave out what they do not show (secrets, the issuer): only keys and values
              // the schema does not know are wrong.
              for (const issue of def?.schema.safeParse(item.config ?? {}).error?.issues ?? []) {
                if (issue.code === 'unrecognized_keys' || issue.code === 'invalid_value')
                  wrong.push(
                    `${file}: ${item.name}: ${['config', ...issue.path].join('.')}: ${issue.message}`,
                  )
              }
            }
            visit(item, null)
          }
        } else if (value !== null && typeof value === 'object') {
          for (const [k, v] of Object.entries(value)) visit(v, k)
        }
      }
      visit(parse(block[1]!), null)
    }
  }
  assert.ok(found.length > 0, 'found no plugin in the YAML examples; is the pattern stale?')
  assert.deepEqual(wrong, [])
})

test('identity.md lists every audit action, in order, with exactly its detail fields', () => {
  const doc = readDoc('identity.md')
  const section = doc.slice(doc.indexOf('## Audit trail'), doc.indexOf('## The CLI'))
  const rows = section
    .split('\n')
    .filter((l) => /^\| `[a-z_]+\.[a-z_]+` \|/.test(l))
    .map((l) => {
      const [action, , detail] = l.slice(2, -2).split(' | ')
      return [codeSpans(action!)[0], codeSpans(detail!)]
    })
  assert.deepEqual(
    rows,
    Object.entries(AUDIT_ACTIONS).map(([action, spec]) => [action, Object.keys(spec.detail)]),
  )
})
