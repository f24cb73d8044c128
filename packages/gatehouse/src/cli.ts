/**
 * The `gatehouse` command line. Every failure prints one clear message to stderr and exits non-zero;
 * configuration problems print one `FILE: path: message` line each.
 */
import { parseArgs } from 'node:util'
import { loadConfigFile } from './config/load.ts'
import { ConfigError } from './errors/errors.ts'
import { loadBundledPlugins } from './plugins/registry.ts'
import { parseListen } from './proxy/server.ts'
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

class UsageError extends Error {}

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
      process.stderr.write(
        `gatehouse: ${err.issues.length} problem(s) in the configuration; nothing was started\n`,
      )
      return 1
    }
    if (err instanceof UsageError || isArgError(err)) {
      process.stderr.write(`gatehouse: ${(err as Error).message}\n\n${USAGE}\n`)
      return 2
    }
    if (err instanceof TypeError && /listen address|malformed plugins/.test(err.message)) {
      process.stderr.write(`gatehouse: ${err.message}\n`)
      return 2
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
  const configFile = values.config ?? process.env.GATEHOUSE_CONFIG
  if (!configFile) throw new UsageError('start needs --config FILE (or GATEHOUSE_CONFIG)')
  for (const address of [values['proxy-listen'], values['admin-listen']]) if (address) parseListen(address)
  const { start } = await import('./main.ts')
  await start({ configFile, proxyListen: values['proxy-listen'], adminListen: values['admin-listen'] })
  return -1 // keep running
}

async function configCommand(args: string[]): Promise<number> {
  const [sub, file, ...extra] = args
  if (sub !== 'check')
    throw new UsageError(`unknown config command '${sub ?? ''}' (expected: config check FILE)`)
  if (!file || extra.length > 0) throw new UsageError('config check takes exactly one FILE')
  const registry = await loadBundledPlugins()
  const config = await loadConfigFile(file, { registry })
  process.stdout.write(
    `${file}: OK (${config.services.length} services, ${config.routes.length} routes, ` +
      `${config.consumers.length} consumers, ${config.plugins.length} plugins)\n`,
  )
  return 0
}
