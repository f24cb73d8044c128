/**
 * Runs test files a few at a time, each as `node --test FILE` in a process of its own, with a watchdog:
 * a file still running after its timeout is killed with everything it started (process-tree.ts), named,
 * and failed, so one hanging file cannot hold the run until CI's limit (issue 10, section 6). Node's own
 * runner cannot say which of its children is which file, hence one node per file here (test isolation
 * none: the file runs in that process, so its pid is the tree's root). Each file's output is kept and
 * printed whole when it ends, so files running side by side do not interleave.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { dieWithParent } from '../../packages/gatehouse/test/harness/die-with-parent.ts'
import { killTree } from './process-tree.ts'
import { countsOf, type FileResult } from './summary.ts'

export interface RunOptions {
  readonly root: string
  readonly concurrency: number
  /** Milliseconds a file may run before the watchdog kills it. */
  readonly fileTimeoutMs: number
  /** Node's per-test timeout (`--test-timeout`), kept inside each file. */
  readonly testTimeoutMs: number
  /** Called with each file's output and result as it ends. */
  readonly onFileEnd: (result: FileResult, output: string) => void
}

interface Running {
  readonly file: string
  kill(): void
}

/** Runs every file; resolves with their results in the order they ended. `stop()` kills what runs. */
export function runFiles(
  files: readonly string[],
  options: RunOptions,
): { done: Promise<FileResult[]>; stop: () => void } {
  const queue = [...files]
  const results: FileResult[] = []
  const running = new Set<Running>()
  const reports = mkdtempSync(join(tmpdir(), 'gatehouse-test-run-'))
  let stopped = false
  let started = 0
  let finish: (results: FileResult[]) => void = () => {}
  const done = new Promise<FileResult[]>((resolve) => {
    finish = (r) => {
      rmSync(reports, { recursive: true, force: true })
      resolve(r)
    }
  })

  const next = (): void => {
    if (stopped) return
    const file = queue.shift()
    if (file === undefined) {
      if (running.size === 0) finish(results)
      return
    }
    const tap = join(reports, `${started++}.tap`)
    const since = performance.now()
    const [command, args] = dieWithParent(process.execPath, [
      '--test',
      '--test-isolation=none',
      `--test-timeout=${options.testTimeoutMs}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      file,
    ])
    const child = spawn(command, args, {
      cwd: options.root,
      // Its own process group: a terminal's Ctrl-C reaches the runner, which ends each file itself.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.stdout.isTTY ? { FORCE_COLOR: '1', ...process.env } : process.env,
    })
    let output = ''
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8')
    }
    child.stdout!.on('data', collect)
    child.stderr!.on('data', collect)
    let killed = false
    const kill = () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) killTree(child.pid)
    }
    const watchdog = setTimeout(() => {
      killed = true
      kill()
    }, options.fileTimeoutMs)
    const entry: Running = { file, kill }
    running.add(entry)
    child.once('error', (err) => {
      output += `\n# could not start node for ${file}: ${err.message}\n`
    })
    child.once('exit', () => {
      // A process it left behind may hold the output pipes open: do not wait for them for long.
      setTimeout(() => {
        child.stdout!.destroy()
        child.stderr!.destroy()
      }, 2000).unref()
    })
    child.once('close', (code) => {
      clearTimeout(watchdog)
      running.delete(entry)
      let report = ''
      try {
        report = readFileSync(tap, 'utf8')
      } catch {
        // killed or crashed before the reporter wrote anything
      }
      const verdict = killed ? 'killed' : code === 0 ? 'passed' : 'failed'
      if (killed)
        output += `\n# ${file} was still running after its ${options.fileTimeoutMs} ms file timeout: killed it and every process it started\n`
      const result: FileResult = {
        file,
        verdict,
        counts: countsOf(report),
        ms: performance.now() - since,
      }
      results.push(result)
      options.onFileEnd(result, output)
      next()
    })
  }

  for (let i = 0; i < Math.max(1, options.concurrency); i++) next()
  if (files.length === 0) finish(results)

  return {
    done,
    stop: () => {
      stopped = true
      for (const r of running) r.kill()
      rmSync(reports, { recursive: true, force: true })
    },
  }
}
