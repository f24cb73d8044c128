/**
 * A person's sessions at the provider and how they end (issue 14), the same for the account page, the
 * admin API and `gatehouse users sessions|signout`:
 *
 * - a session is listed by its `uid` (public), never its id (the session cookie's value);
 * - signing one session out deletes it and revokes every grant it authorised, on every node (`grant`
 *   revocations: with one SQLite file per node each node deletes its own copy);
 * - "sign out everywhere" deletes every artefact of the account (sessions, grants, codes, tokens) and
 *   records a `subject` revocation, so internal tokens, the gateway's sessions and whatever another node
 *   still holds end on every node as well (redis/revocation.ts);
 * - "sign out the others" (after a password change) keeps the current session and its grants.
 */
import type { Revocations } from '../../redis/revocation.ts'
import type { Store } from '../../storage/store.ts'
import { ORIGIN_MODEL } from '../account-page/session-origin.ts'

export interface AccountSession {
  /** The session's public id. */
  readonly uid: string
  /** When the person signed in, epoch seconds. */
  readonly login_at: number | null
  readonly amr: readonly string[]
  /** The clients the session signed into. */
  readonly clients: readonly string[]
  /** Its grants (one per client). */
  readonly grants: readonly string[]
  readonly expires_at: number | null
  /** Where it was last used from, when recorded (account-page/session-origin.ts). */
  readonly last_ip: string | null
  readonly user_agent: string | null
}

const nowSeconds = () => Math.floor(Date.now() / 1000)

export async function listSessions(store: Store, accountId: string): Promise<AccountSession[]> {
  const now = nowSeconds()
  const records = await store.oidc.listByAccount('Session', accountId, now)
  const origins = new Map(
    (await store.oidc.listByAccount(ORIGIN_MODEL, accountId, now)).map((o) => [o.id, o.payload]),
  )
  return records.map((r) => {
    const origin = origins.get(String(r.payload['uid'] ?? ''))
    return {
      ...sessionOf(r.payload, r.expires_at),
      last_ip: typeof origin?.['ip'] === 'string' ? origin['ip'] : null,
      user_agent: typeof origin?.['userAgent'] === 'string' ? origin['userAgent'] : null,
    }
  })
}

function sessionOf(
  payload: Record<string, unknown>,
  expires: number | null,
): Omit<AccountSession, 'last_ip' | 'user_agent'> {
  const authorizations = (payload['authorizations'] ?? {}) as Record<string, { grantId?: unknown }>
  const loginTs = payload['loginTs']
  return {
    uid: String(payload['uid'] ?? ''),
    login_at: typeof loginTs === 'number' ? loginTs : null,
    amr: Array.isArray(payload['amr']) ? payload['amr'].map(String) : [],
    clients: Object.keys(authorizations),
    grants: Object.values(authorizations).flatMap((a) => (typeof a.grantId === 'string' ? [a.grantId] : [])),
    expires_at: expires,
  }
}

/** Ends the session `uid` of the account; false when it has no such session. */
export async function signOutSession(
  store: Store,
  revocations: Revocations | null,
  accountId: string,
  uid: string,
  reason: string,
): Promise<boolean> {
  const records = await store.oidc.listByAccount('Session', accountId, nowSeconds())
  const record = records.find((r) => r.payload['uid'] === uid)
  if (record === undefined) return false
  const session = sessionOf(record.payload, record.expires_at)
  await store.oidc.destroy('Session', record.id)
  await store.oidc.destroy(ORIGIN_MODEL, uid)
  await revokeGrants(store, revocations, session.grants, reason)
  return true
}

/**
 * Ends every other session of the account and revokes the grants none of the kept session's clients
 * hold (a changed password: whoever else was signed in is out, refresh tokens included).
 */
export async function signOutOthers(
  store: Store,
  revocations: Revocations | null,
  accountId: string,
  keepSessionId: string,
  reason: string,
): Promise<number> {
  const now = nowSeconds()
  const sessions = await store.oidc.listByAccount('Session', accountId, now)
  const kept = sessions.find((s) => s.id === keepSessionId)
  const keep = new Set(kept === undefined ? [] : sessionOf(kept.payload, kept.expires_at).grants)
  const others = sessions.filter((s) => s.id !== keepSessionId)
  for (const s of others) {
    await store.oidc.destroy('Session', s.id)
    await store.oidc.destroy(ORIGIN_MODEL, String(s.payload['uid'] ?? ''))
  }
  const grants = await store.oidc.listByAccount('Grant', accountId, now)
  await revokeGrants(
    store,
    revocations,
    grants.map((g) => g.id).filter((id) => !keep.has(id)),
    reason,
  )
  return others.length
}

export interface SignedOut {
  readonly sessions: number
  readonly artefacts: number
  /** Whether the subject revocation was recorded (false: no revocations on this node, or Redis down). */
  readonly revoked: boolean
}

/** Ends every session and grant of the account, here and on every node. */
export async function signOutEverywhere(
  store: Store,
  revocations: Revocations | null,
  accountId: string,
  reason: string,
): Promise<SignedOut> {
  const sessions = (await store.oidc.listByAccount('Session', accountId, nowSeconds())).length
  // The revocation first: once it is recorded nothing issued before it works anywhere, even if the
  // deletion below fails half way. When it cannot be recorded (Redis down) this node's store is still
  // cleared, and the failure is thrown for the caller to report.
  let failure: unknown = null
  if (revocations !== null)
    await revocations.revoke({ kind: 'subject', id: accountId, reason }).catch((err: unknown) => {
      failure = err
    })
  const artefacts = await store.oidc.deleteByAccount(accountId)
  if (failure !== null) throw failure
  const revoked = revocations !== null
  return { sessions, artefacts, revoked }
}

async function revokeGrants(
  store: Store,
  revocations: Revocations | null,
  grants: readonly string[],
  reason: string,
): Promise<void> {
  for (const grantId of grants) {
    await store.oidc.revokeByGrantId(grantId)
    await store.oidc.destroy('Grant', grantId)
    if (revocations !== null) await revocations.revoke({ kind: 'grant', id: grantId, reason })
  }
}
