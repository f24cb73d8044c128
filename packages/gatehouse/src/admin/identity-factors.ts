import { factorsOf, mfaBody, resetFactors, setUserMfa } from '../identity/manage/factors.ts'
import type { StoredUser } from '../storage/store.ts'
import { checkedBody } from './checked-body.ts'
import type { AdminContext } from './context.ts'
import { type AdminHandler, type AdminRequest, sendJson } from './http.ts'
import { identityUserFor } from './identity-requests.ts'

async function userOf(ctx: AdminContext, a: AdminRequest) {
  const found = await identityUserFor(ctx, a)
  return found === null ? null : { store: found.host.store, user: found.user }
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
