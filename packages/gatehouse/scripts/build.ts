/**
 * Assembles gatehouse-gateway as it is published, in <dir>: `node scripts/build.ts --out <dir>` (the
 * root `npm run pack` runs it, then `npm pack <dir>`). The repository runs the TypeScript sources; an
 * installed package cannot, since Node refuses to strip types under node_modules, so <dir> holds:
 *
 * - dist/: src/ compiled by the repository's tsc (tsconfig.build.json), JavaScript and declarations, with
 *   relative `.ts` imports rewritten to `.js`. tsc rather than esbuild: it keeps one output module per
 *   source module (the plugin registry finds plugins by folder, the cluster starts its worker by path),
 *   rewrites import specifiers (esbuild leaves them alone when it does not bundle) and writes the .d.ts
 *   of the programmatic API. `--noCheck`: type-checking is `npm run typecheck`'s job; emit alone is a
 *   third of the time.
 * - dist/console/: the admin console's built files (packages/console, built first when stale), which
 *   admin/console.ts looks for there: @gatehouse/console is a workspace package and never published.
 * - bin/gatehouse.js (it runs dist/ when there is no src/), README.md, LICENSE.
 * - package.json: this one with `exports` from `publishConfig.exports`, which npm pack, unlike pnpm,
 *   does not apply; without scripts, devDependencies and the workspace-only @gatehouse/console.
 *
 * As this package's `prepack` it refuses: `npm pack -w packages/gatehouse` would pack the sources.
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const repo = join(root, '..', '..')

if (process.env.npm_lifecycle_event === 'prepack') {
  console.error(
    'gatehouse-gateway: `npm pack` here would pack the TypeScript sources, which Node cannot run from\n' +
      'node_modules. Run `npm run pack` at the repository root: it compiles the package and packs that.',
  )
  process.exit(1)
}

const args = process.argv.slice(2)
const outAt = args.indexOf('--out')
const outArg = outAt === -1 ? undefined : args[outAt + 1]
if (outArg === undefined || outArg.startsWith('--')) {
  console.error('usage: node scripts/build.ts --out <dir>')
  process.exit(2)
}
const out = resolve(outArg)
const dist = join(out, 'dist')

function run(command: string, argv: string[]): void {
  const result = spawnSync(command, argv, { stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}

rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc')
run(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', dist, '--noCheck'])

// tsc rewrites `.ts` imports in the JavaScript only; declarations get `.js` too, which every TypeScript
// version resolves to the `.d.ts` beside it.
for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue
  const path = join(entry.parentPath, entry.name)
  const text = readFileSync(path, 'utf8')
  writeFileSync(path, text.replace(/((?:from |import\()(['"])\.\.?\/[^'"]+)\.ts\2/g, '$1.js$2'))
}

// The console: only the files its manifest lists (what the admin listener may serve) and the manifest.
run(process.execPath, [join(repo, 'packages', 'console', 'scripts', 'build.ts')])
const consoleDist = join(repo, 'packages', 'console', 'dist')
const { files } = JSON.parse(readFileSync(join(consoleDist, 'manifest.json'), 'utf8')) as { files: string[] }
for (const file of [...files, 'manifest.json']) cpSync(join(consoleDist, file), join(dist, 'console', file))

cpSync(join(root, 'bin'), join(out, 'bin'), { recursive: true })
copyFileSync(join(root, 'README.md'), join(out, 'README.md'))
copyFileSync(join(repo, 'LICENSE'), join(out, 'LICENSE'))

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>
const { scripts: _scripts, devDependencies: _dev, publishConfig, dependencies, ...published } = manifest
const exports = (publishConfig as { exports?: unknown } | undefined)?.exports
if (exports === undefined) throw new Error('package.json has no publishConfig.exports')
const { '@gatehouse/console': _console, ...runtime } = dependencies as Record<string, string>
writeFileSync(
  join(out, 'package.json'),
  `${JSON.stringify({ ...published, exports, files: ['bin', 'dist'], dependencies: runtime }, null, 2)}\n`,
)
console.log(`gatehouse-gateway assembled in ${out}`)
