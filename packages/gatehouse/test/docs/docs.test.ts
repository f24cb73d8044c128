/**
 * The reference docs stay true (STYLE principles 7 and 10): docs/*.md is what `npm run docs` renders now,
 * the error codes and docs/errors.md list each other, and every configuration key is described.
 */
import assert from 'node:assert/strict'
import { globSync, readFileSync } from 'node:fs'
import { test } from 'node:test'
import {
  CONFIGURATION_EXAMPLE,
  DOCS_DIR,
  GENERATED_DOCS,
  renderDocs,
  undescribedKeys,
} from '../../scripts/docs/render.ts'
import { loadConfigText } from '../../src/config/load.ts'
import { buildDeclarativeSchema } from '../../src/config/schema/root.ts'
import { ERROR_CODES } from '../../src/errors/errors.ts'
import { loadBundledPlugins } from '../../src/plugins/registry.ts'

/**
 * Known gaps, to be fixed where they are (not here). Each entry must still be a gap, so these lists
 * only shrink (both are empty now; keep them empty).
 */
const KNOWN_MISSHAPEN_CODES: string[] = []
const KNOWN_UNDESCRIBED_KEYS: string[] = []

const CODE_SHAPE = /^GH_ERR_[A-Z]+(_[A-Z]+)+$/
const packageDir = new URL('../../', import.meta.url)
const registry = await loadBundledPlugins()
const rendered = renderDocs(registry)
const codes = Object.keys(ERROR_CODES)

function readDoc(name: string): string {
  try {
    return readFileSync(new URL(name, DOCS_DIR), 'utf8')
  } catch {
    return ''
  }
}

function firstDifferentLine(a: string, b: string): number {
  const x = a.split('\n')
  const y = b.split('\n')
  let i = 0
  while (i < x.length && i < y.length && x[i] === y[i]) i++
  return i + 1
}

for (const name of GENERATED_DOCS) {
  test(`docs/${name} is what npm run docs renders from the current source`, () => {
    const onDisk = readDoc(name)
    const fresh = rendered[name]
    if (onDisk !== fresh) {
      const where = onDisk ? ` (first difference at line ${firstDifferentLine(onDisk, fresh)})` : ' (missing)'
      assert.fail(`docs/${name} is stale: run npm run docs${where}`)
    }
  })
}

test('the example in docs/configuration.md is a valid configuration', () => {
  const config = loadConfigText(CONFIGURATION_EXAMPLE, 'example.yaml', {
    registry,
    env: { ADMIN_TOKEN: 'an-admin-token-of-32-characters!' },
  })
  assert.equal(config.services.length, 1)
})

test('every code in ERROR_CODES is documented in docs/errors.md', () => {
  const doc = readDoc('errors.md')
  const missing = codes.filter((c) => !doc.includes(`\`${c}\``))
  assert.deepEqual(missing, [], `not in docs/errors.md: ${missing.join(', ')}`)
})

test('every GH_ERR_ code docs/errors.md mentions exists in ERROR_CODES', () => {
  const mentioned = new Set(readDoc('errors.md').match(/GH_ERR_[A-Z]+(?:_[A-Z]+)*/g) ?? [])
  const unknown = [...mentioned].filter((c) => !Object.hasOwn(ERROR_CODES, c))
  assert.deepEqual(unknown, [], `docs/errors.md mentions codes that do not exist: ${unknown.join(', ')}`)
})

test('every code has the shape GH_ERR_<AREA>_<CONDITION>', () => {
  const misshapen = codes.filter((c) => !CODE_SHAPE.test(c))
  const newly = misshapen.filter((c) => !KNOWN_MISSHAPEN_CODES.includes(c))
  assert.deepEqual(newly, [], `codes not matching ${CODE_SHAPE}: ${newly.join(', ')}`)
  const fixed = KNOWN_MISSHAPEN_CODES.filter((c) => !misshapen.includes(c))
  assert.deepEqual(fixed, [], `no longer misshapen, remove from KNOWN_MISSHAPEN_CODES: ${fixed.join(', ')}`)
})

test('every code raised with new GatehouseError in packages/gatehouse/src is in ERROR_CODES', () => {
  const raised = new Map<string, string>()
  for (const file of globSync('src/**/*.ts', { cwd: packageDir })) {
    const text = readFileSync(new URL(file, packageDir), 'utf8')
    for (const m of text.matchAll(/new GatehouseError\(\s*['"`]([A-Z_]+)['"`]/g)) raised.set(m[1]!, file)
  }
  assert.ok(
    raised.size > 0,
    'found no `new GatehouseError(` in packages/gatehouse/src; is the pattern stale?',
  )
  const unknown = [...raised].filter(([c]) => !Object.hasOwn(ERROR_CODES, c)).map(([c, f]) => `${c} (${f})`)
  assert.deepEqual(unknown, [], `raised but not in ERROR_CODES: ${unknown.join(', ')}`)
})

test('every key of the root configuration schema has a description', () => {
  const undescribed = undescribedKeys(buildDeclarativeSchema(registry))
  const newly = undescribed.filter((p) => !KNOWN_UNDESCRIBED_KEYS.includes(p))
  assert.deepEqual(newly, [], `keys without .describe(): ${newly.join(', ')}`)
  const fixed = KNOWN_UNDESCRIBED_KEYS.filter((p) => !undescribed.includes(p))
  assert.deepEqual(fixed, [], `now described, remove from KNOWN_UNDESCRIBED_KEYS: ${fixed.join(', ')}`)
})

for (const plugin of registry.all()) {
  test(`every key of the ${plugin.name} plugin's config schema has a description`, () => {
    const undescribed = undescribedKeys(plugin.schema, 'config')
    assert.deepEqual(undescribed, [], `${plugin.name}: keys without .describe(): ${undescribed.join(', ')}`)
  })
}
