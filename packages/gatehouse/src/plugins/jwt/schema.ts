/**
 * Config of the jwt plugin: Kong's jwt schema (3.x), so a Kong file loads unchanged, plus two Gatehouse
 * additions that are off by default (`leeway`, `claims_to_headers`). Kong writes unset optional fields
 * as `null` in exports, so those accept `null` as "unset". Also the fields of its credential,
 * `jwt_secrets` (Kong's daos.lua).
 */
import { z } from 'zod'
import { HOP_BY_HOP } from '../../proxy/hop-headers.ts'
import { IDENTITY_HEADERS } from '../../proxy/identity-headers.ts'

/** The algorithms Kong's jwt plugin accepts; a credential verifies tokens of exactly one of them. */
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
] as const

export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number]

/** Kong's `maximum_expiration` upper bound: one year, in seconds. */
const ONE_YEAR = 31_536_000

/** An HTTP field name (RFC 9110 §5.1 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** A value Node can put in a header: no control characters or line breaks (RFC 9110 §5.5). */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/

const headerName = z.string().regex(HEADER_NAME, { error: 'must be an HTTP header name (RFC 9110 token)' })

/** Headers a claim may not be copied into: the gateway's identity headers and connection-level ones. */
const RESERVED_HEADERS = new Set<string>([...IDENTITY_HEADERS, ...HOP_BY_HOP, 'host', 'content-length'])

const nameSet = (what: string) => z.array(z.string().min(1, { error: `${what} must not be empty` }))

export const jwtSchema = z
  .strictObject({
    uri_param_names: nameSet('a parameter name')
      .default(['jwt'])
      .describe('Query parameters searched for a token. Default: `[jwt]`.'),
    cookie_names: nameSet('a cookie name')
      .default([])
      .describe('Cookies searched for a token (their raw value, no `Bearer`). Default: `[]`.'),
    header_names: z
      .array(headerName)
      .default(['authorization'])
      .describe(
        'Headers searched for a token, as `Bearer <token>` (`bearer` also works); only the first occurrence of each counts. Default: `[authorization]`.',
      ),
    key_claim_name: z
      .string()
      .min(1)
      .default('iss')
      .describe(
        'Claim naming the credential (its `key`); looked up in the claims first, then in the JOSE header, so `kid` works. Default: `iss`.',
      ),
    secret_is_base64: z
      .boolean()
      .default(false)
      .describe(
        "HS* credentials' `secret` is base64 (or base64url) text; the decoded bytes are the HMAC key. Default: false.",
      ),
    claims_to_verify: z
      .array(z.enum(['exp', 'nbf'], { error: 'expected exp or nbf' }))
      .nullish()
      .describe(
        'Registered claims that must be present and hold: `exp` (not expired) and `nbf` (already valid), in seconds since the epoch. Default: unset (neither is checked).',
      ),
    maximum_expiration: z
      .number()
      .min(0, { error: `value should be between 0 and ${ONE_YEAR}` })
      .max(ONE_YEAR, { error: `value should be between 0 and ${ONE_YEAR}` })
      .default(0)
      .describe(
        'Largest allowed `exp` − now, in seconds (0..31536000); longer-lived tokens are refused. Needs `exp` in `claims_to_verify`. Default: 0 (no limit).',
      ),
    anonymous: z
      .string()
      .nullish()
      .describe(
        'Consumer (id or username) to let through when authentication fails, which makes several auth plugins a logical OR. Must exist. Default: unset (failures answer 401).',
      ),
    run_on_preflight: z
      .boolean()
      .default(true)
      .describe('Authenticate OPTIONS requests too; false lets CORS preflights through. Default: true.'),
    realm: z
      .string()
      .regex(HEADER_VALUE, { error: 'must be printable ASCII (it is sent in WWW-Authenticate)' })
      .nullish()
      .describe('Adds `realm="<realm>"` to the WWW-Authenticate header of 401 answers. Default: unset.'),
    leeway: z
      .int()
      .min(0)
      .max(300)
      .default(0)
      .describe(
        'Gatehouse: clock skew tolerated when checking `exp` and `nbf`, in seconds (0..300). Default: 0, as Kong.',
      ),
    claims_to_headers: z
      .record(z.string().min(1, { error: 'a claim name must not be empty' }), headerName)
      .nullish()
      .describe(
        'Gatehouse: claim name → upstream header name. String, number and boolean claims are copied; the header is always set or removed, so a client cannot send its own. Default: unset.',
      ),
  })
  .superRefine((config, ctx) => {
    const verifiesExp = config.claims_to_verify?.includes('exp') ?? false
    if (config.maximum_expiration > 0 && !verifiesExp)
      ctx.addIssue({
        code: 'custom',
        path: ['claims_to_verify'],
        message: 'must contain exp when maximum_expiration is above 0 (the limit is checked against exp)',
      })
    const tokenHeaders = new Set(config.header_names.map((h) => h.toLowerCase()))
    const seen = new Map<string, string>()
    for (const [claim, header] of Object.entries(config.claims_to_headers ?? {})) {
      const name = header.toLowerCase()
      const path = ['claims_to_headers', claim]
      if (RESERVED_HEADERS.has(name))
        ctx.addIssue({
          code: 'custom',
          path,
          message: `'${header}' is set by the gateway and cannot carry a claim`,
        })
      else if (tokenHeaders.has(name))
        ctx.addIssue({ code: 'custom', path, message: `'${header}' carries the token (header_names)` })
      else if (seen.has(name))
        ctx.addIssue({
          code: 'custom',
          path,
          message: `'${header}' already carries claim '${seen.get(name)}'`,
        })
      seen.set(name, claim)
    }
  })
  .describe("Verifies JWTs signed with a consumer's jwt_secrets credential (Kong's jwt), then identifies it.")

export type JwtConfig = z.output<typeof jwtSchema>

/** The fields of one `jwt_secrets` entry. */
export const jwtSecretFields = {
  key: z
    .string()
    .min(1)
    .max(1024)
    .optional()
    .describe(
      "Names the credential: the value of the token's `key_claim_name` claim (`iss` by default, or `kid`). Unique. Default: 32 random letters and digits.",
    ),
  algorithm: z
    .enum(JWT_ALGORITHMS, { error: `expected one of ${JWT_ALGORITHMS.join(', ')}` })
    .optional()
    .describe('The only `alg` the credential verifies. Default: HS256.'),
  secret: z
    .string()
    .min(1)
    .max(4096)
    .nullish()
    .describe(
      'HMAC key for HS256/384/512, at least 32 bytes (RFC 7518 §3.2). Default: 32 random letters and digits.',
    ),
  rsa_public_key: z
    .string()
    .max(16_384)
    .nullish()
    .describe(
      'PEM public key, required for every non-HS algorithm: RSA ≥ 2048 bits for RS*/PS*, the matching EC curve for ES256/384/512 (P-256/P-384/P-521), Ed25519 for EdDSA.',
    ),
}
