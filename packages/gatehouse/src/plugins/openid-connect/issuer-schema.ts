/**
 * The config keys that describe one trusted issuer, in two places: at the top of the plugin config (the
 * single-issuer form, and the route-level values an `issuers` entry falls back on, with the built-in
 * defaults) and in each `issuers` entry (no defaults of their own: a key left out takes the route-level
 * value). Validators are shared, so an entry is checked exactly like the single-issuer form.
 */

import { z } from 'zod'
import { trustedUrl } from '../_shared/trusted-url.ts'
import { ATTRIBUTE_NAME, RESERVED_ATTRIBUTES } from './attributes.ts'
import { parseClaimPath } from './claim-path.ts'

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

/** Characters allowed inside a quoted RFC 6750 auth-param (no quote, no backslash), and no space. */
export const PARAM_CHARS = /^[\x21\x23-\x5b\x5d-\x7e]+$/

export const algorithm = z.string().superRefine((alg, ctx) => {
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

const claimPath = z
  .union([z.string(), z.array(z.string())], { error: 'expected a claim path (a string or a list of names)' })
  .superRefine((path, ctx) => {
    const parsed = parseClaimPath(path)
    if ('error' in parsed) ctx.addIssue({ code: 'custom', message: parsed.error })
  })

/** Attribute names, checked on the record (zod reports a bad record key only as "Invalid key in record"). */
function checkAttributeNames(mapping: Record<string, unknown>, ctx: z.core.$RefinementCtx): void {
  for (const name of Object.keys(mapping)) {
    if (!ATTRIBUTE_NAME.test(name) || name === '__proto__')
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: 'expected an attribute name: a letter or _, then letters, digits, _ . : or - (at most 64)',
      })
    else if (RESERVED_ATTRIBUTES.has(name))
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `'${name}' is a claim of internal tokens and cannot name an attribute`,
      })
  }
}

/** Validators without defaults, shared by both places. */
const fields = {
  audience: () => z.string().min(1, { error: 'must not be empty' }),
  algorithms: () => z.array(algorithm).min(1, { error: 'must name at least one algorithm' }),
  tokenTypes: () => z.array(mediaType).min(1, { error: 'must name at least one type' }),
  leeway: () => z.int().min(0).max(60),
  maxTokenAge: () => z.int().min(1).max(31_536_000),
  consumerClaim: () =>
    z.string().regex(PARAM_CHARS, {
      error: 'expected a claim name of printable ASCII without spaces, quotes or backslashes',
    }),
  claimMapping: () => z.record(z.string(), claimPath).superRefine(checkAttributeNames),
  cooldown: () => z.int().min(1).max(3600),
  maxAge: () => z.int().min(1).max(86_400),
  timeout: () => z.int().min(1).max(60),
  staleTtl: () => z.int().min(0).max(604_800),
}

const TEXT = {
  issuer:
    "The issuer whose access tokens this route accepts, e.g. `https://id.shop.example`; a token's `iss` must equal it exactly (no trailing-slash tolerance). Its keys are found through `<issuer>/.well-known/openid-configuration` unless `jwks_uri` is set.",
  jwksUri:
    "The issuer's JWKS URL; setting it skips discovery. Default: unset (read from the discovery document, fetched once on first use).",
  audience:
    "This route's resource indicator (RFC 8707), e.g. `https://api.shop.example`; a token's `aud` must be it or a list containing it.",
  algorithms: `Signature algorithms accepted (${ASYMMETRIC_ALGORITHMS.join(', ')}); none and HS* are refused.`,
  tokenTypes:
    'Accepted `typ` header values, compared as media types (case-insensitive, `application/` optional), so an ID token (`JWT` or no typ) is not taken for an access token (RFC 9068 §4, RFC 8725 §3.11).',
  leeway: 'Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (0..60).',
  maxTokenAge: 'Oldest accepted token, in seconds since its `iat` (1..31536000), whatever its `exp` says.',
  consumerClaim:
    'Claim (a string) naming the caller. A consumer whose `username`, else `custom_id`, equals it becomes the request consumer; otherwise the caller goes upstream without a consumer entity, in `X-Consumer-Username` and `X-Authenticated-Userid`. The claim is required in every token.',
  claimMapping:
    'Attribute name → claim path: the caller\'s attributes (`principal.attributes`, carried into internal tokens and `attributes_to_headers`). A path is a list of member names, or names joined by dots with a name containing dots quoted in brackets: `realm_access.roles`, `resource_access["shop-web"].roles`, `["https://shop.example/country"]`. JSON values up to 4 KiB are kept; null, larger values and missing claims are left out. Names of internal-token claims (iss, sub, aud, exp, nbf, iat, jti, typ, sub_type, client_id, scope, consumer, auth, txn, cnf) are refused.',
  cooldown:
    'Seconds after a fetch before a token with an unknown `kid` (or no `kid` and no key for its algorithm) may cause another (1..3600).',
  maxAge:
    'Seconds fetched keys are used before they are fetched again, and the longest an accepted token is remembered without verifying it again (1..86400).',
  timeout: 'Seconds a discovery or JWKS fetch may take (1..60).',
  staleTtl:
    'Seconds past `max_age` the last fetched keys are still used while the issuer cannot be reached (0..604800; 0: never), with a warning; afterwards tokens are refused until a fetch succeeds.',
  jwksCache:
    "How the issuer's keys are fetched and kept. A failed fetch is retried after 1 s, doubling up to 30 s; meanwhile tokens are verified with the last keys while `stale_ttl` allows, else refused without a new fetch.",
}

