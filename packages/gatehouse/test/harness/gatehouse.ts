/**
 * Starts the real `gatehouse` binary for end-to-end tests: a declarative file in a temp dir, both
 * listeners on 127.0.0.1 port 0, stdout parsed as JSON log lines (the ports come from the
 * "gatehouse started" line). Nothing is mocked. Every process is registered (resources.ts), so none
 * outlives its test file, and one that fails to start is killed at once.
 */
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { killGroup, register, spawnTracked } from './resources.ts'

export const BIN = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url))

export interface LogLine {
  level: string
  msg: string
  [key: string]: unknown
}

export interface StartOptions {
  /** A declarative config (object → JSON file) or raw file text (YAML/JSON). */
  config: object | string
  env?: Record<string, string>
  /** Extra arguments after `start --config FILE`. */
  args?: string[]
  /** Milliseconds to wait for the started line. Default 15000. */
  timeout?: number
  /** Also start the status listener on 127.0.0.1 port 0 (`--status-listen`); its URL is `statusUrl`. */
  statusListen?: boolean
}

export class GatehouseProcess {
  readonly child: ChildProcess
  readonly dir: string
  readonly configFile: string
  readonly lines: LogLine[] = []
  /** Raw stdout and stderr text, for assertions that nothing secret was written. */
  stdout = ''
  stderr = ''
  proxyUrl = ''
  adminUrl = ''
  /** The status listener's URL when started with `statusListen`, else ''. */
  statusUrl = ''
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #waiters: { match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = []

  constructor(child: ChildProcess, dir: string, configFile: string) {
    this.child = child
    this.dir = dir
    this.configFile = configFile
    let buffered = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk
      buffered += chunk
      let nl = buffered.indexOf('\n')
      while (nl !== -1) {
        const text = buffered.slice(0, nl)
        buffered = buffered.slice(nl + 1)
        nl = buffered.indexOf('\n')
        try {
          this.#push(JSON.parse(text) as LogLine)
        } catch {
          // not a JSON line; kept in stdout
        }
      }
    })
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk
    })
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  }

  #push(line: LogLine): void {
    this.lines.push(line)
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.match(line)) return true
      w.resolve(line)
      return false
    })
  }

  /** Resolves with the first log line (already seen or future) that matches. */
  waitForLog(match: (l: LogLine) => boolean, timeout = 20_000): Promise<LogLine> {
    const seen = this.lines.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching log line within ${timeout} ms\n${this.stdout}\n${this.stderr}`)),
        timeout,
      )
      this.#waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer)
          resolve(l)
        },
      })
    })
  }

  accessLines(): LogLine[] {
    return this.lines.filter((l) => l.type === 'access')
  }

  /** Replaces the config file (then `reload()` sends SIGHUP). */
  writeConfig(config: object | string): void {
    writeFileSync(this.configFile, typeof config === 'string' ? config : JSON.stringify(config, null, 2))
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig)
  }

  /** SIGTERM and wait for exit; the temp dir is removed. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000)
    const result = await this.exited
    clearTimeout(timer)
    rmSync(this.dir, { recursive: true, force: true })
    return result
  }

  /** Fetch against the proxy. */
  proxy(path: string, init?: RequestInit): Promise<Response> {
    return fetch(this.proxyUrl + path, init)
  }

  /** Fetch against the admin API. */
  admin(path: string, init?: RequestInit): Promise<Response> {
    return fetch(this.adminUrl + path, init)
  }

  /** Fetch against the status listener (start with `statusListen`). */
  status(path: string, init?: RequestInit): Promise<Response> {
    if (this.statusUrl === '') throw new Error('start the gateway with statusListen: true')
    return fetch(this.statusUrl + path, init)
  }
}

export function writeTempConfig(
  config: object | string,
  name = 'gatehouse.yaml',
): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'))
  const file = join(dir, typeof config === 'string' ? name : name.replace(/\.ya?ml$/, '.json'))
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2))
  return { dir, file }
}

export async function startGatehouse(options: StartOptions): Promise<GatehouseProcess> {
  const { dir, file } = writeTempConfig(options.config)
  const child = spawnTracked(
    'gatehouse',
    process.execPath,
    [
      BIN,
      'start',
      '--config',
      file,
      '--proxy-listen',
      '127.0.0.1:0',
      '--admin-listen',
      '127.0.0.1:0',
      ...(options.statusListen ? ['--status-listen', '127.0.0.1:0'] : []),
      ...(options.args ?? []),
    ],
    {
      // One process unless a test asks for workers (`--workers`, or GATEHOUSE_WORKERS in `env`).
      env: { ...process.env, GATEHOUSE_LOG_LEVEL: 'info', GATEHOUSE_WORKERS: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  const gh = new GatehouseProcess(child, dir, file)
  // The process itself is killed by the harness when the file ends; its temp dir goes after it.
  register('gatehouse temp dir', async () => {
    await gh.exited
    rmSync(dir, { recursive: true, force: true })
  })
  // Generous: on a shared, loaded machine a start (compile cache cold, workers) can take a while.
  const started = gh.waitForLog((l) => l.msg === 'gatehouse started', options.timeout ?? 30_000)
  const failed = gh.exited.then(({ code }) => {
    throw new Error(`gatehouse exited with ${code} before starting\n${gh.stderr}\n${gh.stdout}`)
  })
  let line: LogLine
  try {
    line = await Promise.race([started, failed])
  } catch (err) {
    killGroup(child)
    await gh.exited
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  gh.proxyUrl = `http://${line.proxy as string}`
  gh.adminUrl = `http://${line.admin as string}`
  if (typeof line.status === 'string') gh.statusUrl = `http://${line.status}`
  return gh
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  /** Milliseconds before the command is killed. Default 20000. */
  timeout?: number
  /** Written to the command's standard input, which is then closed. Default: no input (stdin ignored). */
  input?: string
}

/**
 * Runs `gatehouse ARGS...` to completion. A command still running after the timeout (default 20 s) is
 * killed and reported with code null, so a command that wrongly keeps running cannot hang the suite.
 * The third argument is the timeout in ms, or options.
 */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  options: number | CliOptions = {},
): Promise<CliResult> {
  const { timeout = 20_000, input } = typeof options === 'number' ? { timeout: options } : options
  return new Promise((resolve) => {
    const child = spawnTracked('gatehouse command', process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout,
      killSignal: 'SIGKILL',
    })
    if (input !== undefined) {
      // A command may exit before reading its input (a usage error): that is not the test's failure.
      child.stdin!.on('error', () => {})
      child.stdin!.end(input)
    }
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      stdout += c
    })
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      stderr += c
    })
    child.once('exit', (code) => resolve({ code, stdout, stderr }))
  })
}
