/**
 * A sign-in between its factors: who proved what so far, kept server-side with the interaction (an
 * artefact keyed by the interaction's uid, expiring with it), never in a cookie or form field the
 * browser could forge. It is bound to the interaction's `cid` (oidc-provider's server-side value) too,
 * so it cannot outlive the interaction it was made for. oidc-provider's own `result` is not used for
 * this: a result with `login` in it finishes the sign-in as soon as the browser goes to the resume URL.
 */
import { errors, type Interaction } from 'oidc-provider'
import type { StoredUser } from '../../storage/store.ts'
import type { InteractionContext } from './context.ts'

const MODEL = 'GatehouseSignIn'

export interface SignInProgress {
  readonly cid: string
  readonly accountId: string
  /** The RFC 8176 methods proved in this sign-in so far (`pwd`; a step-up starts from the session's). */
  readonly amr: readonly string[]
  /** A TOTP secret being enrolled, sealed (factors/seal.ts) to `enrolBinding(uid)`. */
  readonly enrolSecret?: string | undefined
  /** Every factor proved: only the "continue" after the recovery codes is left. */
  readonly done?: { readonly amr: readonly string[]; readonly acr: string } | undefined
}

export const enrolBinding = (uid: string): string => `enrol:${uid}`

const nowSeconds = () => Math.floor(Date.now() / 1000)

export async function loadProgress(
  c: InteractionContext,
  interaction: Interaction,
): Promise<SignInProgress | undefined> {
  const found = await c.store.oidc.find(MODEL, interaction.uid, nowSeconds())
  const progress = found?.payload as SignInProgress | undefined
  if (progress === undefined || progress.cid !== interaction.cid) return undefined
  return progress
}

export async function saveProgress(
  c: InteractionContext,
  interaction: Interaction,
  progress: Omit<SignInProgress, 'cid'>,
): Promise<void> {
  const now = nowSeconds()
  const ttl = Math.max(1, (interaction.exp ?? now + 600) - now)
  await c.store.oidc.upsert(MODEL, interaction.uid, { ...progress, cid: interaction.cid }, ttl, now)
}

export async function dropProgress(c: InteractionContext, interaction: Interaction): Promise<void> {
  await c.store.oidc.destroy(MODEL, interaction.uid)
}

/**
 * The account a sign-in in progress is for, still there and enabled; else the progress is dropped and
 * the sign-in ends as expired (a user disabled or deleted between the steps signs nobody in).
 */
export async function progressAccount(
  c: InteractionContext,
  interaction: Interaction,
  progress: SignInProgress,
): Promise<StoredUser> {
  const user = await c.store.users.get(progress.accountId)
  if (user === undefined || user.disabled) {
    await dropProgress(c, interaction)
    throw new errors.SessionNotFound('the account is no longer available')
  }
  return user
}
