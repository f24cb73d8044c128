/**
 * `gatehouse identity start`: the identity provider alone, on the proxy listen address, with no routes
 * (anything outside the issuer is 404). The same provider as inside the gateway (host.ts), the same
 * signals: SIGHUP reloads the file, SIGTERM and SIGINT stop.
 */
import { createServer } from 'node:http'
import { BlockList, isIPv6 } from 'node:net'
import { loadConfigFile } from '../config/load.ts'
import type { GatewayConfig } from '../config/model.ts'
import { ConfigError } from '../errors/errors.ts'
import { createLoggers } from '../observability/logger.ts'
import { BUILTIN_ROUTES, RouteMetrics } from '../observability/metrics.ts'
import { parseRequestTarget } from '../pipeline/request-target.ts'
import { loadBundledPlugins } from '../plugins/registry.ts'
import { listen } from '../proxy/server.ts'
import { VERSION } from '../version.ts'
import { IdentityHost } from './host.ts'

export interface IdentityServerOptions {
  readonly configFile: string
  /** HOST:PORT; default: the file's proxy.listen. */
  readonly listen?: string | undefined
}

export interface IdentityServer {
  readonly address: string
  close(): Promise<void>
}

export async function startIdentityServer(options: IdentityServerOptions): Promise<IdentityServer> {
  const registry = await loadBundledPlugins()
  let config = await loadConfigFile(options.configFile, { registry })
  requireEnabled(config)
  const loggers = createLoggers({ level: config.settings.logging.level })
  const logger = loggers.logger
  let trusted = blockList(config.settings.proxy.trusted_ips)
  const host = await IdentityHost.start(config.settings, {
    logger,
    metrics: new RouteMetrics('', BUILTIN_ROUTES.identityProvider),
    trustedProxies: () => trusted,
  })
  const server = createServer((req, res) => {
    const target = parseRequestTarget(
      req.url ?? '/',
      req.headers.host,
      config.settings.proxy.path_normalization,
    )
    if (target !== null && host.mount.matches(target.host, target.path)) {
      host.mount.handle(req, res, target.path, target.query)
      return
    }
    const body = JSON.stringify({
      error: 'not_found',
      error_description: 'not an identity provider endpoint',
    })
    res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  let address: string
  try {
    address = await listen(server, options.listen ?? config.settings.proxy.listen)
  } catch (err) {
    await host.close()
    throw err
  }
  logger.info(
    { version: VERSION, address, issuer: config.settings.identity.issuer },
    'gatehouse identity provider started',
  )
  loggers.flush()

  const close = async () => {
    server.close()
    server.closeAllConnections()
    await host.close()
    logger.info({}, 'stopped')
    loggers.flush()
  }
  process.on('SIGHUP', () => {
    loadConfigFile(options.configFile, { registry })
      .then(async (next) => {
        requireEnabled(next)
        await host.reload(next.settings)
        config = next
        trusted = blockList(next.settings.proxy.trusted_ips)
      })
      .catch((err: unknown) => logger.error({ err }, 'reload failed; keeping the running configuration'))
  })
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => {
      close().finally(() => process.exit(0))
    })
  return { address, close }
}

function requireEnabled(config: GatewayConfig): void {
  if (!config.settings.identity.enabled)
    throw new ConfigError(config.source, [
      { path: 'identity.enabled', message: 'must be true to run the identity provider' },
    ])
}

function blockList(cidrs: readonly string[]): BlockList | null {
  if (cidrs.length === 0) return null
  const list = new BlockList()
  for (const entry of cidrs) {
    const [address, bits] = entry.split('/') as [string, string | undefined]
    const type = isIPv6(address) ? 'ipv6' : 'ipv4'
    if (bits === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(bits), type)
  }
  return list
}
