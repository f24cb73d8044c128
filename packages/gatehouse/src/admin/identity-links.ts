/**
 * A user's links to external OpenID Connect providers on the admin API (issue 14), the same as
 * `gatehouse users links|unlink` (identity/broker/links.ts):
 *   GET    /identity/users/{user}/links             the user's links (provider, its subject, display copies)
 *   DELETE /identity/users/{user}/links/{provider}  removes one: that identity no longer signs in as the user
 * Allowed for every user, the configuration file's too (a link is not in the file). Each removal is audited.
 */
import { GatehouseError } from '../errors/errors.ts'
import { linksOf, signInLeft, unlink } from '../identity/broker/links.ts'
import { userTarget } from '../identity/manage/audit.ts'
import type { AdminHandler } from './http.ts'
import { sendError, sendJson } from './http.ts'
import { audited } from './identity-audit.ts'
import { identityUserFor } from './identity-requests.ts'

/** `GET /identity/users/{user}/links`. */
export const listLinks: AdminHandler = async (ctx, a) => {
  const found = await identityUserFor(ctx, a)
  if (found === null) return
  const { user } = found
  sendJson(a.res, 200, { data: await linksOf(found.host.store, found.identity, user.id) })
}

/** `DELETE /identity/users/{user}/links/{provider}`. */
export const deleteLink: AdminHandler = async (ctx, a, env) => {
  const found = await identityUserFor(ctx, a)
  if (found === null) return
  const { store } = found.host
  const { user } = found
  const broker = a.params.provider!
  if (!(await unlink(store, user, broker)))
    return sendError(
      a.res,
      new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', `user '${user.username}' has no link to '${broker}'`),
    )
  await audited(ctx, a, env, {
    action: 'user.link_removed',
    target: userTarget(user),
    detail: { provider: broker, sign_in_left: await signInLeft(store, user) },
  })
  a.res.writeHead(204, { 'cache-control': 'no-store' }).end()
}
