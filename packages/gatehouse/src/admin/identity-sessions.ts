/**
 * A user's provider sessions on the admin API (issue 14), what the account page offers its owner:
 *   GET  /identity/users/{user}/sessions   the sessions (public uid, sign-in time, methods, clients)
 *   POST /identity/users/{user}/signout    sign out everywhere: every session, grant and token of the
 *                                          account deleted, and a subject revocation recorded (every node)
 * Allowed for every user, the configuration file's too: neither changes the user. Audited.
 */
import { GatehouseError } from '../errors/errors.ts'
import { userTarget } from '../identity/manage/audit.ts'
import type { AdminHandler } from './http.ts'
import { sendError, sendJson } from './http.ts'
import { audited } from './identity-audit.ts'
import { identityUserFor } from './identity-requests.ts'

/** `GET /identity/users/{user}/sessions`. */
export const listUserSessions: AdminHandler = async (ctx, a) => {
  const found = await identityUserFor(ctx, a)
  if (found === null) return
  const { user } = found
  const sessions = await found.host.listSessions(user.id)
  sendJson(a.res, 200, { data: sessions.map(({ grants: _g, ...s }) => s) })
}

/** `POST /identity/users/{user}/signout`. */
export const signOutUser: AdminHandler = async (ctx, a, env) => {
  const found = await identityUserFor(ctx, a)
  if (found === null) return
  const { user } = found
  const reason = 'signed out everywhere by an administrator'
  let out: Awaited<ReturnType<typeof found.host.signOutEverywhere>>
  try {
    out = await found.host.signOutEverywhere(user.id, reason)
  } catch (err) {
    env.logger.warn({ err, user_id: user.id }, 'account signed out, revocation not recorded')
    // The store was cleared all the same: a change, audited as such.
    await audited(ctx, a, env, {
      action: 'user.signed_out',
      target: userTarget(user),
      detail: { sessions_ended: null, artefacts_deleted: null, subject_revoked: false, reason },
    })
    return sendError(
      a.res,
      new GatehouseError(
        'GH_ERR_IDENTITY_SIGNOUT_INCOMPLETE',
        `the sessions and tokens of '${user.username}' were deleted, but the subject revocation could not be recorded; retry`,
      ),
    )
  }
  await audited(ctx, a, env, {
    action: 'user.signed_out',
    target: userTarget(user),
    detail: {
      sessions_ended: out.sessions,
      artefacts_deleted: out.artefacts,
      subject_revoked: out.revoked,
      reason,
    },
  })
  sendJson(a.res, 200, {
    id: user.id,
    username: user.username,
    sessions_ended: out.sessions,
    artefacts_deleted: out.artefacts,
    subject_revoked: out.revoked,
  })
}
