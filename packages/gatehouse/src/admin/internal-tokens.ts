/**
 * The gateway's internal-token keys on the admin API:
 *   GET  /internal-tokens/jwks.json    the public JWKS (also on the proxy listener at internal_tokens.jwks_path)
 *   GET  /internal-tokens/keys         kid, alg, state and schedule of each key (never private material)
 *   POST /internal-tokens/keys/rotate  a new key signs at once; the old one stays published until its
 *                                      tokens expired (an emergency rotation: not published ahead)
 */
import { type AdminHandler, sendJson } from './http.ts'

/** `GET /internal-tokens/jwks.json`. */
export const sendInternalJwks: AdminHandler = (ctx, a) => {
  a.res.writeHead(200, { 'content-type': 'application/jwk-set+json', 'cache-control': 'no-store' })
  a.res.end(a.method === 'HEAD' ? undefined : ctx.internalKeys.jwksBody)
}

/** `GET /internal-tokens/keys`. */
export const listInternalKeys: AdminHandler = (ctx, a) => {
  sendJson(a.res, 200, { data: ctx.internalKeys.list() })
}

/** `POST /internal-tokens/keys/rotate`. */
export const rotateInternalKey: AdminHandler = async (ctx, a) => {
  await ctx.internalKeys.rotateNow()
  sendJson(a.res, 201, { data: ctx.internalKeys.list() })
}
