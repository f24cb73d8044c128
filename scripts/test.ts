/**
 * `npm test`: type-check, lint, then every test file through node's built-in runner. Files are listed
 * explicitly (node's own discovery once silently ran zero tests on Node 20); finding none is a failure.
 * `--no-checks` skips type-check and lint; further arguments filter files by substring.
 *
 * Files run two at a time, each in a node of its own under a watchdog (runner/run-files.ts): a file
 * still running after its timeout is killed with everything it started and named, and the run fails,
 * instead of hanging until CI's limit. Options (or environment variables):
 *   --file-timeout=MS   (GATEHOUSE_TEST_FILE_TIMEOUT)  per file, default 600000
 *   --concurrency=N     (GATEHOUSE_TEST_CONCURRENCY)   files at a time, default 2
 *   --file=PATH         run this file (repeatable) instead of the suite's, e.g. a fixture outside it
 */
import { spawnSync } from 'node:child_process'
import { globSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runFiles } from './runner/run-files.ts'
import { type FileResult, summarize } from './runner/summary.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const checks = !args.includes('--no-checks')
const filters = args.filter((a) => !a.startsWith('--'))
const option = (name: string, env: string, fallback: number): number => {
  const given = args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? process.env[env]
  const value = given === undefined ? fallback : Number(given)
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`--${name} (${env}) must be a positive integer, got ${given}`)
    process.exit(2)
  }
  return value
}
const fileTimeoutMs = option('file-timeout', 'GATEHOUSE_TEST_FILE_TIMEOUT', 600_000)
const concurrency = option('concurrency', 'GATEHOUSE_TEST_CONCURRENCY', 2)
const explicit = args.filter((a) => a.startsWith('--file=')).map((a) => a.slice('--file='.length))

const PATTERNS = [
  'packages/*/src/**/*.test.ts',
  'packages/*/test/**/*.test.ts',
  'examples/**/*.test.ts',
  'scripts/**/*.test.ts',
]
const files =
  explicit.length > 0
    ? explicit
    : PATTERNS.flatMap((p) => globSync(p, { cwd: root, exclude: (f) => f.includes('node_modules') }))
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
  if (run('npx', ['--no-install', 'tsc', '-p', 'packages/console/tsconfig.json']) !== 0) process.exit(1)
  if (run('npx', ['--no-install', 'biome', 'check', '.']) !== 0) process.exit(1)
}
// The admin console's files, as `npm install` built them, rebuilt if its sources changed since (the
// console tests load them through the gateway); a no-op when they are up to date.
if (explicit.length === 0 && run(process.execPath, ['packages/console/scripts/build.ts']) !== 0)
  process.exit(1)
if (files.length === 0) {
  console.error(`no test files found${filters.length ? ` matching ${filters.join(', ')}` : ''}`)
  process.exit(1)
}
console.log(`# ${files.length} test files on Node ${process.version}, ${concurrency} at a time`)

const startedAt = performance.now()
const ended: FileResult[] = []
const running = runFiles(files, {
  root,
  concurrency,
  fileTimeoutMs,
  testTimeoutMs: 300_000,
  onFileEnd: (result, output) => {
    ended.push(result)
    const seconds = (result.ms / 1000).toFixed(1)
    process.stdout.write(`# ${result.file}: ${result.verdict} (${seconds} s)\n${output}`)
    if (!output.endsWith('\n')) process.stdout.write('\n')
  },
})

for (const [signal, number] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
] as const) {
  process.once(signal, () => {
    running.stop()
    process.stdout.write(`# interrupted (${signal}): stopped the files still running\n`)
    process.stdout.write(summarize(ended, fileTimeoutMs, performance.now() - startedAt))
    process.exit(128 + number)
  })
}

const results = await running.done
process.stdout.write(summarize(results, fileTimeoutMs, performance.now() - startedAt))
// Not process.exit: output to a pipe may still be on its way (macOS).
process.exitCode = results.every((r) => r.verdict === 'passed') ? 0 : 1
