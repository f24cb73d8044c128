/**
 * The admin API listener: access check first, then one resource module per path family. Errors use the
 * same envelope as the proxy.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { GatehouseError } from '../errors/errors.ts'
import { toGatehouseError } from '../errors/respond.ts'
import type { Logger } from '../observability/logger.ts'
import { checkAdminAccess } from './auth.ts'
import { handleConfig } from './config.ts'
import type { AdminContext } from './context.ts'
import { handleCredentials } from './credentials.ts'
import { handleEntities } from './entities.ts'
import { type AdminRequest, sendError } from './http.ts'
import { handleInternalTokens } from './internal-tokens.ts'
import { handleProxyCache } from './proxy-cache.ts'
import { handleRevocations } from './revocations.ts'
import { handleSigningKeys } from './signing-keys.ts'
import { handleStatus } from './status.ts'
import { handleEntityWrites } from './writes.ts'

export interface AdminServerOptions {
  /** Read per request, so a reload that changes admin.token or max_body_size applies at once. */
  settings(): { token: string | undefined; maxBodySize: number }
  logger: Logger
}

export function createAdminServer(ctx: () => AdminContext, options: AdminServerOptions): Server {
  return createServer({ headersTimeout: 30_000, requestTimeout: 120_000 }, (req, res) => {
    const { token, maxBodySize } = options.settings()
    const denied = checkAdminAccess(req, token)
    if (denied) {
      options.logger.info({ client_ip: req.socket.remoteAddress, code: denied.code }, 'admin request refused')
      // RFC 9110 §15.5.2: a 401 carries the challenge the client should answer.
      sendError(
        res,
        denied,
        {},
        denied.status === 401 ? { 'www-authenticate': 'Bearer realm="gatehouse-admin"' } : {},
      )
      return
    }
    const a = adminRequest(req, res)
    if (a === null) {
      sendError(res, new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'invalid request target'))
      return
    }
    // A throw in this listener would be an uncaught exception and stop the gateway: everything goes
    // through the promise, whose failure becomes an error response.
    Promise.resolve()
      .then(() => route(ctx(), a, maxBodySize, options.logger))
      .catch((err: unknown) => {
        const e = toGatehouseError(err)
        if (e.status >= 500) options.logger.error({ err, path: a.path }, 'admin request failed')
        if (!res.headersSent) sendError(res, e)
        else res.destroy()
      })
  })
}

/** The request with its path (no trailing slash) and query, or null when the target is not a URL. */
function adminRequest(req: IncomingMessage, res: ServerResponse): AdminRequest | null {
  const target = req.url ?? '/'
  let url: URL
  try {
    // Origin-form is appended rather than resolved, so `//x` stays a path and is not read as a host.
    url = target.startsWith('/') ? new URL(`http://admin.invalid${target}`) : new URL(target)
  } catch {
    return null
  }
  return {
    req,
    res,
    method: req.method ?? 'GET',
    path: url.pathname.length > 1 ? url.pathname.replace(/\/$/, '') : url.pathname,
    query: url.searchParams,
    params: {},
  }
}

async function route(ctx: AdminContext, a: AdminRequest, maxBodySize: number, logger: Logger): Promise<void> {
  if (await handleStatus(ctx, a)) return
  if (a.path === '/proxy-cache' || a.path.startsWith('/proxy-cache/')) return handleProxyCache(ctx, a, logger)
  if (await handleEntityWrites(ctx, a, maxBodySize)) return
  if (a.path === '/config') return handleConfig(ctx, a, maxBodySize)
  if (a.path === '/revocations') return handleRevocations(ctx, a, maxBodySize, logger)
  if (a.path.split('/')[1] === 'signing-keys') return handleSigningKeys(ctx, a, maxBodySize, logger)
  if (a.path.startsWith('/internal-tokens/') && (await handleInternalTokens(ctx, a))) return
  if (handleCredentials(ctx, a)) return
  if (handleEntities(ctx, a)) return
  sendError(a.res, new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', 'Not found'))
}
