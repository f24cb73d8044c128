/**
 * `gatehouse start`: load the configuration → build the gateway → listen → handle signals. Nothing else.
 * SIGHUP reloads the file (a bad file is logged and the running configuration kept); SIGTERM and SIGINT
 * drain and exit 0.
 */
import { readFile } from 'node:fs/promises'
import { loadConfigFile } from './config/load.ts'
import { adminSettings } from './config/schema/settings.ts'
import { ConfigError } from './errors/errors.ts'
import { Gateway, logNotices } from './gateway.ts'
import { AccessLog } from './observability/access-log.ts'
import { createLoggers, LOG_LEVELS, type Logger, type LogLevel } from './observability/logger.ts'
import { loadBundledPlugins } from './plugins/registry.ts'
import { VERSION } from './version.ts'

export interface StartOptions {
  configFile: string
  proxyListen?: string | undefined
  adminListen?: string | undefined
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
  const registry = await loadBundledPlugins()
  const config = await loadConfigFile(options.configFile, { registry, env })
  const level = envLevel ?? config.settings.logging.level
  const loggers = createLoggers({ level })
  const logger = loggers.logger
  const gateway = new Gateway({
    config,
    registry,
    logger,
    accessLog: level === 'silent' ? null : new AccessLog(loggers.stream),
    env,
    proxyListen: options.proxyListen ?? env.GATEHOUSE_PROXY_LISTEN ?? config.settings.proxy.listen,
    adminListen: options.adminListen ?? env.GATEHOUSE_ADMIN_LISTEN ?? config.settings.admin.listen,
    adminToken: adminTokenFrom(env),
  })
  logNotices(logger, config)
  await gateway.startInternalTokens()
  await gateway.startIdentity()
  const addresses = await gateway.listen()
  // Before the started line: whoever waits for it may signal at once.
  installSignalHandlers(gateway, options.configFile, logger, loggers.flush)
  logger.info(
    {
      version: VERSION,
      node: process.version,
      proxy: addresses.proxy,
      admin: addresses.admin,
      config: options.configFile,
      config_hash: config.hash,
    },
    'gatehouse started',
  )
  loggers.flush()
  return gateway
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

/** GATEHOUSE_ADMIN_TOKEN, when set and not empty, held to the same rule as admin.token in the file. */
function adminTokenFrom(env: NodeJS.ProcessEnv): string | undefined {
  const value = env.GATEHOUSE_ADMIN_TOKEN
  if (value === undefined || value === '') return undefined
  const checked = adminSettings.unwrap().shape.token.safeParse(value)
  if (checked.success) return value
  throw new ConfigError('GATEHOUSE_ADMIN_TOKEN', [{ path: '', message: checked.error.issues[0]!.message }])
}

function installSignalHandlers(gateway: Gateway, file: string, logger: Logger, flush: () => void): void {
  process.on('SIGHUP', () => {
    readFile(file, 'utf8')
      .then((text) => gateway.reload(text, file))
      .catch((err: unknown) => {
        // The gateway logs a rejected configuration itself (the same for POST /config).
        if (!(err instanceof ConfigError))
          logger.error({ err, source: file }, 'reload failed; keeping the running configuration')
      })
  })
  const stop = (signal: string) => {
    gateway
      .shutdown(signal)
      .catch((err: unknown) => logger.error({ err }, 'shutdown failed'))
      .finally(() => {
        flush()
        process.exit(0)
      })
  }
  process.once('SIGTERM', () => stop('SIGTERM'))
  process.once('SIGINT', () => stop('SIGINT'))
}
