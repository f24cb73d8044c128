/**
 * `gatehouse start`: load the configuration → build the gateway → listen → handle signals. Nothing else.
 * SIGHUP reloads the file (a bad file is logged and the running configuration kept); SIGTERM and SIGINT
 * drain and exit 0.
 */
import { readFile } from 'node:fs/promises'
import { loadConfigFile } from './config/load.ts'
import { ConfigError } from './errors/errors.ts'
import { Gateway } from './gateway.ts'
import { AccessLog } from './observability/access-log.ts'
import { createLoggers, type Logger, type LogLevel } from './observability/logger.ts'
import { loadBundledPlugins } from './plugins/registry.ts'
import { VERSION } from './version.ts'

export interface StartOptions {
  configFile: string
  proxyListen?: string | undefined
  adminListen?: string | undefined
  env?: NodeJS.ProcessEnv
}

export async function start(options: StartOptions): Promise<Gateway> {
  const env = options.env ?? process.env
  const registry = await loadBundledPlugins()
  const config = await loadConfigFile(options.configFile, { registry, env })
  const level = (env.GATEHOUSE_LOG_LEVEL as LogLevel | undefined) ?? config.settings.logging.level
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
    adminToken: env.GATEHOUSE_ADMIN_TOKEN || undefined,
  })
  const addresses = await gateway.listen()
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
  installSignalHandlers(gateway, options.configFile, logger, loggers.flush)
  return gateway
}

function installSignalHandlers(gateway: Gateway, file: string, logger: Logger, flush: () => void): void {
  process.on('SIGHUP', () => {
    readFile(file, 'utf8')
      .then((text) => gateway.reload(text, file))
      .catch((err: unknown) => {
        if (err instanceof ConfigError)
          logger.error(
            { errors: err.issues, source: file },
            'reload rejected; keeping the running configuration',
          )
        else logger.error({ err }, 'reload failed; keeping the running configuration')
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
