/**
 * One process of the demo (a service or Gatehouse), as start.ts runs it: spawned with the same Node, its
 * output read line by line (the last lines kept, to show when it fails), a wait for the line that says
 * it is ready, and a stop that escalates to SIGKILL, so that nothing outlives the demo.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'

const KEPT_LINES = 200

/** How a process is started: node's spawn, or one that also binds it to its parent (the tests' harness). */
export type Spawn = (
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions,
) => ChildProcess

export interface ChildOptions {
  /** Shown in messages, e.g. `catalog`. */
  readonly name: string
  /** Arguments after the Node executable: the script and its arguments. */
  readonly args: readonly string[]
  readonly env: NodeJS.ProcessEnv
  /** Open an IPC channel: the child can then notice when this process is gone (the services do). */
  readonly ipc?: boolean
  /** Called with every line the child writes (stdout and stderr). */
  readonly onLine?: (line: string, stream: 'stdout' | 'stderr') => void
  /** Default: node's spawn. */
  readonly spawn?: Spawn
}

export class Child {
  readonly name: string
  readonly process: ChildProcess
  /** The last lines the child wrote, oldest first. */
  readonly lines: string[] = []
  /** Resolves once the child has exited, with its code or signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  #listeners: ((line: string) => void)[] = []

  constructor(options: ChildOptions) {
    this.name = options.name
    const start: Spawn = options.spawn ?? ((_name, command, args, o) => spawn(command, args, o))
    this.process = start(options.name, process.execPath, options.args, {
      env: options.env,
      stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    })
    this.exited = new Promise((resolve) =>
      this.process.once('exit', (code, signal) => resolve({ code, signal })),
    )
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = ''
      this.process[stream]!.setEncoding('utf8').on('data', (chunk: string) => {
        partial += chunk
        let nl = partial.indexOf('\n')
        while (nl !== -1) {
          const line = partial.slice(0, nl)
          partial = partial.slice(nl + 1)
          nl = partial.indexOf('\n')
          this.lines.push(line)
          if (this.lines.length > KEPT_LINES) this.lines.shift()
          options.onLine?.(line, stream)
          for (const listener of this.#listeners) listener(line)
        }
      })
    }
  }

  get pid(): number {
    return this.process.pid ?? -1
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null
  }

  /**
   * Resolves with the first JSON line (from now on) that `match` accepts; rejects when the child exits
   * first or after `timeout` ms, with what it wrote.
   */
  waitForJson<T extends object>(
    match: (line: Record<string, unknown>) => boolean,
    timeout: number,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer)
        this.#listeners = this.#listeners.filter((l) => l !== listener)
        fn()
      }
      const listener = (line: string) => {
        if (!line.startsWith('{')) return
        let parsed: Record<string, unknown>
        try {
          parsed = JSON.parse(line) as Record<string, unknown>
        } catch {
          return
        }
        if (match(parsed)) done(() => resolve(parsed as T))
      }
      const timer = setTimeout(
        () => done(() => reject(new ChildFailed(this, `not ready within ${timeout / 1000} s`))),
        timeout,
      )
      this.#listeners.push(listener)
      this.exited.then(({ code, signal }) =>
        done(() => reject(new ChildFailed(this, `exited (${signal ?? `code ${code}`}) before it was ready`))),
      )
    })
  }

  /** SIGTERM, then SIGKILL after `grace` ms; resolves when the child is gone. */
  async stop(grace = 12_000): Promise<void> {
    if (!this.running) return
    this.process.kill('SIGTERM')
    const timer = setTimeout(() => this.process.kill('SIGKILL'), grace)
    await this.exited
    clearTimeout(timer)
  }
}

/** A child that failed to start or stopped on its own; the message ends with its last output. */
export class ChildFailed extends Error {
  readonly child: Child
  constructor(child: Child, what: string) {
    const output = child.lines.slice(-40).join('\n')
    super(`${child.name} ${what}${output ? `; its last output:\n${output}` : ' (no output)'}`)
    this.child = child
  }
}
