/**
 * A user's second factors on the admin API (issue 14), with the checks and writes of `gatehouse users
 * mfa` (identity/manage/factors.ts):
 *   GET    /identity/users/{user}/factors   the factors (never a secret), recovery codes left, own policy
 *   DELETE /identity/users/{user}/factors   removes every factor and recovery code (lost device)
 *   PUT    /identity/users/{user}/mfa       the user's own mfa policy
 * For every user, the file's too. Each change is an audit line naming the user and the actor.
 */
import { GatehouseError } from '../errors/errors.ts'
import { factorsOf, mfaBody, resetFactors, setUserMfa } from '../identity/manage/factors.ts'
import { findUser } from '../identity/manage/users.ts'
import type { StoredUser } from '../storage/store.ts'
import { checkedBody } from './checked-body.ts'
import type { AdminContext } from './context.ts'
import { type AdminHandler, type AdminRequest, sendError, sendJson } from './http.ts'
import { identityFor } from './identity-requests.ts'

async function userOf(ctx: AdminContext, a: AdminRequest) {
  const found = identityFor(ctx, a)
  if (found === null) return null
  const reference = a.params.user!
  const user = await findUser(found.host.store, reference)
  if (user === undefined) {
    sendError(a.res, new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', `no user '${reference}'`))
    return null
  }
  return { store: found.host.store, user }
}

const who = (user: StoredUser) => ({ user: user.username, id: user.id, actor: 'admin' })

/** `GET /identity/users/{user}/factors`. */
export const listFactors: AdminHandler = async (ctx, a) => {
  const found = await userOf(ctx, a)
  if (found === null) return
  sendJson(a.res, 200, await factorsOf(found.store, found.user))
}

/** `DELETE /identity/users/{user}/factors`. */
export const deleteFactors: AdminHandler = async (ctx, a, env) => {
  const found = await userOf(ctx, a)
  if (found === null) return
  const removed = await resetFactors(found.store, found.user)
  env.logger.info({ ...who(found.user), factors_removed: removed }, 'identity factors reset')
  sendJson(a.res, 200, { factors_removed: removed, ...(await factorsOf(found.store, found.user)) })
}

/** `PUT /identity/users/{user}/mfa`. */
export const putUserMfa: AdminHandler = async (ctx, a, env) => {
  const body = await checkedBody(a, env, mfaBody)
  if (body === null) return
  const found = await userOf(ctx, a)
  if (found === null) return
  await setUserMfa(found.store, found.user, body.mfa)
  env.logger.info({ ...who(found.user), mfa: body.mfa }, 'identity user mfa policy set')
  sendJson(a.res, 200, await factorsOf(found.store, found.user))
}
