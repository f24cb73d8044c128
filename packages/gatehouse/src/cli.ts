/**
 * The `gatehouse` command line. Every failure prints one clear message to stderr and exits non-zero:
 * 2 for a wrong command line, 1 for a configuration that cannot be used (one `FILE: path: message` line
 * per problem) or a port that cannot be bound.
 */
import { parseArgs } from 'node:util'
import { loadConfigFile } from './config/load.ts'
import type { GatewayConfig } from './config/model.ts'
import { listenAddress } from './config/schema/typedefs.ts'
import { ConfigError } from './errors/errors.ts'
import { createLoggers } from './observability/logger.ts'
import { GatewayMetrics } from './observability/metrics.ts'
import { GatewayRuntime } from './pipeline/runtime.ts'
import { loadBundledPlugins, type PluginRegistry } from './plugins/registry.ts'
import { UpstreamRegistry } from './proxy/upstreams.ts'
import { VERSION } from './version.ts'

const USAGE = `Usage:
  gatehouse start --config FILE [--proxy-listen HOST:PORT] [--admin-listen HOST:PORT]
  gatehouse config check FILE
  gatehouse --version

Environment:
  GATEHOUSE_CONFIG         configuration file (instead of --config)
  GATEHOUSE_PROXY_LISTEN   proxy listen address (default 0.0.0.0:8000)
  GATEHOUSE_ADMIN_LISTEN   admin API listen address (default 127.0.0.1:8001)
  GATEHOUSE_ADMIN_TOKEN    bearer token required by the admin API
  GATEHOUSE_LOG_LEVEL      fatal | error | warn | info | debug | trace | silent

Docs: docs/configuration.md, docs/plugins.md, docs/errors.md`

/** A wrong command line. The usage text follows, unless the message says all (a bad option value). */
class UsageError extends Error {
  readonly showUsage: boolean
  constructor(message: string, showUsage = true) {
    super(message)
    this.showUsage = showUsage
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'start':
        return await startCommand(rest)
      case 'config':
        return await configCommand(rest)
      case '--version':
      case '-v':
      case 'version':
        process.stdout.write(`gatehouse ${VERSION}\n`)
        return 0
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`)
        return command === undefined ? 2 : 0
      default:
        throw new UsageError(`unknown command '${command}'`)
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      const found =
        err.code === 'GH_ERR_CONFIG_UNREADABLE'
          ? 'the configuration cannot be read'
          : `${plural(err.issues.length, 'problem')} in the configuration`
      process.stderr.write(`gatehouse: ${command === 'start' ? `${found}; nothing was started` : found}\n`)
      return 1
    }
    if (err instanceof UsageError && !err.showUsage) {
      process.stderr.write(`gatehouse: ${err.message}\n`)
      return 2
    }
    if (err instanceof UsageError || isArgError(err)) {
      process.stderr.write(`gatehouse: ${(err as Error).message}\n\n${USAGE}\n`)
      return 2
    }
    if (err instanceof TypeError && /listen address|malformed plugins/.test(err.message)) {
      process.stderr.write(`gatehouse: ${err.message}\n`)
      // A malformed plugin is a broken installation, not a wrong command line.
      return err.message.startsWith('malformed plugins') ? 1 : 2
    }
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const e = err as NodeJS.ErrnoException & { address?: string; port?: number }
      process.stderr.write(`gatehouse: cannot listen on ${e.address}:${e.port}: ${code}\n`)
      return 1
    }
    throw err
  }
}

function isArgError(err: unknown): boolean {
  return (
    typeof (err as { code?: unknown })?.code === 'string' &&
    (err as { code: string }).code.startsWith('ERR_PARSE_ARGS')
  )
}

async function startCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      'proxy-listen': { type: 'string' },
      'admin-listen': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  })
  const configFile = values.config || process.env.GATEHOUSE_CONFIG
  if (!configFile) throw new UsageError('start needs --config FILE (or GATEHOUSE_CONFIG)')
  const proxyListen = listenOption(values['proxy-listen'], '--proxy-listen', 'GATEHOUSE_PROXY_LISTEN')
  const adminListen = listenOption(values['admin-listen'], '--admin-listen', 'GATEHOUSE_ADMIN_LISTEN')
  const { start } = await import('./main.ts')
  await start({ configFile, proxyListen, adminListen })
  return -1 // keep running
}

/**
 * A listen address from its flag, else its environment variable (an empty one counts as unset), else
 * undefined (the file's setting applies). Checked before anything is loaded, by the rule the file's
 * `proxy.listen` follows, and the message names where the bad value came from.
 */
function listenOption(flagValue: string | undefined, flag: string, variable: string): string | undefined {
  const address = flagValue ?? (process.env[variable] || undefined)
  if (address === undefined) return undefined
  const checked = listenAddress.safeParse(address)
  if (!checked.success) {
    const where = flagValue !== undefined ? flag : variable
    const reason = checked.error.issues[0]?.message
    throw new UsageError(`${where}: invalid listen address '${address}': ${reason}`, false)
  }
  return address
}

async function configCommand(args: string[]): Promise<number> {
  const [sub, file, ...extra] = args
  if (sub !== 'check')
    throw new UsageError(`unknown config command '${sub ?? ''}' (expected: config check FILE)`)
  if (!file || extra.length > 0) throw new UsageError('config check takes exactly one FILE')
  const registry = await loadBundledPlugins()
  const config = await loadConfigFile(file, { registry })
  await checkRuntime(config, registry)
  for (const notice of config.notices) process.stderr.write(`${file}: warning: ${notice}\n`)
  process.stdout.write(
    `${file}: OK (${plural(config.services.length, 'service')}, ${plural(config.routes.length, 'route')}, ` +
      `${plural(config.consumers.length, 'consumer')}, ${plural(config.plugins.length, 'plugin')})\n`,
  )
  return 0
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

/**
 * Builds the runtime as `start` would, without listening, so what only plugins can judge (an anonymous
 * consumer that does not exist, a key that does not fit its algorithm) fails `config check` too.
 */
async function checkRuntime(config: GatewayConfig, registry: PluginRegistry): Promise<void> {
  const upstreams = new UpstreamRegistry()
  try {
    const runtime = new GatewayRuntime(config, {
      registry,
      upstreams,
      metrics: new GatewayMetrics(),
      logger: createLoggers({ level: 'silent' }).logger,
    })
    await runtime.close()
  } finally {
    await upstreams.destroyAll()
  }
}