/** The issuer keys at the top of the config, with the built-in defaults. */
export const routeIssuerShape = {
  issuer: trustedUrl()
    .refine((u) => !u.includes('?'), { error: 'must not contain a query (OpenID Connect Discovery §4)' })
    .optional()
    .describe(`${TEXT.issuer} Required unless \`issuers\` is set.`),
  jwks_uri: trustedUrl().optional().describe(TEXT.jwksUri),
  audience: fields
    .audience()
    .optional()
    .describe(
      `${TEXT.audience} Required with \`issuer\`; with \`issuers\`, the audience of entries that name none.`,
    ),
  algorithms: fields
    .algorithms()
    .default(['ES256', 'RS256'])
    .describe(`${TEXT.algorithms} Default: \`[ES256, RS256]\`.`),
  token_types: fields
    .tokenTypes()
    .default(['at+jwt', 'application/at+jwt'])
    .describe(`${TEXT.tokenTypes} Default: \`[at+jwt, application/at+jwt]\`.`),
  leeway: fields.leeway().default(5).describe(`${TEXT.leeway} Default: 5.`),
  max_token_age: fields
    .maxTokenAge()
    .optional()
    .describe(`${TEXT.maxTokenAge} Default: unset (only \`exp\` limits it).`),
  consumer_claim: fields.consumerClaim().default('sub').describe(`${TEXT.consumerClaim} Default: \`sub\`.`),
  claim_mapping: fields
    .claimMapping()
    .optional()
    .describe(`${TEXT.claimMapping} Default: unset (no attributes).`),
  jwks_cache: z
    .strictObject({
      cooldown: fields.cooldown().default(30).describe(`${TEXT.cooldown} Default: 30.`),
      max_age: fields.maxAge().default(600).describe(`${TEXT.maxAge} Default: 600.`),
      timeout: fields.timeout().default(5).describe(`${TEXT.timeout} Default: 5.`),
      stale_ttl: fields.staleTtl().default(86_400).describe(`${TEXT.staleTtl} Default: 86400 (one day).`),
    })
    .prefault({})
    .describe(TEXT.jwksCache),
}

const FALLBACK = 'Default: the route-level value.'

/** One entry of `issuers`: the same keys, each falling back on the route-level value. */
export const issuerEntrySchema = z
  .strictObject({
    issuer: trustedUrl()
      .refine((u) => !u.includes('?'), { error: 'must not contain a query (OpenID Connect Discovery §4)' })
      .describe(`${TEXT.issuer} Required; each issuer at most once.`),
    jwks_uri: trustedUrl().optional().describe(TEXT.jwksUri),
    audience: fields
      .audience()
      .optional()
      .describe(`${TEXT.audience} Required here unless the route-level \`audience\` is set.`),
    algorithms: fields.algorithms().optional().describe(`${TEXT.algorithms} ${FALLBACK}`),
    token_types: fields.tokenTypes().optional().describe(`${TEXT.tokenTypes} ${FALLBACK}`),
    leeway: fields.leeway().optional().describe(`${TEXT.leeway} ${FALLBACK}`),
    max_token_age: fields.maxTokenAge().optional().describe(`${TEXT.maxTokenAge} ${FALLBACK}`),
    consumer_claim: fields.consumerClaim().optional().describe(`${TEXT.consumerClaim} ${FALLBACK}`),
    claim_mapping: fields.claimMapping().optional().describe(`${TEXT.claimMapping} ${FALLBACK}`),
    jwks_cache: z
      .strictObject({
        cooldown: fields.cooldown().optional().describe(`${TEXT.cooldown} ${FALLBACK}`),
        max_age: fields.maxAge().optional().describe(`${TEXT.maxAge} ${FALLBACK}`),
        timeout: fields.timeout().optional().describe(`${TEXT.timeout} ${FALLBACK}`),
        stale_ttl: fields.staleTtl().optional().describe(`${TEXT.staleTtl} ${FALLBACK}`),
      })
      .optional()
      .describe(`${TEXT.jwksCache} Each key left out takes the route-level value.`),
  })
  .describe('One trusted issuer; keys left out take the route-level value.')

export type IssuerEntry = z.output<typeof issuerEntrySchema>
