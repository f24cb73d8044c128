/**
 * Builds the admin console into dist/: one JavaScript bundle and one CSS file with content hashes in
 * their names (served as immutable), index.html naming them (served as no-cache), and manifest.json
 * listing exactly the files the admin listener may serve. Run by the root `postinstall` (so a fresh
 * `npm install` has it), by `npm start` and `npm test` before they run, and by `npm run build:console`.
 *
 * Skips the work when dist/ was built from the same inputs (sources, this script, the bundled packages'
 * versions): a second build costs a hash of a few files. The new dist/ is assembled beside the old one
 * and swapped in by renames, so a gateway serving it never sees half a build, and two builds at once
 * (two test files) leave one complete result. `--force` builds even when up to date.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = join(root, 'src')
const dist = join(root, 'dist')
const force = process.argv.includes('--force')
const require = createRequire(import.meta.url)

/** What the build depends on: every source file, this script, and the versions of what is bundled. */
function inputHash(): string {
  const hash = createHash('sha256')
  const files = readdirSync(src, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort()
  for (const file of [...files, fileURLToPath(import.meta.url)]) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0')
  }
  for (const name of ['esbuild', 'preact', 'uplot'])
    hash.update(`${name}@${(require(`${name}/package.json`) as { version: string }).version}\0`)
  return hash.digest('hex')
}

interface Manifest {
  readonly input: string
  /** Every file the admin listener serves under /console/, by name. */
  readonly files: readonly string[]
  readonly built_at: string
}

function upToDate(input: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(dist, 'manifest.json'), 'utf8')) as Manifest
    return manifest.input === input && manifest.files.every((f) => existsSync(join(dist, f)))
  } catch {
    return false
  }
}

const input = inputHash()
if (!force && upToDate(input)) {
  console.log('console: up to date (packages/console/dist)')
  process.exit(0)
}

const { build } = await import('esbuild')
const staging = `${dist}.tmp-${process.pid}`
rmSync(staging, { recursive: true, force: true })
mkdirSync(staging, { recursive: true })
const result = await build({
  entryPoints: { app: join(src, 'main.tsx') },
  outdir: staging,
  bundle: true,
  format: 'esm',
  // Browsers of the last few years; nothing here needs a polyfill.
  target: ['chrome111', 'edge111', 'firefox115', 'safari16.4'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  // The bundled packages' licence comments (preact, uPlot: MIT) go into a file of their own.
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
})
// A warning (an unbalanced brace in the stylesheet, say) means the page is not what its source says:
// refuse to ship it.
if (result.warnings.length > 0) {
  rmSync(staging, { recursive: true, force: true })
  throw new Error(`console: the build has ${result.warnings.length} warning(s), shown above; fix them`)
}
const outputs = Object.keys(result.metafile.outputs).map((p) => relative(staging, join(process.cwd(), p)))
const script = outputs.find((f) => f.endsWith('.js'))
const style = outputs.find((f) => f.endsWith('.css'))
if (script === undefined || style === undefined) throw new Error(`console: unexpected outputs ${outputs}`)

const template = readFileSync(join(src, 'index.html'), 'utf8')
writeFileSync(
  join(staging, 'index.html'),
  template.replace('%STYLE%', `./${style}`).replace('%SCRIPT%', `./${script}`),
)
const files = readdirSync(staging).sort()
writeFileSync(
  join(staging, 'manifest.json'),
  `${JSON.stringify({ input, files, built_at: new Date().toISOString() } satisfies Manifest, null, 2)}\n`,
)

// Swap: the old dist/ moves aside, the new one takes its place. A concurrent build that swapped first
// wins; ours is then discarded (it was built from the same inputs, or the next build will redo it).
const old = `${dist}.old-${process.pid}`
try {
  if (existsSync(dist)) renameSync(dist, old)
  renameSync(staging, dist)
} catch (err) {
  if (!upToDate(input)) throw err
} finally {
  rmSync(old, { recursive: true, force: true })
  rmSync(staging, { recursive: true, force: true })
}
console.log(`console: built ${files.join(', ')} in packages/console/dist`)
