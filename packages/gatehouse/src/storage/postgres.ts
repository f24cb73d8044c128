/**
 * The Store on PostgreSQL (a `pg` Pool under kysely's PostgresDialect), for several gateway nodes that
 * share one database. The queries are the shared SQL layer (lib/sql-store.ts); this file connects:
 * - bigint columns (epoch seconds, the key version) come back as numbers, not pg's default strings;
 * - a NUL character, which PostgreSQL's text cannot hold and which anyone can type into a login form,
 *   is stored as U+FFFD: a lookup for it finds nothing instead of failing the request;
 * - the connection is checked when the store opens, so a wrong host, password or database is one
 *   clear StoreError naming `postgres://user@host:port/database`, never the password;
 * - an idle connection the server drops (a restart, a failover) is discarded by the pool, and the next
 *   query opens a new one; without the error listener pg would crash the process.
 * - listening (DB mode's change notifications) takes a connection of its own, outside the pool, which
 *   reconnects by itself every second while the server is away.
 * Nothing is migrated here: nodes share the schema, so `gatehouse migrate` changes it (open.ts).
 */
import { readFileSync } from 'node:fs'
import {
  Kysely,
  type KyselyPlugin,
  OperationNodeTransformer,
  PostgresDialect,
  type PrimitiveValueListNode,
  type RootOperationNode,
  type UnknownRow,
  type ValueNode,
} from 'kysely'
import pg from 'pg'
import type { PostgresSettings } from '../config/schema/storage.ts'
import { postgresDialect } from './lib/dialect.ts'
import { SqlStore } from './lib/sql-store.ts'
import type { Database } from './lib/tables.ts'
import { reason, reportingUnavailable } from './lib/unavailable.ts'
import { StoreError } from './store.ts'

const INT8_OID = 20

/** Epoch seconds and counters: far below 2^53, so a number loses nothing. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
}

export class PostgresStore extends SqlStore {
  /** `postgres://user@host:port/database`, without the password. */
  readonly location: string

  private constructor(location: string, db: Kysely<Database>, connection: pg.ClientConfig) {
    super({
      db,
      dialect: postgresDialect,
      listen: (channel, onNotify) => listen(connection, channel, onNotify),
    })
    this.location = location
  }

  /** Connects (checking that the database answers); does not migrate or check the schema. */
  static async open(settings: PostgresSettings): Promise<PostgresStore> {
    const connection: pg.ClientConfig = {
      host: settings.host,
      port: settings.port,
      user: settings.user,
      ...(settings.password !== null && { password: settings.password }),
      database: settings.database,
      connectionTimeoutMillis: settings.connect_timeout,
      application_name: 'gatehouse',
      ssl: tlsOptions(settings),
      types,
    }
    const pool = new pg.Pool({ ...connection, max: settings.pool_size })
    pool.on('error', () => {})
    try {
      await pool.query('select 1')
    } catch (err) {
      await pool.end().catch(() => {})
      throw new StoreError(`cannot connect to the PostgreSQL database ${settings.location}: ${reason(err)}`)
    }
    const db = new Kysely<Database>({
      dialect: reportingUnavailable(new PostgresDialect({ pool }), postgresUnavailable, settings.location),
      plugins: [new NulFreeText()],
    })
    return new PostgresStore(settings.location, db, connection)
  }
}

const RECONNECT_MS = 1000

/** LISTEN `channel` (an identifier of ours, never input) on its own connection, as SqlContext.listen. */
async function listen(
  connection: pg.ClientConfig,
  channel: string,
  onNotify: () => void,
): Promise<() => Promise<void>> {
  let client: pg.Client | null = null
  let closed = false
  let timer: NodeJS.Timeout | undefined
  const open = async () => {
    const c = new pg.Client({ ...connection, keepAlive: true })
    c.on('error', () => {})
    try {
      await c.connect()
      await c.query(`listen ${channel}`)
    } catch (err) {
      await c.end().catch(() => {})
      throw err
    }
    c.on('notification', () => onNotify())
    // A connection this side ended on purpose is no longer `client` when its end event comes.
    c.once('end', () => {
      if (client !== c) return
      client = null
      reconnect()
    })
    client = c
  }
  const reconnect = () => {
    if (closed) return
    timer = setTimeout(() => {
      open().then(() => {
        if (closed) void stop()
        else onNotify()
      }, reconnect)
    }, RECONNECT_MS)
    timer.unref()
  }
  const stop = async () => {
    closed = true
    clearTimeout(timer)
    const c = client
    client = null
    await c?.end().catch(() => {})
  }
  await open()
  return stop
}

/** Replaces NUL in every string parameter. JSON parameters are JSON text, whose NULs are escaped. */
class NulFreeText implements KyselyPlugin {
  readonly #transformer = new (class extends OperationNodeTransformer {
    protected override transformValue(node: ValueNode): ValueNode {
      return { ...node, value: nulFree(node.value) }
    }

    protected override transformPrimitiveValueList(node: PrimitiveValueListNode): PrimitiveValueListNode {
      return { ...node, values: node.values.map(nulFree) }
    }
  })()

  transformQuery({ node }: { node: RootOperationNode }): RootOperationNode {
    return this.#transformer.transformNode(node)
  }

  async transformResult<R extends { rows: UnknownRow[] }>({ result }: { result: R }): Promise<R> {
    return result
  }
}

const nulFree = (value: unknown): unknown =>
  typeof value === 'string' && value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value

function tlsOptions(settings: PostgresSettings): pg.PoolConfig['ssl'] {
  if (settings.ssl === 'disable') return false
  if (settings.ssl === 'require') return { rejectUnauthorized: false }
  const ca = settings.ssl_ca
  if (ca === null) return { rejectUnauthorized: true }
  if (ca.trimStart().startsWith('-----BEGIN')) return { rejectUnauthorized: true, ca }
  try {
    return { rejectUnauthorized: true, ca: readFileSync(ca, 'utf8') }
  } catch (err) {
    throw new StoreError(
      `cannot read storage.postgres.ssl_ca ${ca}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
}

/** Node's errors for a server that cannot be reached or a connection that broke. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
])

/**
 * Whether pg's error means the server cannot be reached: a network error, a connection pg gave up on
 * (its messages, which have no code), or SQLSTATE class 08 (connection exception), 57P01..57P03 (the
 * server is shutting down, crashed, or still starting) and 53300 (too many connections).
 */
export function postgresUnavailable(err: unknown): boolean {
  if (err instanceof AggregateError) return err.errors.some(postgresUnavailable)
  const e = err as { code?: unknown; message?: unknown }
  const code = typeof e?.code === 'string' ? e.code : ''
  if (NETWORK_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code) || code === '53300')
    return true
  const message = typeof e?.message === 'string' ? e.message : ''
  return /^Connection terminated|timeout exceeded when trying to connect|connection error and is not queryable|Client was closed and is not queryable/.test(
    message,
  )
}
