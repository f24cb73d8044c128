/**
 * `npm test`: type-check, lint, then every test file through node's built-in runner. Files are listed
 * explicitly (node's own discovery once silently ran zero tests on Node 20); finding none is a failure.
 * `--no-checks` skips type-check and lint; further arguments filter files by substring.
 */
import { spawnSync } from 'node:child_process'
import { globSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const checks = !args.includes('--no-checks')
const filters = args.filter((a) => !a.startsWith('--'))

const PATTERNS = [
  'packages/*/src/**/*.test.ts',
  'packages/*/test/**/*.test.ts',
  'examples/**/*.test.ts',
  'scripts/**/*.test.ts',
]
const files = PATTERNS.flatMap((p) => globSync(p, { cwd: root, exclude: (f) => f.includes('node_modules') }))
  .map((f) => relative(root, `${root}/${f}`))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()

function run(command: string, commandArgs: string[]): number {
  const r = spawnSync(command, commandArgs, { cwd: root, stdio: 'inherit' })
  return r.status ?? 1
}

if (checks) {
  console.log('# type-check (tsc) and lint (biome)')
  if (run('npx', ['--no-install', 'tsc', '-p', 'tsconfig.json']) !== 0) process.exit(1)
  if (run('npx', ['--no-install', 'biome', 'check', '.']) !== 0) process.exit(1)
}
if (files.length === 0) {
  console.error(`no test files found${filters.length ? ` matching ${filters.join(', ')}` : ''}`)
  process.exit(1)
}
console.log(`# ${files.length} test files on Node ${process.version}`)
process.exit(run(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files]))
