/**
 * `storage`: where Gatehouse keeps what must outlive a process (identity users and clients, sessions,
 * grants, tokens, signing keys). Exactly one backend is in effect: embedded SQLite for one node (the
 * default), or a PostgreSQL database that several nodes share. The PostgreSQL URL is taken apart here,
 * at load, so the store never parses anything and no message ever needs the URL's password.
 */
import { isAbsolute, resolve } from 'node:path'
import { z } from 'zod'
import { timeoutMs } from './typedefs.ts'

const DEFAULT_SQLITE_PATH = 'gatehouse.db'
const DEFAULT_PORT = 5432

export type SqliteSettings = { readonly path: string }

/** The PostgreSQL settings as the store takes them: the URL taken apart, every default filled. */
export interface PostgresSettings {
  /** `postgres://user@host:port/database`: the URL without its password, for messages and logs. */
  readonly location: string
  /** Host name, IP address, or the folder of a Unix socket (an absolute path). */
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string | null
  readonly database: string
  readonly pool_size: number
  /** Milliseconds. */
  readonly connect_timeout: number
  readonly ssl: 'disable' | 'require' | 'verify-full'
  /** For verify-full: PEM text, or the absolute path of a PEM file; null trusts the system's CAs. */
  readonly ssl_ca: string | null
}

/** Exactly one backend, after load. */
export type StorageSettings =
  | { readonly sqlite: SqliteSettings; readonly postgres?: undefined }
  | { readonly postgres: PostgresSettings; readonly sqlite?: undefined }

const postgresFields = z.strictObject({
  url: z
    .string()
    .describe(
      '`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (or `postgresql://`); the port defaults to 5432, and HOST may be the folder of a Unix socket, percent-encoded (`%2Fvar%2Frun%2Fpostgresql`). Write it as `{vault://env/NAME}` when it carries the password, or put the password in `password`. Required.',
    ),
  password: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The user's password, when the URL has none (use `{vault://env/NAME}`). Default: none (then PGPASSWORD or ~/.pgpass, as libpq).",
    ),
  pool_size: z
    .int()
    .min(2, {
      error: 'must be at least 2: a maintenance lock holds one connection while its work uses another',
    })
    .max(1000)
    .default(10)
    .describe(
      "Connections each gateway process keeps open at most, at least 2 (a maintenance lock holds one). Mind the server's `max_connections` across every node. Default: 10.",
    ),
  connect_timeout: timeoutMs.default(5000).describe('Milliseconds to establish a connection. Default: 5000.'),
  ssl: z
    .enum(['disable', 'require', 'verify-full'])
    .default('disable')
    .describe(
      "TLS to the server, as libpq's sslmode: `disable`, `require` (encrypted, but the certificate is not checked, so whoever can redirect the connection can pose as the server), or `verify-full` (the certificate checked against `ssl_ca` or the system's CAs, and the host name). Use `verify-full` across any network you do not control. Default: `disable`.",
    ),
  ssl_ca: z
    .string()
    .min(1)
    .optional()
    .describe(
      "CA certificates for `ssl: verify-full`: PEM text (`{vault://env/NAME}`) or a PEM file's path, relative to the configuration file. Default: the system's CAs.",
    ),
})

type PostgresFields = z.output<typeof postgresFields>

/** The parts of a PostgreSQL URL, or the problem with it (never quoting it: it may carry a password). */
export function parsePostgresUrl(
  text: string,
): { host: string; port: number; user: string; password: string | null; database: string } | string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return 'expected a URL like postgres://USER@HOST:5432/DATABASE'
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    return 'expected a postgres:// or postgresql:// URL'
  if (url.hostname === '') return 'names no host (postgres://USER@HOST:5432/DATABASE)'
  if (url.username === '') return 'names no user (postgres://USER@HOST:5432/DATABASE)'
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''))
  if (database === '') return 'names no database (postgres://USER@HOST:5432/DATABASE)'
  if (database.includes('/')) return 'the path must be the database name alone'
  if (url.search !== '') {
    const names = [...url.searchParams.keys()]
    return names.some((n) => n.startsWith('ssl'))
      ? 'TLS is set with storage.postgres.ssl (and ssl_ca), not in the URL'
      : `takes no parameters (${names.map((n) => `?${n}`).join(', ')}): the keys of storage.postgres set what Gatehouse supports`
  }
  if (url.hash !== '') return 'must not have a fragment'
  const host = decodeURIComponent(url.hostname).replace(/^\[(.*)\]$/, '$1')
  if (host.startsWith('/') === false && host.includes('/'))
    return 'the host must be a host name, an IP address, or a socket folder (an absolute path)'
  return {
    host,
    port: url.port === '' ? DEFAULT_PORT : Number(url.port),
    user: decodeURIComponent(url.username),
    password: url.password === '' ? null : decodeURIComponent(url.password),
    database,
  }
}

