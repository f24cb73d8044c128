/**
 * Who may use the admin API: with no token configured, loopback clients only; with `admin.token`, every
 * client must send it (`Authorization: Bearer <token>`, or Kong's `Kong-Admin-Token` header). The
 * comparison is constant-time over hashes, so the token's length and content do not leak by timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { GatehouseError } from '../errors/errors.ts'

const digest = (value: string) => createHash('sha256').update(value).digest()

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.')
}

/** Returns null when allowed, else the error to answer with. */
export function checkAdminAccess(req: IncomingMessage, token: string | undefined): GatehouseError | null {
  if (token === undefined) {
    if (isLoopback(req.socket.remoteAddress)) return null
    return new GatehouseError(
      'GH_ERR_ADMIN_FORBIDDEN',
      'the admin API only serves loopback clients unless admin.token is configured',
    )
  }
  const auth = req.headers.authorization
  const presented =
    typeof auth === 'string' && /^bearer\s+/i.test(auth)
      ? auth.replace(/^bearer\s+/i, '').trim()
      : (req.headers['kong-admin-token'] as string | undefined)
  if (presented === undefined || presented === '') {
    return new GatehouseError(
      'GH_ERR_ADMIN_UNAUTHORIZED',
      'admin token required (Authorization: Bearer <token>)',
    )
  }
  if (!timingSafeEqual(digest(presented), digest(token))) {
    return new GatehouseError('GH_ERR_ADMIN_UNAUTHORIZED', 'invalid admin token')
  }
  return null
}
