/**
 * When a sign-in needs a second factor. Three settings say so, the provider's `identity.mfa`, the
 * client's `mfa` and the user's own, and the strictest applies (off < optional < required):
 * - `required`: always; a user with no factor enrols while signing in;
 * - `optional`: when the user has a factor;
 * - `off`: never, unless the client asks for two factors (`acr_values` urn:gatehouse:acr:2fa, the
 *   gateway's step-up).
 * A client asking for two factors for a user with none gets the enrolment page where the policy allows
 * enrolling (anything but `off`), else `unmet_authentication_requirements`.
 */
import type { MfaPolicy } from '../../storage/store.ts'

/** Authentication context classes, weakest first (as discovery lists them). */
export const ACR_1FA = 'urn:gatehouse:acr:1fa'
export const ACR_2FA = 'urn:gatehouse:acr:2fa'
export const ACR_VALUES: readonly string[] = [ACR_1FA, ACR_2FA]

const RANK: Readonly<Record<MfaPolicy, number>> = { off: 0, optional: 1, required: 2 }

export function strictest(...policies: (MfaPolicy | null | undefined)[]): MfaPolicy {
  let out: MfaPolicy = 'off'
  for (const p of policies) if (p != null && RANK[p] > RANK[out]) out = p
  return out
}

/** Whether the request's `acr_values` (space-separated) ask for two factors. */
export function asksTwoFactors(acrValues: unknown): boolean {
  return typeof acrValues === 'string' && acrValues.split(' ').includes(ACR_2FA)
}

/** What the sign-in does after the password: nothing more, ask a code, enrol, or give up. */
export type SecondStep = 'none' | 'verify' | 'enrol' | 'unmet'

export function secondStep(policy: MfaPolicy, hasFactor: boolean, twoFactorsAsked: boolean): SecondStep {
  if (hasFactor) return policy === 'off' && !twoFactorsAsked ? 'none' : 'verify'
  if (policy === 'required') return 'enrol'
  if (twoFactorsAsked) return policy === 'off' ? 'unmet' : 'enrol'
  return 'none'
}

/**
 * RFC 8176 `amr` of the methods proved, in order, each once; `mfa` added when two distinct factors were
 * proved (a password and a one-time code are something known and something held), or kept when one
 * method proved two by itself (a passkey that verified its user: held, and known or are) — `mfa` last.
 */
export function amrOf(methods: readonly string[]): string[] {
  const out = [...new Set(methods.filter((m) => m !== 'mfa'))]
  if (out.length >= 2 || methods.includes('mfa')) out.push('mfa')
  return out
}

export function acrOf(amr: readonly string[]): string {
  return amr.includes('mfa') ? ACR_2FA : ACR_1FA
}

/**
 * The `amr` of a sign-in whose first factor proved `first` (possibly `[]`: an external provider whose
 * methods are not trusted is still one factor) and then `second`: both methods, each once, and `mfa`,
 * since two distinct factors were proved even when the first one's kind is unknown.
 */
export function withSecondFactor(first: readonly string[], second: string): string[] {
  const out = [...new Set([...first.filter((m) => m !== 'mfa'), second])]
  out.push('mfa')
  return out
}
