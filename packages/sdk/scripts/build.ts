/**
 * Builds gatehouse-sdk for Node 20+ (`npm run build -w gatehouse-sdk`): the repository's tsc, with
 * tsconfig.build.json, emits dist/*.js and dist/*.d.ts, relative `.ts` imports rewritten to `.js`
 * (rewriteRelativeImportExtensions for the JavaScript, a rewrite here for the declarations), targeting ES2022 with the ES2023 library so nothing newer than
 * Node 20 slips in. Workspace code keeps importing src/*.ts through the package's `exports`.
 *
 * `--out <dir>` also assembles the package as it is published, in <dir>: dist/, README.md, and a
 * package.json whose `exports` are its `publishConfig.exports` (dist/) and without its scripts and
 * devDependencies. Publish that directory (`npm publish <dir>`): npm, unlike pnpm and yarn, does not
 * apply `publishConfig.exports` itself; the root `npm run pack` does both. As the package's `prepack` it
 * refuses: `npm pack -w packages/sdk` would pack a manifest whose `exports` name the TypeScript sources.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
if (process.env.npm_lifecycle_event === 'prepack') {
  console.error(
    'gatehouse-sdk: `npm pack` here would pack exports that name the TypeScript sources. Run\n' +
      '`npm run pack` at the repository root: it builds the package as published and packs that.',
  )
  process.exit(1)
}
const args = process.argv.slice(2)
const outAt = args.indexOf('--out')
const outArg = outAt === -1 ? undefined : args[outAt + 1]
if (outAt !== -1 && (outArg === undefined || outArg.startsWith('--'))) {
  console.error('usage: node scripts/build.ts [--out <dir>]')
  process.exit(2)
}
const out = outArg === undefined ? null : resolve(outArg)
const dist = out === null ? join(root, 'dist') : join(out, 'dist')

const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
rmSync(dist, { recursive: true, force: true })
const built = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist], {
  stdio: 'inherit',
})
if (built.status !== 0) process.exit(built.status ?? 1)

// tsc rewrites `.ts` imports in the JavaScript only; declarations get `.js` too, which every TypeScript
// version resolves to the `.d.ts` beside it.
for (const file of readdirSync(dist).filter((f) => f.endsWith('.d.ts'))) {
  const path = join(dist, file)
  const text = readFileSync(path, 'utf8')
  writeFileSync(path, text.replace(/(from '\.\.?\/[^']+)\.ts'/g, "$1.js'"))
}

if (out !== null) {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>
  const { scripts: _scripts, devDependencies: _dev, publishConfig, ...published } = manifest
  const exports = (publishConfig as { exports?: unknown } | undefined)?.exports
  if (exports === undefined) throw new Error('package.json has no publishConfig.exports')
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, 'package.json'), `${JSON.stringify({ ...published, exports }, null, 2)}\n`)
  copyFileSync(join(root, 'README.md'), join(out, 'README.md'))
  copyFileSync(join(root, '..', '..', 'LICENSE'), join(out, 'LICENSE'))
}
console.log(`gatehouse-sdk built into ${out ?? dist}`)
