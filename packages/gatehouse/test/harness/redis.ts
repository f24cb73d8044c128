/**
 * A real `redis-server` for end-to-end tests: found on PATH, started on a free loopback port with no
 * persistence, in a temp dir, and waited for until it answers PING. It can be killed and started again
 * on the same port (outage tests), and is stopped after its test file whatever its hooks do
 * (resources.ts). Nothing is mocked.
 *
 * Without redis-server the tests fail with a message to install it, unless GATEHOUSE_TEST_SKIP_REDIS=1,
 * when they are skipped with that reason.
 */
import type { ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { createServer, connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { register, spawnTracked } from './resources.ts'

const SKIP_ENV = 'GATEHOUSE_TEST_SKIP_REDIS'

/** The redis-server executable on PATH, or null. */
export function findRedisServer(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, 'redis-server')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return null
}

/**
 * Why Redis tests are skipped (a `skip` reason for node:test), or false when they run. Throws when
 * redis-server is missing and skipping was not asked for, so a missing server never passes silently.
 */
export function redisSkipReason(): string | false {
  if (findRedisServer() !== null) return false
  if (process.env[SKIP_ENV] === '1') return `redis-server is not installed (${SKIP_ENV}=1)`
  throw new Error(
    `redis-server is not on PATH: install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), or set ${SKIP_ENV}=1 to skip the Redis tests`,
  )
}

export class RedisServer {
  readonly port: number
  readonly dir: string
  readonly #bin: string
  #child: ChildProcess | null = null
  #output = ''
  readonly #release: () => void

  constructor(bin: string, port: number, dir: string) {
    this.#bin = bin
    this.port = port
    this.dir = dir
    this.#release = register('redis-server', () => this.stop())
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  get running(): boolean {
    return this.#child !== null
  }

  /** Starts the server on its port and waits for PING (rejects after `timeout` ms). */
  async start(timeout = 10_000): Promise<void> {
    if (this.#child !== null) return
    const child = spawnTracked(
      'redis-server',
      this.#bin,
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    this.#child = child
    this.#output = ''
    child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      this.#output += c
    })
    child.stderr!.setEncoding('utf8').on('data', (c: string) => {
      this.#output += c
    })
    child.once('exit', () => {
      if (this.#child === child) this.#child = null
    })
    const deadline = Date.now() + timeout
    while (!(await ping(this.port))) {
      if (this.#child !== child) throw new Error(`redis-server exited before answering PING\n${this.#output}`)
      if (Date.now() > deadline) throw new Error(`redis-server did not answer PING within ${timeout} ms`)
      await new Promise((r) => setTimeout(r, 25))
    }
  }

  /** Kills the server at once (SIGKILL: an outage, not a shutdown) and waits for it to be gone. */
  async kill(): Promise<void> {
    const child = this.#child
    if (child === null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill('SIGKILL')
    await exited
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    this.#release()
    await this.kill()
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** Starts a server on a free loopback port. Call `redisSkipReason()` first. */
export async function startRedis(): Promise<RedisServer> {
  const bin = findRedisServer()
  if (bin === null) throw new Error('redis-server is not on PATH (see redisSkipReason)')
  let lastError: unknown
  // The port is free when picked; another process may take it before redis binds it, so retry.
  for (let attempt = 0; attempt < 5; attempt++) {
    const server = new RedisServer(bin, await freePort(), mkdtempSync(join(tmpdir(), 'gatehouse-redis-')))
    try {
      await server.start()
      return server
    } catch (err) {
      lastError = err
      await server.stop()
    }
  }
  throw lastError
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** True when a server on `port` answers PING with PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port })
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.setEncoding('utf8').on('data', (c: string) => {
      reply += c
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}
