import { userTarget } from '../identity/manage/audit.ts'
import { factorsOf, mfaBody, resetFactors, setUserMfa } from '../identity/manage/factors.ts'
import { checkedBody } from './checked-body.ts'
import type { AdminContext } from './context.ts'
import { type AdminHandler, type AdminRequest, sendJson } from './http.ts'
import { audited } from './identity-audit.ts'
import { identityUserFor, refusedAnswered } from './identity-requests.ts'

async function userOf(ctx: AdminContext, a: AdminRequest) {
  const found = await identityUserFor(ctx, a)
  return found === null ? null : { store: found.host.store, identity: found.identity, user: found.user }
}

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
  await audited(ctx, a, env, {
    action: 'user.mfa_reset',
    target: userTarget(found.user),
    detail: { factors_removed: removed },
  })
  sendJson(a.res, 200, { factors_removed: removed, ...(await factorsOf(found.store, found.user)) })
}

/** `PUT /identity/users/{user}/mfa`: 409 for a user the configuration file declares. */
export const putUserMfa: AdminHandler = async (ctx, a, env) => {
  const body = await checkedBody(a, env, mfaBody)
  if (body === null) return
  const found = await userOf(ctx, a)
  if (found === null) return
  const set = await refusedAnswered(a, async () => {
    await setUserMfa(found.store, found.identity, found.user, body.mfa)
    return true
  })
  if (set === undefined) return
  await audited(ctx, a, env, {
    action: 'user.mfa_policy_set',
    target: userTarget(found.user),
    detail: { mfa: body.mfa },
  })
  sendJson(a.res, 200, await factorsOf(found.store, found.user))
}
