/**
 * What the two drivers, `npm run bench` (run.ts) and `npm run bench:soak` (soak.ts), share: settings read
 * from the environment (a bad one stops the driver before anything starts, naming it), the repository's
 * paths, the progress line, command lines as a reader can paste them, Gatehouse's bin script and the Node it
 * needs, servers started pinned to the server CPUs, and the cleanup that stops exactly the processes a
 * driver started, whatever ends it (done, error, Ctrl-C).
 */
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { delimiter, dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { killAllSync, spawnGroup, stopAll } from './procs.ts'
import type { StartContext } from './systems.ts'

/** bench/ and the repository root. */
export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)))
export const ROOT = dirname(BENCH_DIR)

const env = process.env

/** A bad setting: say which, and stop before anything is started. */
export function badSetting(message: string): never {
  console.error(`[bench] ${message}`)
  process.exit(2)
}

/** A whole number ≥ 0 from the environment variable `name`, else `fallback`. */
export function positiveInt(name: string, fallback: number): number {
  const value = Number(env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 0) badSetting(`${name} must be a whole number (got ${env[name]})`)
  return value
}

/** A wrk-style length (`10s`, `2m`, `1h`, `30`) from the environment variable `name`, else `fallback`. */
export function duration(name: string, fallback: string): string {
  const value = env[name] ?? fallback
  if (!/^\d+[smh]?$/.test(value)) badSetting(`${name} must look like 10s, 2m or 30 (got ${value})`)
  return value
}

/** Seconds in a wrk-style length. */
export function seconds(length: string): number {
  const n = Number.parseInt(length, 10)
  return length.endsWith('h') ? n * 3600 : length.endsWith('m') ? n * 60 : n
}

export const say = (text: string) => console.log(`[bench ${new Date().toTimeString().slice(0, 8)}] ${text}`)

/** A command line as a reader can paste it (from the repository root). */
export const shellWords = (argv: string[]) =>
  argv
    .map((a) => (a.startsWith(`${ROOT}/`) ? relative(ROOT, a) : a))
    .map((a) => (/^[\w./:=,@%+-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`))
    .join(' ')

/** The first line a command prints (stdout, then stderr), run from the repository root. */
export function firstLine(argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: ROOT, encoding: 'utf8' })
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0]!.trim()
}

/** Gatehouse needs Node ≥ 22.18; `npm run` puts the repository's Node 24 first on PATH. */
export function requireNode(script: string): void {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  if (major < 22 || (major === 22 && minor < 18)) {
    throw new Error(
      `Node ${process.version} cannot run Gatehouse; use \`npm run ${script}\` (Node 24 from node_modules)`,
    )
  }
}

/**
 * Gatehouse: this checkout's own bin script, the file npm's node_modules/.bin/gatehouse links to — not the
 * link, which in a git worktree sharing another checkout's node_modules leads to that checkout's Gatehouse.
 * Its `#!/usr/bin/env node` must find Node 24: this node's directory goes first on PATH.
 */
export function gatehouseCommand(): StartContext['gatehouse'] {
  // CPU_PROF=<dir>: each Gatehouse process writes a V8 CPU profile there when it stops (one worker per
  // node; a workers2 node's workers are not profiled). Profiles are for finding the hot path, not for
  // the figures: the profiler itself costs a few per cent.
  const profileDir = env.CPU_PROF
  return {
    bin: join(ROOT, 'packages/gatehouse/bin/gatehouse.js'),
    node: profileDir ? [process.execPath, '--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    env: {
      ...process.env,
      PATH: [dirname(process.execPath), join(ROOT, 'node_modules/.bin'), env.PATH].join(delimiter),
    },
  }
}

/**
 * The `start` of a StartContext: each server under `taskset -c serverCpus` when pinning (its children
 * inherit the affinity), in its own process group, its output in `<tmp>/<name>.log`, and its command line
 * (with the environment a reader must set, `shownEnv`) appended to `commands`.
 */
export function pinnedStarter(
  tmp: string,
  pin: boolean,
  serverCpus: string,
  commands: string[],
): StartContext['start'] {
  return (name, argv, options) => {
    const full = pin ? ['taskset', '-c', serverCpus, ...argv] : argv
    const shownEnv = Object.entries(options?.shownEnv ?? {}).map(([k, v]) => `${k}=${v}`)
    commands.push(`${name}: ${shellWords([...shownEnv, ...full])}`)
    say(`starting ${name}`)
    return spawnGroup(name, full[0]!, full.slice(1), {
      cwd: options?.cwd ?? ROOT,
      log: join(tmp, `${name}.log`),
      env: options?.env ?? process.env,
    })
  }
}

/**
 * Installs the cleanup: on SIGINT, SIGTERM or SIGHUP (and at exit) the processes this driver started are
 * stopped (a second Ctrl-C kills them at once). Returns the function that ends the driver with `code`: it
 * stops them, removes the scratch directory `tmp()` after a clean run unless `keepTmp`, and exits.
 */
export function onShutdown(
  tmp: () => string,
  keepTmp: boolean,
): (code: number, why?: string) => Promise<void> {
  let stopping: Promise<void> | null = null
  const shutdown = (code: number, why?: string): Promise<void> => {
    stopping ??= (async () => {
      if (why) console.error(`[bench] ${why}; stopping the processes it started`)
      await stopAll()
      const dir = tmp()
      if (dir && code === 0 && !keepTmp) rmSync(dir, { recursive: true, force: true })
      else if (dir) console.error(`[bench] logs and configs kept in ${dir}`)
      process.exit(code)
    })()
    return stopping
  }
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.on(signal, () => {
      if (stopping) {
        killAllSync() // a second Ctrl-C: do not wait any longer
        process.exit(code)
      }
      void shutdown(code, `got ${signal}`)
    })
  }
  process.on('exit', killAllSync)
  return shutdown
}
