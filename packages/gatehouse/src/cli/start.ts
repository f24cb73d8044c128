/** `gatehouse start`: checks the command line, then hands over to main.ts. */
import { parseArgs } from 'node:util'
import { workerCount } from '../cluster/worker-count.ts'
import { listenAddress } from '../config/schema/typedefs.ts'
import { UsageError } from './lib/errors.ts'

export async function startCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      'proxy-listen': { type: 'string' },
      'proxy-tls-listen': { type: 'string' },
      'admin-listen': { type: 'string' },
      'status-listen': { type: 'string' },
      workers: { type: 'string' },
      'log-format': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  })
  const configFile = values.config || process.env.GATEHOUSE_CONFIG
  if (!configFile) throw new UsageError('start needs --config FILE (or GATEHOUSE_CONFIG)')
  const proxyListen = listenOption(values['proxy-listen'], '--proxy-listen', 'GATEHOUSE_PROXY_LISTEN', true)
  const proxyTlsListen = listenOption(
    values['proxy-tls-listen'],
    '--proxy-tls-listen',
    'GATEHOUSE_PROXY_TLS_LISTEN',
  )
  const adminListen = listenOption(values['admin-listen'], '--admin-listen', 'GATEHOUSE_ADMIN_LISTEN')
  const statusListen = listenOption(
    values['status-listen'],
    '--status-listen',
    'GATEHOUSE_STATUS_LISTEN',
    true,
  )
  const workers = values.workers
  if (workers !== undefined && workerCount(workers) === null)
    throw new UsageError(`--workers: '${workers}' is not a number of workers (1…1024) or auto`, false)
  const logFormat = values['log-format']
  if (logFormat !== undefined && logFormat !== 'json' && logFormat !== 'pretty')
    throw new UsageError(`--log-format: '${logFormat}' is not json or pretty`, false)
  const { start } = await import('../main.ts')
  await start({
    configFile,
    proxyListen,
    proxyTlsListen,
    adminListen,
    statusListen,
    workers,
    logFormat,
    // A server started from the command line uses every core it is given; the demos and embedders, one.
    defaultWorkers: 'auto',
  })
  return -1 // keep running
}

/**
 * A listen address from its flag, else its environment variable (an empty one counts as unset), else
 * undefined (the file's setting applies). Checked before anything is loaded, by the rule the file's
 * `proxy.listen` follows (`off` too, for the plain proxy and the status listener), and the message names
 * where the bad value came from.
 */
function listenOption(
  flagValue: string | undefined,
  flag: string,
  variable: string,
  mayBeOff = false,
): string | undefined {
  const address = flagValue ?? (process.env[variable] || undefined)
  if (address === undefined || (mayBeOff && address === 'off')) return address
  const checked = listenAddress.safeParse(address)
  if (!checked.success) {
    const where = flagValue !== undefined ? flag : variable
    const reason = checked.error.issues[0]?.message
    throw new UsageError(`${where}: invalid listen address '${address}': ${reason}`, false)
  }
  return address
}
