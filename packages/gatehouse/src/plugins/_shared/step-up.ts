/**
 * Step-up (issue 14, RFC 9470): what a route may require of how the caller authenticated — `acr` (one of
 * these), `amr` (every one of these), `max_age` (authenticated no longer ago than this) — the check, and
 * the parameters of the challenge or of the sign-in that raises it. Shared by the `session` plugin (a
 * browser's session, from its ID token) and `openid-connect` (an access token's claims).
 */
import { z } from 'zod'

/** The built-in provider's two-factor level (the acr it advertises for password + a second factor). */
export const ACR_2FA = 'urn:gatehouse:acr:2fa'

/** An acr or amr value: printable ASCII without spaces, quotes or backslashes (it goes in a quoted string). */
const TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/
const value = (what: string) =>
  z.string().regex(TOKEN, { error: `must be an ${what} value: printable ASCII, no spaces or quotes` })

export const requireSchema = z
  .strictObject({
    acr: z
      .array(value('acr'))
      .min(1)
      .max(16)
      .optional()
      .describe(
        "Authentication context classes accepted: the caller's `acr` must be one of these, e.g. `[urn:gatehouse:acr:2fa]`. Default: unset (any acr).",
      ),
    amr: z
      .array(value('amr'))
      .min(1)
      .max(16)
      .optional()
      .describe(
        'Authentication methods (RFC 8176) the caller must all have used: every value must be in its `amr`, e.g. `[mfa]` for two factors, `[hwk]` for a hardware key. Default: unset (any methods).',
      ),
    max_age: z
      .int()
      .min(0)
      .max(31_536_000)
      .optional()
      .describe(
        'Seconds since the caller last authenticated (`auth_time`) at most; a session or token without `auth_time` fails it. The session plugin asks the provider for `max_age`, which obliges it to sign the person in again when the sign-in is older. Default: unset (any age).',
      ),
    acr_values: z
      .array(value('acr'))
      .min(1)
      .max(16)
      .optional()
      .describe(
        `What to ask the provider for (\`acr_values\` of the step-up sign-in, and of the RFC 9470 challenge), in order of preference. Default: \`acr\` when set; else \`[${ACR_2FA}]\` (the built-in provider's two-factor level) when \`amr\` names \`mfa\`; else none.`,
      ),
  })
  .refine((r) => r.acr !== undefined || r.amr !== undefined || r.max_age !== undefined, {
    error: 'must set at least one of acr, amr, max_age',
  })
  .optional()
  .describe(
    'Step-up (RFC 9470): how the caller must have authenticated to use the route. `acr`: its acr is one of these; `amr`: every listed method is in its amr; `max_age`: its auth_time is no older than this. Default: unset (any authentication).',
  )

export type Requirement = NonNullable<z.output<typeof requireSchema>>

/** How the caller authenticated, as far as known (from an ID token or an access token). */
export interface AuthContext {
  readonly acr: string | null
  readonly amr: readonly string[] | null
  /** Epoch seconds. */
  readonly authTime: number | null
}

/** Why a caller does not meet a requirement: `max_age` means a fresh sign-in (prompt=login) is needed. */
export type Unmet = 'acr' | 'amr' | 'max_age'

/** The authentication context of a set of claims (an ID token's, an access token's); bad shapes are unknown. */
export function authContextOf(claims: Readonly<Record<string, unknown>> | null): AuthContext {
  const acr = claims?.acr
  const amr = claims?.amr
  const authTime = claims?.auth_time
  return {
    acr: typeof acr === 'string' && TOKEN.test(acr) ? acr : null,
    amr:
      Array.isArray(amr) && amr.length <= 32 && amr.every((v) => typeof v === 'string' && TOKEN.test(v))
        ? Object.freeze([...amr])
        : null,
    authTime: Number.isSafeInteger(authTime) && (authTime as number) >= 0 ? (authTime as number) : null,
  }
}

/**
 * The first requirement the context fails, or null when it meets them all. `now` in epoch seconds. A
 * missing factor is named before an old sign-in: it is what the person has to do something about.
 */
export function unmet(r: Requirement, ctx: AuthContext, now: number): Unmet | null {
  if (r.acr !== undefined && (ctx.acr === null || !r.acr.includes(ctx.acr))) return 'acr'
  if (r.amr !== undefined && (ctx.amr === null || !r.amr.every((m) => ctx.amr!.includes(m)))) return 'amr'
  if (r.max_age !== undefined && (ctx.authTime === null || now - ctx.authTime > r.max_age)) return 'max_age'
  return null
}

/** What to ask the provider for (see `acr_values` above); empty when nothing. */
export function acrValuesFor(r: Requirement): readonly string[] {
  if (r.acr_values !== undefined) return r.acr_values
  if (r.acr !== undefined) return r.acr
  if (r.amr?.includes('mfa')) return [ACR_2FA]
  return []
}

/** The client-facing words for each kind of shortfall (RFC 9470 §3's examples); no quotes or backslashes. */
export const UNMET_DESCRIPTIONS: Readonly<Record<Unmet, string>> = Object.freeze({
  acr: 'A stronger authentication is required',
  amr: 'A stronger authentication is required',
  max_age: 'A more recent authentication is required',
})

/**
 * The RFC 9470 §3 challenge parameters after the scheme and realm:
 * `error="insufficient_user_authentication", error_description="…", acr_values="…", max_age=…`.
 */
export function challengeParams(r: Requirement, why: Unmet): string {
  let params = `error="insufficient_user_authentication", error_description="${UNMET_DESCRIPTIONS[why]}"`
  const acr = acrValuesFor(r)
  if (acr.length > 0) params += `, acr_values="${acr.join(' ')}"`
  if (r.max_age !== undefined) params += `, max_age=${r.max_age}`
  return params
}
