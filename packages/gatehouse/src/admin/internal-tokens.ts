/**
 * The gateway's internal-token keys on the admin API:
 *   GET  /internal-tokens/jwks.json    the public JWKS (also on the proxy listener at internal_tokens.jwks_path)
 *   GET  /internal-tokens/keys         kid, alg, state and schedule of each key (never private material)
 *   POST /internal-tokens/keys/rotate  a new key signs at once; the old one stays published until its
 *                                      tokens expired (an emergency rotation: not published ahead)
 */
import type { AdminContext } from './context.ts'
import { type AdminRequest, sendJson } from './http.ts'

export async function handleInternalTokens(ctx: AdminContext, a: AdminRequest): Promise<boolean> {
  const ring = ctx.internalKeys
  const read = a.method === 'GET' || a.method === 'HEAD'
  if (a.path === '/internal-tokens/jwks.json' && read) {
    a.res.writeHead(200, {
      'content-type': 'application/jwk-set+json',
      'cache-control': 'no-store',
    })
    a.res.end(a.method === 'HEAD' ? undefined : ring.jwksBody)
    return true
  }
  if (a.path === '/internal-tokens/keys' && read) {
    sendJson(a.res, 200, { data: ring.list() })
    return true
  }
  if (a.path === '/internal-tokens/keys/rotate' && a.method === 'POST') {
    await ring.rotateNow()
    sendJson(a.res, 201, { data: ring.list() })
    return true
  }
  return false
}
