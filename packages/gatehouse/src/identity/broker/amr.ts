/**
 * What a brokered sign-in proved, in the provider's terms (issue 14 contract): the external provider's
 * `amr` is copied only when `trust_amr` is set, and then only the values RFC 8176 registers (§2; anything
 * else is a provider's private vocabulary that relying parties could misread). Without trust the sign-in
 * is one factor of unknown kind: `amr: []` and `urn:gatehouse:acr:1fa`. With trust, an `mfa` among the
 * provider's values makes it `urn:gatehouse:acr:2fa`; Gatehouse never infers two factors from the
 * presence of two values, since the provider alone knows whether they were distinct factors.
 */
import type { ExternalProviderConfig } from '../../config/schema/external-providers.ts'

export const ACR_1FA = 'urn:gatehouse:acr:1fa'
export const ACR_2FA = 'urn:gatehouse:acr:2fa'

/** RFC 8176 §2's registered values (IANA "Authentication Method Reference Values"). */
const RFC8176 = new Set([
  'face',
  'fpt',
  'geo',
  'hwk',
  'iris',
  'kba',
  'mca',
  'mfa',
  'otp',
  'pin',
  'pop',
  'pwd',
  'rba',
  'retina',
  'sc',
  'sms',
  'swk',
  'tel',
  'user',
  'vbm',
  'wia',
])

export function brokeredAuthentication(
  provider: Pick<ExternalProviderConfig, 'trust_amr'>,
  upstreamAmr: readonly string[],
): { amr: string[]; acr: string } {
  if (!provider.trust_amr) return { amr: [], acr: ACR_1FA }
  const amr = [...new Set(upstreamAmr.filter((v) => RFC8176.has(v)))]
  return { amr, acr: amr.includes('mfa') ? ACR_2FA : ACR_1FA }
}
