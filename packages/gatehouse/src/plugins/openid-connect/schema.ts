/**
 * Config of the openid-connect plugin: which issuer's access tokens a route accepts and what they must
 * prove. Checked once at load; cross-field rules are in the `superRefine` at the end. The keys that
 * describe the issuer (issuer, jwks_uri, audience, algorithms, token_types, consumer_claim) are the ones a
 * list of issuers will repeat per entry.
 */
import { z } from 'zod'
import { IDENTITY_HEADERS } from '../../pipeline/authenticate.ts'
import { HOP_BY_HOP } from '../../proxy/hop-headers.ts'

/** Signature algorithms a JWKS can serve: public-key ones only (jose never takes an HMAC key from a JWKS). */
export const ASYMMETRIC_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
  'Ed25519',
] as const

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** An http(s) URL; plain http only on loopback, since keys fetched over it could be swapped in transit. */
export const trustedUrl = () =>
  z
    .url({
      protocol: /^https?$/,
      // A missing key keeps zod's message, which the loader words as "is required".
      error: (issue) => (issue.input === undefined ? undefined : 'expected an http(s) URL'),
    })
    .refine((u) => !u.includes('#'), { error: 'must not contain a fragment' })
    .refine((u) => !URL.canParse(u) || new URL(u).protocol !== 'http:' || isTrustedOrigin(new URL(u)), {
      error: 'must use https (plain http is allowed only for localhost, 127.0.0.1 and [::1])',
    })

/** https, or http on a loopback host: where keys and metadata may come from. */
export function isTrustedOrigin(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))
}

/** An HTTP field name (RFC 9110 §5.1 token). */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'must be an HTTP header name (RFC 9110 token)' })

/** Characters allowed inside a quoted RFC 6750 auth-param (no quote, no backslash), and no space. */
const PARAM_CHARS = /^[\x21\x23-\x5b\x5d-\x7e]+$/

/** Headers a claim may not be copied into: the gateway's identity headers and connection-level ones. */
const RESERVED_HEADERS = new Set<string>([...IDENTITY_HEADERS, ...HOP_BY_HOP, 'host', 'content-length'])

const algorithm = z.string().superRefine((alg, ctx) => {
  if (alg.toLowerCase() === 'none')
    ctx.addIssue({
      code: 'custom',
      message: 'none is refused: an unsigned token proves nothing (RFC 8725 §3.2)',
    })
  else if (/^HS\d+$/i.test(alg))
    ctx.addIssue({
      code: 'custom',
      message: `${alg} is refused: an HMAC key is shared, so anyone who can verify could also mint tokens, and a JWKS publishes public keys only`,
    })
  else if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg))
    ctx.addIssue({ code: 'custom', message: `expected one of ${ASYMMETRIC_ALGORITHMS.join(', ')}` })
})

const mediaType = z.string().regex(/^[A-Za-z0-9!#$&^_.+-]+(\/[A-Za-z0-9!#$&^_.+-]+)?$/, {
  error: 'expected a media type such as at+jwt',
})

