/**
 * The status listener (`admin.status_listen`, Kong's `status_listen`): `/status`, `/status/ready` and
 * `/metrics`, GET and HEAD, without the admin token, on an address of its own, so that Kubernetes probes
 * are plain `httpGet` and Prometheus scrapes without a secret. Nothing here reads a credential or changes
 * anything; the Host rule still applies (hosts.ts): the pod IP, the scrape target's address, localhost and
 * admin.allowed_hosts. Other methods get 405, other paths 404.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { GatehouseError } from '../errors/errors.ts'
import { toGatehouseError } from '../errors/respond.ts'
import type { Logger } from '../observability/logger.ts'
import type { AdminContext } from './context.ts'
import { allowedHost } from './hosts.ts'
import { sendError } from './http.ts'
import { refuseHost } from './refuse.ts'
import { handleStatus, STATUS_PATHS } from './status.ts'

export interface StatusServerOptions {
  /** Read per request: admin.allowed_hosts applies on reload. */
  allowedHosts(): readonly string[]
  logger: Logger
}

export function createStatusServer(ctx: () => AdminContext, options: StatusServerOptions): Server {
  const logger = options.logger
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    if (allowedHost(req, server.address() as AddressInfo | null, options.allowedHosts()) === null)
      return refuseHost(logger, req, res)
    const target = req.url ?? '/'
    // Exact paths only: no query handling, no trailing-slash variants, nothing else to route.
    const path = target.split('?', 1)[0]!
    if (!STATUS_PATHS.has(path))
      return sendError(res, new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', 'Not found'))
    const method = req.method ?? 'GET'
    if (method !== 'GET' && method !== 'HEAD')
      return sendError(
        res,
        new GatehouseError('GH_ERR_ADMIN_METHOD_NOT_ALLOWED', `${method} is not supported on ${path}`),
        {},
        { allow: 'GET, HEAD' },
      )
    const a = { req, res, method, path, query: new URLSearchParams(), params: {} }
    handleStatus(ctx(), a).catch((err: unknown) => {
      logger.error({ err, path }, 'status request failed')
      if (!res.headersSent) sendError(res, toGatehouseError(err))
      else res.destroy()
    })
  })
  return server
}
