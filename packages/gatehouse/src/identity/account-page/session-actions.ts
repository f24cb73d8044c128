/**
 * Ending sessions from the account page: one other session, or every session ("sign out everywhere").
 * Audited, as the administrator's sign-out is; the one session by its public uid.
 */
import { signOutEverywhere, signOutSession } from '../manage/sessions.ts'
import { auditAccountChange } from '../self-service-audit.ts'
import type { AccountAction, ActionOutcome } from './sections.ts'

export const endOneSession: AccountAction = async (c, r, who, form): Promise<ActionOutcome> => {
  const uid = form.get('session') ?? ''
  if (uid === who.sessionUid)
    return { problem: 'To sign out this browser, use "Sign out" at the top.', status: 400 }
  const reason = 'signed out from the account page'
  const ended = uid.length <= 64 && (await signOutSession(c.store, c.revocations, who.user.id, uid, reason))
  if (!ended) return { problem: 'That session has already ended.', status: 200 }
  await auditAccountChange(c, r, who, 'user.session_ended', { session: uid, sessions_ended: 1, reason })
  return { done: 'session' }
}

export const endEverySession: AccountAction = async (c, r, who): Promise<ActionOutcome> => {
  const reason = 'signed out everywhere by its owner'
  let out: Awaited<ReturnType<typeof signOutEverywhere>>
  try {
    out = await signOutEverywhere(c.store, c.revocations, who.user.id, reason)
  } catch (err) {
    // Deleted from the store; only the revocation for the other nodes is missing (Redis down). A change
    // all the same, audited as the admin API's sign-out audits it.
    c.logger.warn({ err, user_id: who.user.id }, 'account signed out, revocation not recorded')
    const detail = { sessions_ended: null, artefacts_deleted: null, subject_revoked: false, reason }
    await auditAccountChange(c, r, who, 'user.signed_out', detail)
    return {
      problem:
        'Your sessions were ended here, but not every server could be told yet. Try "Sign out everywhere" again in a moment.',
      status: 503,
    }
  }
  await auditAccountChange(c, r, who, 'user.signed_out', {
    sessions_ended: out.sessions,
    artefacts_deleted: out.artefacts,
    subject_revoked: out.revoked,
    reason,
  })
  return { signedOut: true }
}
