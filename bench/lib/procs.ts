/**
 * Process and machine helpers for the benchmark driver (bench/run.ts):
 *
 * - every process the benchmark starts goes through `spawnGroup`, which makes it the leader of its own
 *   process group (detached) and records it; `stopAll` signals exactly those groups (TERM, then KILL
 *   after a grace period) and nothing else, so a Ctrl-C or a crash never leaves servers behind and never
 *   touches other processes on the machine;
 * - free loopback ports (bind port 0, read the number, close), waiting for a port, HTTP GETs for the
 *   pre-run checks (status, or status, headers and body);
 * - machine-wide CPU accounting from /proc, used to wait for a quiet machine before each measurement and
 *   to tell how much CPU other processes took while it ran (the noise indicator); a server's own CPU and
 *   memory, over its whole process tree, are in proc-tree.ts.
 *
 * Linux only (process groups, /proc), like the rest of the benchmark.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import http from 'node:http'
import net, { type AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

export interface Started {
  name: string
  child: ChildProcess
  /** The child's PID, which is also its process-group id. */
  pid: number
  log: string
  exited: Promise<void>
}

const started = new Map<number, Started>()

/** Starts `command args` as the leader of a new process group, stdout and stderr to `log`. */
export function spawnGroup(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; log: string; env?: NodeJS.ProcessEnv },
): Started {
  const fd = openSync(options.log, 'w')
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true, // setsid(): own session and process group, and no SIGINT from the terminal
    stdio: ['ignore', fd, fd],
  })
  closeSync(fd)
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.once('error', () => resolve()) // e.g. command not found; reported just below
  })
  if (child.pid === undefined)
    throw new Error(`could not start ${name}: ${command} not found or not executable`)
  const pid = child.pid
  const entry: Started = { name, child, pid, log: options.log, exited }
  started.set(pid, entry)
  void exited.then(() => {
    // The leader is gone; forget the group once nothing in it is left (nginx workers may linger).
    if (!groupAlive(pid)) started.delete(pid)
  })
  return entry
}

/** True while any process of the group led by `pgid` exists. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch {
    // already gone
  }
}

/** TERM the group, wait up to `graceMs` for all of it to disappear, then KILL what is left. */
export async function stopGroup(entry: Started, graceMs = 5000): Promise<void> {
  signalGroup(entry.pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  // Sleeping lets node reap the leader (a zombie leader would keep the group "alive").
  while (groupAlive(entry.pid) && Date.now() < deadline) await sleep(100)
  if (groupAlive(entry.pid)) {
    console.error(
      `[bench] ${entry.name} (pid ${entry.pid}) still running ${graceMs / 1000} s after SIGTERM; SIGKILL`,
    )
    signalGroup(entry.pid, 'SIGKILL')
    await Promise.race([entry.exited, sleep(2000)])
  }
  started.delete(entry.pid)
}

/** Stops every group this process started, in parallel. */
export async function stopAll(): Promise<void> {
  await Promise.all([...started.values()].map((entry) => stopGroup(entry)))
}

/** Last resort from a synchronous `exit` handler: SIGKILL whatever is still recorded. */
export function killAllSync(): void {
  for (const pgid of started.keys()) signalGroup(pgid, 'SIGKILL')
  started.clear()
}

/** Distinct free ports on 127.0.0.1: bind port 0 `count` times at once, read the numbers, close. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer()
          server.once('error', reject)
          server.listen(0, '127.0.0.1', () => resolve(server))
        }),
    ),
  )
  const ports = servers.map((s) => (s.address() as AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  return ports
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** Waits up to `timeoutMs` for 127.0.0.1:port to accept; fails early if `entry`'s process exits. */
export async function waitPort(port: number, entry: Started | null, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await canConnect(port)) return
    if (entry && (entry.child.exitCode !== null || entry.child.signalCode !== null)) {
      throw new Error(`${entry.name} exited before listening on port ${port}; see ${entry.log}`)
    }
    await sleep(100)
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs / 1000} s; see ${entry?.log}`)
}

/**
 * Status code of `GET http://127.0.0.1:port/` on a fresh connection, with `Authorization: Bearer <token>`
 * when a token is given (0 on a network error or after 5 s without an answer).
 */
export async function httpStatus(port: number, token?: string): Promise<number> {
  return (await httpGet(port, '/', token)).status
}

/** `GET http://127.0.0.1:port<path>` as httpStatus does, with the answer's headers and body as text. */
export function httpGet(
  port: number,
  path: string,
  token?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve) => {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` }
    const options = { host: '127.0.0.1', port, path, agent: false, timeout: 5000, headers }
    const failed = () => resolve({ status: 0, headers: {}, body: '' })
    const req = http.get(options, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      )
      res.on('error', failed)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', failed)
  })
}

// --- CPU accounting (clock ticks; USER_HZ is 100 on Linux) ---

export const TICKS_PER_SECOND = 100

/** Machine-wide busy ticks so far, all CPUs: user + nice + system + steal (interrupts excluded). */
export function machineBusyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!
  const f = line.trim().split(/\s+/).map(Number)
  return f[1]! + f[2]! + f[3]! + f[8]!
}

/** user+system ticks of this driver itself and of its children already reaped (i.e. finished wrk runs). */
export function selfTicks(): { self: number; reapedChildren: number } {
  const f = statFields(readFileSync('/proc/self/stat', 'utf8'))
  return { self: f[11]! + f[12]!, reapedChildren: f[13]! + f[14]! }
}

/** Fields after "pid (comm) ", as numbers: [0] state, [2] pgrp, [11] utime, [12] stime, [13] cutime … */
function statFields(stat: string): number[] {
  return stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number)
}

/**
 * The machine may be shared: wait (at most `maxWaitS` seconds) until everything running uses less
 * than `quietPct`% of one core, measured over 1 s while our servers are idle. Returns the last figure.
 */
export async function waitQuiet(
  quietPct: number,
  maxWaitS: number,
  say: (s: string) => void,
): Promise<number> {
  for (let waited = 0; ; waited++) {
    const b0 = machineBusyTicks()
    await sleep(1000)
    const pct = ((machineBusyTicks() - b0) * 100) / TICKS_PER_SECOND
    if (pct < quietPct) return pct
    if (waited >= maxWaitS) {
      say(`machine still busy (${pct.toFixed(0)}% of a core used by others); measuring anyway`)
      return pct
    }
    if (waited % 10 === 0) say(`waiting for a quiet machine (${pct.toFixed(0)}% of a core used by others)`)
  }
}

/** The last `lines` non-empty lines of a log file ('' when it cannot be read). */
export function logTail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-lines).join('\n')
  } catch {
    return ''
  }
}
