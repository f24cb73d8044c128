/**
 * The admin API listener: the guards first, in this order, each refusal logged with its code —
 *   Host (hosts.ts: DNS rebinding, 421) → cross-site (cross-site.ts: Origin, Sec-Fetch-Site, 403; CORS
 *   preflights of admin.allowed_origins answered) → token or loopback (auth.ts, 401/403) → media type of
 *   a write's body (media-type.ts, 415, before the body is read)
 * — then the route table (routes.ts, served by dispatch.ts: 404 for a path it lacks, 405 with `Allow`
 * for a method), whose handlers live in one resource module per path family. Errors use the same
 * envelope as the proxy.
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { GatehouseError } from '../errors/errors.ts'
import { toGatehouseError } from '../errors/respond.ts'
import type { Logger } from '../observability/logger.ts'
import { StoreUnavailableError } from '../storage/store.ts'
import { checkAdminAccess } from './auth.ts'
import { ConsoleFiles, consolePath, defaultConsoleDir, serveConsole } from './console.ts'
import type { AdminContext } from './context.ts'
import { applyCors } from './cors.ts'
import { checkCrossSite } from './cross-site.ts'
import { dispatch } from './dispatch.ts'
import { allowedHost } from './hosts.ts'
import { type AdminRequest, sendError } from './http.ts'
import { checkMediaType } from './media-type.ts'
import { refuse, refuseHost } from './refuse.ts'

export interface AdminServerOptions {
  /** Read per request: a reload that changes the token, body limit, hosts or origins applies at once. */
  settings(): {
    token: string | undefined
    maxBodySize: number
    allowedHosts: readonly string[]
    allowedOrigins: readonly string[]
    /** admin.console: serve the console's files at /console/. */
    console: boolean
  }
  logger: Logger
  /** Where the console's built files are (GATEHOUSE_CONSOLE_DIR); default: @gatehouse/console's dist/. */
  consoleDir?: string | undefined
}

export function createAdminServer(ctx: () => AdminContext, options: AdminServerOptions): Server {
  const logger = options.logger
  const consoleFiles = new ConsoleFiles(options.consoleDir ?? defaultConsoleDir())
  if (options.settings().console)
    void consoleFiles.built().then((built) => {
      if (!built)
        logger.warn(
          "the admin console's files are not built: /console/ will say so; run `npm install` or `npm run build:console`",
        )
    })
  const server = createServer({ headersTimeout: 30_000, requestTimeout: 120_000 }, (req, res) => {
    const settings = options.settings()
    const bound = server.address() as AddressInfo | null
    const host = allowedHost(req, bound, settings.allowedHosts)
    if (host === null) return refuseHost(logger, req, res)
    const site = checkCrossSite(req, host, bound, settings)
    if (site.refused) {
      const err = new GatehouseError(
        'GH_ERR_ADMIN_CROSS_SITE',
        'cross-site requests to the admin API are refused (Origin and Sec-Fetch-Site); list a console in admin.allowed_origins',
      )
      return refuse(logger, req, res, err, {
        reason: site.reason,
        origin: req.headers.origin,
        sec_fetch_site: req.headers['sec-fetch-site'] as string | undefined,
      })
    }
    if (site.allowedOrigin !== null && applyCors(req, res, site.allowedOrigin)) return
    // The console's files load without the token (the page asks for it); the Host and Origin rules hold.
    const consoleAt = settings.console ? consolePath(req.url) : null
    if (consoleAt !== null)
      return void serveConsole(consoleFiles, req, res, consoleAt).catch((err: unknown) => {
        logger.error({ err }, 'serving the console failed')
        if (!res.headersSent) sendError(res, toGatehouseError(err))
        else res.destroy()
      })
    const denied = checkAdminAccess(req, settings.token)
    // RFC 9110 §15.5.2: a 401 carries the challenge the client should answer.
    if (denied)
      return refuse(logger, req, res, denied, {}, denied.status === 401 ? { 'www-authenticate': BEARER } : {})
    const a = adminRequest(req, res)
    if (a === null) {
      sendError(res, new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'invalid request target'))
      return
    }
    const media = checkMediaType(req, a.method, a.path)
    if (media !== null)
      return refuse(
        logger,
        req,
        res,
        media.error,
        { content_type: req.headers['content-type'] },
        media.headers,
      )
    // A throw in this listener would be an uncaught exception and stop the gateway: everything goes
    // through the promise, whose failure becomes an error response.
    Promise.resolve()
      .then(() => dispatch(ctx(), a, { maxBodySize: settings.maxBodySize, logger }))
      .catch((err: unknown) => {
        if (err instanceof StoreUnavailableError) return storeUnavailable(a, err, logger)
        const e = toGatehouseError(err)
        if (e.status >= 500) logger.error({ err, path: a.path }, 'admin request failed')
        if (!res.headersSent) sendError(res, e)
        else res.destroy()
      })
  })
  return server
}

const BEARER = 'Bearer realm="gatehouse-admin"'

/**
 * 503 for a write the store could not take (storage/lib/unavailable.ts): the write was not committed, and
 * the same request may succeed once the database is back. The reason (the database's location, pg's
 * words) goes to the log only.
 */
function storeUnavailable(a: AdminRequest, err: StoreUnavailableError, logger: Logger): void {
  logger.warn({ err: err.message, method: a.method }, 'admin write refused: the store cannot be reached')
  if (a.res.headersSent) {
    a.res.destroy()
    return
  }
  sendError(
    a.res,
    new GatehouseError(
      'GH_ERR_STORE_UNAVAILABLE',
      'the store (database) cannot be reached; the write was not applied: retry shortly',
    ),
    {},
    { 'retry-after': '5' },
  )
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
