/**
 * A real PostgreSQL server for tests, started from the installed binaries into a temp dir: `initdb`
 * (trust authentication: only loopback and a private socket folder can reach it), then `postgres` on a
 * free port of 127.0.0.1 with durability off (fsync, synchronous_commit, full_page_writes) for speed.
 * One server per test file (`before`/`after`), one fresh database per suite or test (`createDatabase`).
 *
 * The binaries are looked up on PATH, then in Debian's /usr/lib/postgresql/<version>/bin (newest
 * first). PostgreSQL refuses to run as root, so as root both run as the `postgres` OS user (which
 * Debian's package creates; the processes are spawned with its uid and gid, as `runuser -u postgres`
 * would), in a temp dir it owns. The server is then this process's own child, so stopping it is one
 * signal, and it is registered (resources.ts): stopped after its test file, killed if this process
 * dies, whatever the file's hooks do. Missing binaries fail the test file, never skip it quietly: set GATEHOUSE_TEST_SKIP_POSTGRES=1
 * to skip on purpose.
 */
import { type ChildProcess, execFileSync } from 'node:child_process'
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { register, spawnTracked } from './resources.ts'

const SKIP_VARIABLE = 'GATEHOUSE_TEST_SKIP_POSTGRES'
const START_TIMEOUT_MS = 20_000

/** Why PostgreSQL tests are skipped (GATEHOUSE_TEST_SKIP_POSTGRES=1), or undefined when they run. */
export function postgresSkipReason(): string | undefined {
  return process.env[SKIP_VARIABLE] === '1' ? `${SKIP_VARIABLE}=1: PostgreSQL tests skipped` : undefined
}