export const openIdConnectSchema = z
  .strictObject({
    issuer: trustedUrl()
      .refine((u) => !u.includes('?'), { error: 'must not contain a query (OpenID Connect Discovery §4)' })
      .describe(
        "The issuer whose access tokens this route accepts, e.g. `https://id.shop.example`; a token's `iss` must equal it exactly (no trailing-slash tolerance). Its keys are found through `<issuer>/.well-known/openid-configuration` unless `jwks_uri` is set. Required.",
      ),
    jwks_uri: trustedUrl()
      .optional()
      .describe(
        "The issuer's JWKS URL; setting it skips discovery. Default: unset (read from the discovery document, fetched once on first use).",
      ),
    audience: z
      .string()
      .min(1, { error: 'must not be empty' })
      .describe(
        "This route's resource indicator (RFC 8707), e.g. `https://api.shop.example`; a token's `aud` must be it or a list containing it. Required.",
      ),
    algorithms: z
      .array(algorithm)
      .min(1, { error: 'must name at least one algorithm' })
      .default(['ES256', 'RS256'])
      .describe(
        `Signature algorithms accepted (${ASYMMETRIC_ALGORITHMS.join(', ')}); none and HS* are refused. Default: \`[ES256, RS256]\`.`,
      ),
    token_types: z
      .array(mediaType)
      .min(1, { error: 'must name at least one type' })
      .default(['at+jwt', 'application/at+jwt'])
      .describe(
        'Accepted `typ` header values, compared as media types (case-insensitive, `application/` optional), so an ID token (`JWT` or no typ) is not taken for an access token (RFC 9068 §4, RFC 8725 §3.11). Default: `[at+jwt, application/at+jwt]`.',
      ),
    required_scopes: z
      .array(z.string().regex(PARAM_CHARS, { error: 'expected a scope token (RFC 6749 §3.3)' }))
      .default([])
      .describe(
        'Scopes the token must all carry in its space-separated `scope` claim; otherwise 403 insufficient_scope. Default: `[]`.',
      ),
    leeway: z
      .int()
      .min(0)
      .max(60)
      .default(5)
      .describe('Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (0..60). Default: 5.'),
    max_token_age: z
      .int()
      .min(1)
      .max(31_536_000)
      .optional()
      .describe(
        'Oldest accepted token, in seconds since its `iat` (1..31536000), whatever its `exp` says. Default: unset (only `exp` limits it).',
      ),
    anonymous: z
      .string()
      .min(1, { error: 'must not be empty' })
      .optional()
      .describe(
        'Consumer (id, username or custom_id) to let through instead of any refusal (no token, a bad token, missing scopes, unreachable issuer), which makes several auth plugins a logical OR. Must exist. Default: unset (refusals are answered).',
      ),
    run_on_preflight: z
      .boolean()
      .default(true)
      .describe('Authenticate OPTIONS requests too; false lets CORS preflights through. Default: true.'),
    hide_credentials: z
      .boolean()
      .default(false)
      .describe(
        'Remove the `Authorization` header from what goes upstream once the token is accepted. Default: false.',
      ),
    consumer_claim: z
      .string()
      .regex(PARAM_CHARS, {
        error: 'expected a claim name of printable ASCII without spaces, quotes or backslashes',
      })
      .default('sub')
      .describe(
        'Claim (a string) naming the caller. A consumer whose `username`, else `custom_id`, equals it becomes the request consumer; otherwise the caller goes upstream without a consumer entity, in `X-Consumer-Username` and `X-Authenticated-Userid`. The claim is required in every token. Default: `sub`.',
      ),
    claims_to_headers: z
      .record(z.string().min(1, { error: 'a claim name must not be empty' }), headerName)
      .optional()
      .describe(
        'Claim name → upstream header name. String, number and boolean claims are copied; the header is always set or removed, so a client cannot send its own. Default: unset.',
      ),
    realm: z
      .string()
      .regex(/^[\x20-\x7e]*$/, { error: 'must be printable ASCII (it is sent in WWW-Authenticate)' })
      .default('gatehouse')
      .describe('`realm` of the `WWW-Authenticate: Bearer` challenges. Default: `gatehouse`.'),
    jwks_cache: z
      .strictObject({
        cooldown: z
          .int()
          .min(1)
          .max(3600)
          .default(30)
          .describe(
            'Seconds after a fetch before a token with an unknown `kid` may cause another (1..3600). Default: 30.',
          ),
        max_age: z
          .int()
          .min(1)
          .max(86_400)
          .default(600)
          .describe(
            'Seconds fetched keys are used before they are fetched again, and the longest an accepted token is remembered without verifying it again (1..86400). Default: 600.',
          ),
        timeout: z
          .int()
          .min(1)
          .max(60)
          .default(5)
          .describe('Seconds a discovery or JWKS fetch may take (1..60). Default: 5.'),
      })
      .prefault({})
      .describe(
        "How the issuer's keys are fetched and kept. A failed fetch is retried after 1 s, doubling up to 30 s; meanwhile tokens are refused without a new fetch.",
      ),
  })
  .superRefine((config, ctx) => {
    if (config.jwks_cache.cooldown > config.jwks_cache.max_age)
      ctx.addIssue({
        code: 'custom',
        path: ['jwks_cache', 'cooldown'],
        message: 'must not exceed jwks_cache.max_age (keys are fetched again at max_age anyway)',
      })
    const seen = new Map<string, string>()
    for (const [claim, header] of Object.entries(config.claims_to_headers ?? {})) {
      const name = header.toLowerCase()
      const path = ['claims_to_headers', claim]
      if (name === 'authorization')
        ctx.addIssue({ code: 'custom', path, message: `'${header}' carries the token` })
      else if (RESERVED_HEADERS.has(name))
        ctx.addIssue({
          code: 'custom',
          path,
          message: `'${header}' is set by the gateway and cannot carry a claim`,
        })
      else if (seen.has(name))
        ctx.addIssue({
          code: 'custom',
          path,
          message: `'${header}' already carries claim '${seen.get(name)}'`,
        })
      seen.set(name, claim)
    }
  })
  .describe(
    "Accepts OAuth 2.0 bearer access tokens (RFC 6750, JWT per RFC 9068) from one issuer, verified locally against the issuer's JWKS.",
  )

export type OpenIdConnectConfig = z.output<typeof openIdConnectSchema>
