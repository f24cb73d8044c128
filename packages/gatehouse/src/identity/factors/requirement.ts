/** What one sign-in needs after the password, from the three policies and the user's factors (policy.ts). */
import type { MfaPolicy, Store, StoredFactor } from '../../storage/store.ts'
import { type SecondStep, secondStep, strictest } from './policy.ts'

export interface SecondStepNeed {
  readonly step: SecondStep
  /** The user's factors that can be asked now (authenticator apps and passkeys). */
  readonly factors: readonly StoredFactor[]
}

export async function secondStepFor(
  store: Store,
  providerPolicy: MfaPolicy,
  clientPolicy: MfaPolicy | null,
  userId: string,
  twoFactorsAsked: boolean,
): Promise<SecondStepNeed> {
  const [factors, userPolicy] = await Promise.all([store.factors.list(userId), store.factors.policy(userId)])
  const usable = factors.filter((f) => f.kind === 'totp' || f.kind === 'passkey')
  const policy = strictest(providerPolicy, clientPolicy, userPolicy)
  return { step: secondStep(policy, usable.length > 0, twoFactorsAsked), factors: usable }
}
