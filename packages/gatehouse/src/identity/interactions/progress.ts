/**
 * A sign-in between its factors: who proved what so far, kept server-side with the interaction (an
 * artefact keyed by the interaction's uid, expiring with it), never in a cookie or form field the
 * browser could forge. It is bound to the interaction's `cid` (oidc-provider's server-side value) too,
 * so it cannot outlive the interaction it was made for. oidc-provider's own `result` is not used for
 * this: a result with `login` in it finishes the sign-in as soon as the browser goes to the resume URL.
 */
import type { Interaction } from 'oidc-provider'
import type { InteractionContext } from './context.ts'

const MODEL = 'GatehouseSignIn'

export interface SignInProgress {
  readonly cid: string
  readonly accountId: string
  /** The RFC 8176 methods proved in this sign-in so far (`pwd`; a step-up starts from the session's). */
  readonly amr: readonly string[]
  /**
   * The session proved a first factor of a kind it does not name (a brokered sign-in without trusted
   * amr: `amr: []`): whatever is proved now is a second, distinct factor, so the result is `mfa`.
   */
  readonly priorFactor?: true | undefined
  /** A TOTP secret being enrolled, sealed (factors/seal.ts) to `enrolBinding(uid)`. */
  readonly enrolSecret?: string | undefined
  /** Every factor proved: only the "continue" after the recovery codes is left. */
  readonly done?: { readonly amr: readonly string[]; readonly acr: string } | undefined
}

export const enrolBinding = (uid: string): string => `enrol:${uid}`

/** The methods proved once `method` (a second factor) is: with `mfa` where the first is unnamed. */
export const withSecondFactor = (progress: SignInProgress, method: string): string[] => [
  ...progress.amr,
  method,
  ...(progress.priorFactor === true ? ['mfa'] : []),
]

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
