/** Ending sessions from the account page: one other session, or every session ("sign out everywhere"). */
import { signOutEverywhere, signOutSession } from '../manage/sessions.ts'
import type { AccountAction, ActionOutcome } from './sections.ts'

export const endOneSession: AccountAction = async (c, _r, who, form): Promise<ActionOutcome> => {
  const uid = form.get('session') ?? ''
  if (uid === who.sessionUid)
    return { problem: 'To sign out this browser, use "Sign out" at the top.', status: 400 }
  const ended =
    uid.length <= 64 &&
    (await signOutSession(c.store, c.revocations, who.user.id, uid, 'signed out from the account page'))
  if (!ended) return { problem: 'That session has already ended.', status: 200 }
  c.logger.info({ user_id: who.user.id, actor: who.user.id, session_uid: uid }, 'account session signed out')
  return { done: 'session' }
}

export const endEverySession: AccountAction = async (c, _r, who): Promise<ActionOutcome> => {
  let out: Awaited<ReturnType<typeof signOutEverywhere>>
  try {
    out = await signOutEverywhere(c.store, c.revocations, who.user.id, 'signed out everywhere by its owner')
  } catch (err) {
    // Deleted from the store; only the revocation for the other nodes is missing (Redis down).
    c.logger.warn(
      { err, user_id: who.user.id, actor: who.user.id },
      'account signed out, revocation not recorded',
    )
    return {
      problem:
        'Your sessions were ended here, but not every server could be told yet. Try "Sign out everywhere" again in a moment.',
      status: 503,
    }
  }
  c.logger.info(
    { user_id: who.user.id, actor: who.user.id, sessions_ended: out.sessions, revoked: out.revoked },
    'account signed out everywhere',
  )
  return { signedOut: true }
}
