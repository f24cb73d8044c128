/**
 * A user's second factors as administrators see and change them, the same for the admin API
 * (admin/identity-factors.ts) and `gatehouse users mfa` (cli/users-mfa.ts): the list without any secret,
 * a reset that removes every factor and recovery code (the user enrols again where a policy needs it),
 * and the user's own mfa policy. The list and the reset are for every user, the file's too: factors are
 * not in the file. The policy of a user the file declares is the file's (`identity.users[i].mfa`, applied
 * at each load), so setting it here is refused for them as their other fields are.
 */
import { z } from 'zod'
import type { IdentityConfig } from '../../config/normalize-identity.ts'
import { mfaPolicy } from '../../config/schema/identity.ts'
import type { MfaPolicy, Store, StoredFactor, StoredPasskey, StoredUser } from '../../storage/store.ts'
import { credentialFingerprint } from '../factors/fingerprint.ts'
import { IdentityChangeRefused } from './refusal.ts'
import { declaredAt } from './users.ts'

/** The body of `PUT /identity/users/{user}/mfa`. */
export const mfaBody = z.strictObject({
  mfa: mfaPolicy
    .nullable()
    .describe(
      "The user's own second-factor policy: `off`, `optional`, `required`, or null for none of their own. The strictest of this, the client's `mfa` and `identity.mfa` applies.",
    ),
})

/**
 * A factor as shown to administrators: never its secret, sealed or not; for a passkey, never its public
 * key or credential id (a fingerprint tells two apart), but whether it is synced and what model it is.
 */
export function presentFactor(factor: StoredFactor, passkey?: StoredPasskey): Record<string, unknown> {
  return {
    id: factor.id,
    kind: factor.kind,
    name: factor.name,
    created_at: factor.created_at,
    last_used_at: factor.last_used_at,
    ...(passkey !== undefined && {
      passkey: {
        credential: credentialFingerprint(passkey.credential_id),
        backed_up: passkey.backed_up,
        transports: passkey.transports,
        aaguid: passkey.aaguid,
      },
    }),
  }
}

export interface FactorsView {
  readonly data: Record<string, unknown>[]
  readonly recovery_codes_left: number
  readonly mfa: MfaPolicy | null
}

export async function factorsOf(store: Store, user: StoredUser): Promise<FactorsView> {
  const [factors, passkeys, left, mfa] = await Promise.all([
    store.factors.list(user.id),
    store.factors.passkeys(user.id),
    store.factors.recoveryCodesLeft(user.id),
    store.factors.policy(user.id),
  ])
  return {
    data: factors.map((f) =>
      presentFactor(
        f,
        passkeys.find((p) => p.factor_id === f.id),
      ),
    ),
    recovery_codes_left: left,
    mfa,
  }
}

/** Removes every factor (passkeys too) and recovery code of the user; returns how many factors there were. */
export function resetFactors(store: Store, user: StoredUser): Promise<number> {
  return store.factors.removeAll(user.id)
}

/**
 * Sets (null: clears) the user's own policy; refused (`managed`) for a user the file declares, or that a
 * load of it wrote (source `config`, until the next load removes it).
 */
export async function setUserMfa(
  store: Store,
  identity: IdentityConfig,
  user: StoredUser,
  mfa: MfaPolicy | null,
): Promise<void> {
  const at = declaredAt(identity, user.username)
  if (at !== -1 || user.source === 'config') {
    // The key to change; only the list when the file no longer has the user (the next load removes it).
    const key = at === -1 ? 'identity.users' : `identity.users[${at}].mfa`
    const what = `the mfa policy of user '${user.username}'`
    throw new IdentityChangeRefused(
      'managed',
      `${what} is declared in the configuration file (${key}); change it there`,
      [],
      `${what} (${key})`,
    )
  }
  await store.factors.setPolicy(user.id, mfa, Math.floor(Date.now() / 1000))
}