export interface PostgresServer {
  readonly port: number
  /** The folder of its Unix socket. */
  readonly socketDir: string
  /** PostgreSQL's major version, e.g. 15. */
  readonly version: number
  /** A URL for database `name` as the superuser `postgres` (trust: no password). */
  url(database: string): string
  /** Creates a new, empty database and returns its URL. */
  createDatabase(): Promise<string>
  /** Runs one statement as the superuser in database `postgres` (or `database`). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
    database?: string,
  ): Promise<pg.QueryResult<R>>
  /**
   * Stops the server as an outage would look to its clients (a fast shutdown: every connection is
   * closed, committed data stays), keeping its data for `resume`.
   */
  halt(): Promise<void>
  /** Starts the halted server again, on the same port with the same data, and waits until it answers. */
  resume(): Promise<void>
  /** Kills the server and removes its directory. */
  stop(): Promise<void>
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = findBinaries()
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'))
  try {
    if (owner) chownSync(dir, owner.uid, owner.gid)
    const as = { cwd: dir, ...owner }
    const data = join(dir, 'data')
    run(as, join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
      '--no-instructions',
    ])
    // A port can be taken between choosing and binding it: try a few.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort()
      const server = spawnServer(as, join(bin, 'postgres'), data, port)
      try {
        await waitUntilReady(server, port)
        const restart = () => spawnServer(as, join(bin, 'postgres'), data, port)
        return handle(server, dir, port, await majorVersion(port), restart)
      } catch (err) {
        await kill(server)
        if (attempt >= 3 || !/could not bind|address already in use/i.test(server.log))
          throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${server.log}`)
      }
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
}

interface Spawned {
  readonly child: ChildProcess
  readonly exited: Promise<void>
  log: string
}

/** Where and as whom the binaries run: the temp dir, and as root the postgres user's uid and gid. */
interface RunAs {
  readonly cwd: string
  readonly uid?: number
  readonly gid?: number
}

function spawnServer(as: RunAs, postgres: string, data: string, port: number): Spawned {
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    as.cwd,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=200',
    '-c',
    'shared_buffers=32MB',
  ]
  const child = spawnTracked('postgres', postgres, args, { ...as, stdio: ['ignore', 'pipe', 'pipe'] })
  const spawned: Spawned = {
    child,
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
    log: '',
  }
  const append = (chunk: Buffer) => {
    spawned.log = (spawned.log + chunk.toString()).slice(-20_000)
  }
  child.stdout!.on('data', append)
  child.stderr!.on('data', append)
  return spawned
}

async function waitUntilReady(server: Spawned, port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS
  let exited = false
  void server.exited.then(() => {
    exited = true
  })
  for (;;) {
    if (exited) throw new Error('the server exited')
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.end()
      return
    } catch (err) {
      await client.end().catch(() => {})
      if (Date.now() > deadline) throw new Error(`not ready after ${START_TIMEOUT_MS} ms: ${String(err)}`)
      await sleep(50)
    }
  }
}

async function majorVersion(port: number): Promise<number> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' })
  await client.connect()
  try {
    const { rows } = await client.query<{ server_version_num: string }>('show server_version_num')
    return Math.floor(Number(rows[0]!.server_version_num) / 10_000)
  } finally {
    await client.end()
  }
}

function handle(
  first: Spawned,
  dir: string,
  port: number,
  version: number,
  restart: () => Spawned,
): PostgresServer {
  let databases = 0
  let server = first
  const stop = async () => {
    release()
    await kill(server)
    rmSync(dir, { recursive: true, force: true })
  }
  const release = register('postgres', stop)
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`
  const query = async <R extends pg.QueryResultRow>(
    text: string,
    values?: unknown[],
    database = 'postgres',
  ) => {
    const client = new pg.Client({ connectionString: url(database) })
    await client.connect()
    try {
      return await client.query<R>(text, values)
    } finally {
      await client.end()
    }
  }
  return {
    port,
    socketDir: dir,
    version,
    url,
    query,
    async createDatabase() {
      const name = `gatehouse_test_${process.pid}_${++databases}`
      // FILE_COPY (PostgreSQL 15+) copies the template's files instead of WAL-logging every block: faster.
      await query(`create database ${name}${version >= 15 ? ' strategy = file_copy' : ''}`)
      return url(name)
    },
    async halt() {
      if (server.child.exitCode !== null || server.child.signalCode !== null) return
      // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, nothing committed is lost.
      server.child.kill('SIGINT')
      await server.exited
    },
    async resume() {
      if (server.child.exitCode === null && server.child.signalCode === null) return
      server = restart()
      try {
        await waitUntilReady(server, port)
      } catch (err) {
        throw new Error(`PostgreSQL did not start again: ${(err as Error).message}\n${server.log}`)
      }
    },
    stop,
  }
}

/** Immediate shutdown (SIGQUIT: nothing in a test database needs a clean stop), SIGKILL if it lingers. */
async function kill(server: Spawned): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return
  server.child.kill('SIGQUIT')
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5_000)
  await server.exited
  clearTimeout(timer)
}

/** The folder with initdb and postgres: PATH first, then Debian's versioned folders, newest first. */
function findBinaries(): string {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '')
  const debian = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql')
        .filter((v) => /^\d+(\.\d+)?$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => `/usr/lib/postgresql/${v}/bin`)
    : []
  const found = [...onPath, ...debian].find(
    (d) => executable(join(d, 'initdb')) && executable(join(d, 'postgres')),
  )
  if (found === undefined)
    throw new Error(
      'PostgreSQL server binaries (initdb, postgres) are not on PATH or in /usr/lib/postgresql/*/bin: ' +
        `install PostgreSQL (Debian: apt-get install postgresql) to run these tests, or set ${SKIP_VARIABLE}=1 to skip them`,
    )
  return found
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function postgresUser(): { uid: number; gid: number } {
  try {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    throw new Error(
      'running as root, PostgreSQL must run as the `postgres` OS user, and there is none: install PostgreSQL ' +
        `(Debian's package creates it), run the tests as another user, or set ${SKIP_VARIABLE}=1 to skip them`,
    )
  }
}

function run(as: RunAs, command: string, args: string[]): void {
  try {
    execFileSync(command, args, { ...as, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string }
    throw new Error(`${command} failed: ${e.stderr || e.stdout || e.message}`)
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}
