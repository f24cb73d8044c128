/**
 * The admin API listener: access check first, then one resource module per path family. Errors use the
 * same envelope as the proxy.
 */
import { createServer, type Server } from 'node:http'
import { GatehouseError } from '../errors/errors.ts'
import { toGatehouseError } from '../errors/respond.ts'
import type { Logger } from '../observability/logger.ts'
import { checkAdminAccess } from './auth.ts'
import { handleConfig } from './config.ts'
import type { AdminContext } from './context.ts'
import { handleEntities } from './entities.ts'
import { type AdminRequest, sendError } from './http.ts'
import { handleStatus } from './status.ts'

export interface AdminServerOptions {
  token: string | undefined
  maxBodySize: number
  logger: Logger
}

export function createAdminServer(ctx: () => AdminContext, options: AdminServerOptions): Server {
  return createServer({ headersTimeout: 30_000, requestTimeout: 120_000 }, (req, res) => {
    const denied = checkAdminAccess(req, options.token)
    if (denied) {
      options.logger.info({ client_ip: req.socket.remoteAddress, code: denied.code }, 'admin request refused')
      sendError(res, denied)
      return
    }
    const url = new URL(req.url ?? '/', 'http://admin.invalid')
    const a: AdminRequest = {
      req,
      res,
      method: req.method ?? 'GET',
      path: url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname,
      query: url.searchParams,
      params: {},
    }
    route(ctx(), a, options).catch((err: unknown) => {
      const e = toGatehouseError(err)
      if (e.status >= 500) options.logger.error({ err, path: a.path }, 'admin request failed')
      if (!res.headersSent) sendError(res, e)
      else res.destroy()
    })
  })
}

async function route(ctx: AdminContext, a: AdminRequest, options: AdminServerOptions): Promise<void> {
  if (await handleStatus(ctx, a)) return
  if (a.path === '/config') return handleConfig(ctx, a, options.maxBodySize)
  if (handleEntities(ctx, a)) return
  sendError(a.res, new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', 'Not found'))
}
