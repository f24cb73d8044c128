/**
 * Everything a test starts (gateway and service processes, PostgreSQL, Redis, browsers, servers) is
 * registered here the moment it exists, or while it is still starting, and closed after the test file
 * whatever the file's own `after` hooks manage: a `before` that throws halfway, or a rejected
 * `Promise.all`, leaves what did start with no variable to close it by, and one live browser or server
 * keeps the test process, and with it the whole run, from ending (issue 10, section 6). The harness's
 * start functions register themselves, so test files need nothing of their own.
 *
 * Child processes are also bound to this process's life, even when it is killed outright: each gets a
 * process group of its own (so its own children go with it) and the kernel's parent-death signal where
 * there is one (die-with-parent.ts); their groups are killed on exit and on SIGINT, SIGTERM and SIGHUP.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import type { Server as NetServer, Socket } from 'node:net'
import { after } from 'node:test'
import { dieWithParent } from './die-with-parent.ts'

interface Entry {
  readonly name: string
  /** The orderly way, awaited by the `after` hook. */
  readonly close: () => unknown
  /** At once and synchronously, for process exit and signals, when nothing can be awaited. */
  readonly kill: (() => void) | null
}

const live = new Set<Entry>()
const starting = new Set<Promise<unknown>>()
/** Set once the file's `after` hook began: what registers later is closed at once. */
let closing = false

/** How long the `after` hook waits for orderly closes before killing what is left. */
const CLOSE_GRACE_MS = 20_000

/**
 * Registers something to close after the file; returns `release`, for its owner to call once it closed
 * it (closing twice is harmless, but the registry would grow).
 */
export function register(name: string, close: () => unknown, kill: (() => void) | null = null): () => void {
  const entry: Entry = { name, close, kill }
  live.add(entry)
  if (closing) void closeOne(entry)
  return () => {
    live.delete(entry)
  }
}

/**
 * Registers a resource that is still starting, so that a test failing meanwhile cannot lose it: once it
 * has started it is registered like any other (and closed at once if the file is already done). Returns
 * `start` unchanged.
 */
export function registerStarting<T>(
  name: string,
  start: Promise<T>,
  close: (value: T) => unknown,
  kill: ((value: T) => void) | null = null,
): Promise<T> {
  const settled = start.then(
    (value) => void register(name, () => close(value), kill === null ? null : () => kill(value)),
    () => undefined,
  )
  starting.add(settled)
  void settled.finally(() => starting.delete(settled))
  return start
}

/**
 * `spawn`, for a process that must not outlive the test: in a process group of its own, killed (with
 * its group) when the file ends, when this process exits or is signalled, and by the kernel when this
 * process dies any other way (die-with-parent.ts; the pid is the command's own).
 */
export function spawnTracked(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnOptions = {},
): ChildProcess {
  const [bound, argv] = dieWithParent(command, args)
  const child = spawn(bound, argv, { ...options, detached: true })
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.once('error', () => resolve())
  })
  const release = register(
    name,
    async () => {
      killGroup(child)
      await exited
    },
    () => killGroup(child),
  )
  void exited.then(release)
  return child
}

/** SIGKILL to the child's process group (it leads one: spawnTracked), and to the child itself. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  for (const target of [-child.pid, child.pid]) {
    try {
      process.kill(target, signal)
    } catch {
      // gone already
    }
  }
}

/**
 * Registers a server before it listens: closed after the file, if it is listening then, with its
 * connections cut (a keep-alive connection would otherwise hold `close` open). A server that stops and
 * listens again (a target coming back) stays registered.
 */
export function trackServer<S extends NetServer>(name: string, server: S): S {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  register(name, () => {
    if (!server.listening) return
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const socket of sockets) socket.destroy()
    return closed
  })
  return server
}

async function closeOne(entry: Entry): Promise<void> {
  try {
    await entry.close()
  } catch (err) {
    process.stderr.write(`# could not close ${entry.name} after the tests: ${String(err)}\n`)
    entry.kill?.()
  }
}

/** The file's last hook: waits for what is still starting, closes everything, and kills what lingers. */
async function closeAll(): Promise<void> {
  closing = true
  const orderly = (async () => {
    await Promise.all([...starting])
    await Promise.all([...live].map(closeOne))
  })()
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, CLOSE_GRACE_MS)
    void orderly.finally(() => {
      clearTimeout(timer)
      resolve()
    })
  })
  killAll()
}

function killAll(): void {
  for (const entry of live) {
    try {
      entry.kill?.()
    } catch {
      // best effort: the process is going away
    }
  }
}

after(closeAll)
process.once('exit', killAll)
for (const [signal, number] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
] as const) {
  process.once(signal, () => {
    killAll()
    process.exit(128 + number)
  })
}
