/**
 * A refusal by the admin or status listener's guards (Host, cross-site, token, media type): logged at
 * info with its stable code and what the client sent that decided it (never a token, never the path,
 * which can hold an API key), then answered in the admin API's envelope. An unread body is discarded
 * by node:http before the connection serves its next request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { GatehouseError } from '../errors/errors.ts'
import type { Logger } from '../observability/logger.ts'
import { sendError } from './http.ts'

/** Client-sent header values in the log are cut to this many characters. */
const SHOWN = 200

export function refuse(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  err: GatehouseError,
  details: Record<string, string | undefined> = {},
  headers: Record<string, string> = {},
): void {
  const shown: Record<string, string> = {}
  for (const [key, value] of Object.entries(details))
    if (value !== undefined) shown[key] = value.slice(0, SHOWN)
  logger.info(
    { client_ip: req.socket.remoteAddress, method: req.method, code: err.code, ...shown },
    'admin request refused',
  )
  sendError(res, err, {}, headers)
}

/** 421 for a Host the listener does not answer to (also the status listener's). */
export function refuseHost(logger: Logger, req: IncomingMessage, res: ServerResponse): void {
  const err = new GatehouseError(
    'GH_ERR_ADMIN_HOST_NOT_ALLOWED',
    req.headers.host
      ? "this listener does not answer to the request's Host: use its IP address or localhost, or list the name in admin.allowed_hosts"
      : 'the request has no Host header',
  )
  refuse(logger, req, res, err, { host: req.headers.host })
}