function resolvePostgres(v: PostgresFields, ctx: z.RefinementCtx<PostgresFields>): PostgresSettings {
  const parts = parsePostgresUrl(v.url)
  if (typeof parts === 'string') {
    ctx.addIssue({ code: 'custom', path: ['url'], message: parts })
    return z.NEVER
  }
  if (parts.password !== null && v.password !== undefined)
    ctx.addIssue({ code: 'custom', path: ['password'], message: 'the URL has a password too: keep one' })
  if (v.ssl_ca !== undefined && v.ssl !== 'verify-full')
    ctx.addIssue({
      code: 'custom',
      path: ['ssl_ca'],
      message: 'is only used with ssl: verify-full (require does not check the certificate)',
    })
  const hostPart = parts.host.startsWith('/')
    ? encodeURIComponent(parts.host)
    : parts.host.includes(':')
      ? `[${parts.host}]`
      : parts.host
  return {
    location: `postgres://${encodeURIComponent(parts.user)}@${hostPart}:${parts.port}/${encodeURIComponent(parts.database)}`,
    host: parts.host,
    port: parts.port,
    user: parts.user,
    password: parts.password ?? v.password ?? null,
    database: parts.database,
    pool_size: v.pool_size,
    connect_timeout: v.connect_timeout,
    ssl: v.ssl,
    ssl_ca: v.ssl_ca ?? null,
  }
}

export const storageSettings = z
  .strictObject({
    sqlite: z
      .strictObject({
        path: z
          .string()
          .min(1)
          .default(DEFAULT_SQLITE_PATH)
          .describe(
            'Database file, relative to the configuration file; `:memory:` keeps nothing. Default: `gatehouse.db`.',
          ),
      })
      .optional()
      .describe(
        'Embedded SQLite (better-sqlite3): the store for one node, migrated at every start. The default when `postgres` is not set (as `{ path: gatehouse.db }`).',
      ),
    postgres: postgresFields
      .transform(resolvePostgres)
      .optional()
      .describe(
        'A PostgreSQL database that every gateway node shares: users, clients, sessions, grants, tokens and signing keys (encrypted) are the same on each. Its schema is migrated by `gatehouse migrate`, never at start: a node refuses to start on an older schema. See docs/deploy.md. Default: unset (SQLite).',
      ),
    entities: z
      .enum(['file', 'database'])
      .default('file')
      .describe(
        "Where services, routes, consumers, plugins and credentials come from. `file`: this file's sections (DB-less; the admin API only reads). `database`: the store above (DB mode), written through the admin API and `gatehouse config import`, followed by every node within a second; this file then keeps the settings (and upstreams), and its entities seed an empty database once. See docs/deploy.md. Default: `file`.",
      ),
  })
  .superRefine((v, ctx) => {
    if (v.sqlite !== undefined && v.postgres !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'set either sqlite or postgres, not both: one store is in effect',
      })
  })
  .prefault({})
  .describe(
    'Where Gatehouse keeps state: identity users, clients, sessions, grants, signing keys. SQLite unless `postgres` is set. A change applies at the next restart.',
  )

/** The backend in effect, its paths resolved against `baseDir` (the configuration file's folder). */
export function resolveStorage(storage: z.output<typeof storageSettings>, baseDir: string): StorageSettings {
  const file = (path: string) => (isAbsolute(path) ? path : resolve(baseDir, path))
  if (storage.postgres !== undefined) {
    const ca = storage.postgres.ssl_ca
    const pem = ca === null || ca.trimStart().startsWith('-----BEGIN')
    return { postgres: { ...storage.postgres, ssl_ca: pem ? ca : file(ca) } }
  }
  const path = storage.sqlite?.path ?? DEFAULT_SQLITE_PATH
  return { sqlite: { path: path === ':memory:' ? path : file(path) } }
}

/** What a message names for the store: the SQLite file, or the PostgreSQL URL without its password. */
export function storageLocation(storage: StorageSettings): string {
  return storage.postgres !== undefined ? storage.postgres.location : storage.sqlite.path
}
