/**
 * `gatehouse start`: load the configuration → build the gateway → listen → handle signals. Nothing else.
 * SIGHUP reloads the file (a bad file is logged and the running configuration kept); SIGTERM and SIGINT
 * drain and exit 0. In DB mode (`storage.entities: database`) the entities come from the store and
 * follow its changes (db-mode/source.ts); the file gives the settings.
 */
import { readFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { NodePrimary } from './cluster/node-primary.ts'
import { type WorkerCount, workerCount } from './cluster/worker-count.ts'
import { loadConfigFile } from './config/load.ts'
import type { GatewayConfig } from './config/model.ts'
import { adminSettings } from './config/schema/settings.ts'
import { storageLocation } from './config/schema/storage.ts'
import { argon2idKdf } from './crypto/argon2id-kdf.ts'
import { DatabaseSource } from './db-mode/source.ts'
import { ConfigError } from './errors/errors.ts'
import { Gateway, logNotices } from './gateway.ts'
import { AccessLog } from './observability/access-log.ts'
import {
  createLoggers,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type Logger,
  type LogLevel,
} from './observability/logger.ts'
import { preparePlugins } from './pipeline/runtime.ts'
import { loadBundledPlugins } from './plugins/registry.ts'
import { VERSION } from './version.ts'

export interface StartOptions {
  configFile: string
  proxyListen?: string | undefined
  proxyTlsListen?: string | undefined
  adminListen?: string | undefined
  statusListen?: string | undefined
  /** `--workers`: a number or `auto`; else GATEHOUSE_WORKERS, else `proxy.workers`, else `defaultWorkers`. */
  workers?: string | undefined
  /** `--log-format`; else GATEHOUSE_LOG_FORMAT, else `logging.format`. */
  logFormat?: LogFormat | undefined
  /** Workers when nothing says: `auto` for `gatehouse start`; 1 (one process) for everything else. */
  defaultWorkers?: WorkerCount | undefined
  env?: NodeJS.ProcessEnv
}

export async function start(options: StartOptions): Promise<Gateway> {
  // SIGHUP's default action ends the process: until the handlers are in place, remember it instead.
  let reloadAsked = false
  const askReload = () => {
    reloadAsked = true
  }
  process.on('SIGHUP', askReload)
  try {
    const gateway = await startGateway(options)
    if (reloadAsked) process.emit('SIGHUP', 'SIGHUP')
    return gateway
  } finally {
    process.off('SIGHUP', askReload)
  }
}

async function startGateway(options: StartOptions): Promise<Gateway> {
  const env = options.env ?? process.env
  const envLevel = logLevelFrom(env)
  const envFormat = logFormatFrom(env)
  const registry = await loadBundledPlugins()
  const fileConfig = await loadConfigFile(options.configFile, { registry, env })
  const level = envLevel ?? fileConfig.settings.logging.level
  const format = options.logFormat ?? envFormat ?? fileConfig.settings.logging.format
  const loggers = createLoggers({ level, format })
  const logger = loggers.logger
  // DB mode: the file gives the settings, the store the entities (db-mode/source.ts).
  const database =
    fileConfig.settings.entities === 'database'
      ? await DatabaseSource.open({ file: options.configFile, fileConfig, registry, env, logger })
      : null
  const config = database?.config ?? fileConfig
  const workers = resolveWorkers(options, env, config, logger)
  // Several workers: this process is their primary (cluster/primary.ts). The workers write JSON and the
  // primary, the one writer of the node's log, formats it: one place decides (and knows the terminal).
  const node = workers > 1 ? new NodePrimary(workers, logger, loggers.stream) : null
  await preparePlugins(config, registry)
  const gateway = new Gateway({
    config,
    registry,
    logger,
    accessLog: level === 'silent' ? null : new AccessLog(loggers.stream),
    env,
    proxyListen: options.proxyListen ?? env.GATEHOUSE_PROXY_LISTEN ?? config.settings.proxy.listen,
    proxyTlsListen: options.proxyTlsListen ?? (env.GATEHOUSE_PROXY_TLS_LISTEN || undefined),
    baseDir: dirname(resolve(options.configFile)),
    adminListen: options.adminListen ?? env.GATEHOUSE_ADMIN_LISTEN ?? config.settings.admin.listen,
    statusListen:
      options.statusListen ??
      (env.GATEHOUSE_STATUS_LISTEN || undefined) ??
      config.settings.admin.status_listen,
    adminToken: adminTokenFrom(env),
    ...(node !== null ? node.gatewayOptions() : {}),
  })
  node?.attach(gateway)
  gateway.metrics.countDroppedLogLines(loggers.writer)
  logNotices(logger, config)
  await gateway.startInternalTokens()
  await gateway.startIdentity()
  if (database !== null) {
    gateway.entityWrites = database
    gateway.storePing = () => database.ping()
    await database.follow(gateway)
  }
  if (node !== null) {
    const bound = await node.start({
      logLevel: level,
      proxyListen: options.proxyListen ?? env.GATEHOUSE_PROXY_LISTEN ?? config.settings.proxy.listen,
      proxyTlsListen: config.settings.proxy.tls !== undefined ? gateway.proxyTlsListen : undefined,
      baseDir: dirname(resolve(options.configFile)),
    })
    gateway.setProxyAddresses(bound.proxy, bound.proxyTls)
  }
  const addresses = await gateway.listen()
  // Before the started line: whoever waits for it may signal at once.
  installSignalHandlers(gateway, options.configFile, logger, loggers.flush, database, node)
  logger.info(
    {
      version: VERSION,
      node: process.version,
      argon2: argon2idKdf.name,
      proxy: addresses.proxy,
      ...(addresses.proxyTls !== '' ? { proxy_tls: addresses.proxyTls } : {}),
      admin: addresses.admin,
      ...(addresses.status !== '' ? { status: addresses.status } : {}),
      config: options.configFile,
      config_hash: config.hash,
      store: storeLocation(config),
      workers,
    },
    'gatehouse started',
  )
  loggers.flush()
  return gateway
}

/**
 * How many workers: `--workers`, else GATEHOUSE_WORKERS, else `proxy.workers`, else the caller's
 * default; `auto` is `os.availableParallelism()`. A configuration whose state cannot be shared between
 * processes (an in-memory SQLite store) runs as one process: told so when `auto` chose more, refused
 * when a number did.
 */
function resolveWorkers(
  options: StartOptions,
  env: NodeJS.ProcessEnv,
  config: GatewayConfig,
  logger: Logger,
): number {
  const flag = options.workers
  const fromEnv = env.GATEHOUSE_WORKERS || undefined
  const [where, raw] =
    flag !== undefined
      ? ['--workers', flag]
      : fromEnv !== undefined
        ? ['GATEHOUSE_WORKERS', fromEnv]
        : config.settings.proxy.workers !== undefined
          ? [`${config.source}: proxy.workers`, String(config.settings.proxy.workers)]
          : ['default', String(options.defaultWorkers ?? 1)]
  const count = workerCount(raw)
  if (count === null)
    throw new ConfigError(where, [
      { path: '', message: `'${raw}' is not a number of workers (1…1024) or auto` },
    ])
  const unshareable = processOnlyState(config)
  if (count > 1 && unshareable !== null) {
    if (raw !== 'auto')
      throw new ConfigError(where, [
        { path: '', message: `${count} workers cannot share ${unshareable}; use 1` },
      ])
    logger.warn(
      { reason: unshareable },
      'running one process: the configuration keeps state no worker could share',
    )
    return 1
  }
  return count
}

/** What in `config` only one process can hold, or null. */
function processOnlyState(config: GatewayConfig): string | null {
  const usesStore = config.settings.identity.enabled || config.settings.entities === 'database'
  if (usesStore && config.settings.storage.sqlite?.path === ':memory:')
    return "storage.sqlite.path ':memory:' (each process would have its own store)"
  return null
}

/** GATEHOUSE_LOG_LEVEL, when set and not empty; an unknown level is refused like a configuration error. */
function logLevelFrom(env: NodeJS.ProcessEnv): LogLevel | undefined {
  const value = env.GATEHOUSE_LOG_LEVEL
  if (value === undefined || value === '') return undefined
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel
  throw new ConfigError('GATEHOUSE_LOG_LEVEL', [
    { path: '', message: `unknown log level; expected one of ${LOG_LEVELS.join(', ')}` },
  ])
}

/** GATEHOUSE_LOG_FORMAT, when set and not empty; an unknown format is refused like a configuration error. */
function logFormatFrom(env: NodeJS.ProcessEnv): LogFormat | undefined {
  const value = env.GATEHOUSE_LOG_FORMAT
  if (value === undefined || value === '') return undefined
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat
  throw new ConfigError('GATEHOUSE_LOG_FORMAT', [
    { path: '', message: `unknown log format; expected one of ${LOG_FORMATS.join(', ')}` },
  ])
}

/**
 * Where the node keeps its state, for the started line, so a `gatehouse.db` beside the configuration is
 * never a surprise: the SQLite file's absolute path, "in memory", the PostgreSQL location without its
 * password, or "none" when nothing uses a store (no identity provider, entities from the file).
 */
function storeLocation(config: GatewayConfig): string {
  if (!config.settings.identity.enabled && config.settings.entities !== 'database') return 'none'
  const storage = config.settings.storage
  if (storage.sqlite?.path === ':memory:') return 'in memory'
  return storageLocation(storage)
}

/** GATEHOUSE_ADMIN_TOKEN, when set and not empty, held to the same rule as admin.token in the file. */
function adminTokenFrom(env: NodeJS.ProcessEnv): string | undefined {
  const value = env.GATEHOUSE_ADMIN_TOKEN
  if (value === undefined || value === '') return undefined
  const checked = adminSettings.unwrap().shape.token.safeParse(value)
  if (checked.success) return value
  throw new ConfigError('GATEHOUSE_ADMIN_TOKEN', [{ path: '', message: checked.error.issues[0]!.message }])
}

function installSignalHandlers(
  gateway: Gateway,
  file: string,
  logger: Logger,
  flush: () => void,
  database: DatabaseSource | null,
  node: NodePrimary | null,
): void {
  process.on('SIGHUP', () => {
    const reload = database
      ? database.reloadFile()
      : readFile(file, 'utf8').then((text) => gateway.reload(text, file))
    reload.catch((err: unknown) => {
      // The gateway logs a rejected configuration itself (the same for POST /config).
      if (!(err instanceof ConfigError))
        logger.error({ err, source: file }, 'reload failed; keeping the running configuration')
    })
  })
  const stop = (signal: string) => {
    // The workers drain while the primary keeps answering /status/ready (503) until the last is done.
    gateway
      .shutdown(signal, node?.stop())
      .then(() => database?.close())
      .catch((err: unknown) => logger.error({ err }, 'shutdown failed'))
      .finally(() => {
        flush()
        process.exit(0)
      })
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}
