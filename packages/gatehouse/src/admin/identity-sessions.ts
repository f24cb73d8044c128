/**
 * A user's provider sessions on the admin API (issue 14), what the account page offers its owner:
 *   GET  /identity/users/{user}/sessions   the sessions (public uid, sign-in time, methods, clients)
 *   POST /identity/users/{user}/signout    sign out everywhere: every session, grant and token of the
 *                                          account deleted, and a subject revocation recorded (every node)
 * Allowed for every user, the configuration file's too: neither changes the user. Audited.
 */
import { GatehouseError } from '../errors/errors.ts'
import type { AdminHandler } from './http.ts'
import { sendError, sendJson } from './http.ts'
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
  let out: Awaited<ReturnType<typeof found.host.signOutEverywhere>>
  try {
    out = await found.host.signOutEverywhere(user.id, 'signed out everywhere by an administrator')
  } catch (err) {
    env.logger.warn({ err, user_id: user.id, actor: 'admin' }, 'account signed out, revocation not recorded')
    return sendError(
      a.res,
      new GatehouseError(
        'GH_ERR_IDENTITY_SIGNOUT_INCOMPLETE',
        `the sessions and tokens of '${user.username}' were deleted, but the subject revocation could not be recorded; retry`,
      ),
    )
  }
  env.logger.info(
    { user_id: user.id, actor: 'admin', sessions_ended: out.sessions, revoked: out.revoked },
    'account signed out everywhere',
  )
  sendJson(a.res, 200, {
    id: user.id,
    username: user.username,
    sessions_ended: out.sessions,
    artefacts_deleted: out.artefacts,
    subject_revoked: out.revoked,
  })
}
