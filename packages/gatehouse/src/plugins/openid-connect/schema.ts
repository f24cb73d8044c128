/**
 * Config of the openid-connect plugin: which issuers' access tokens a route accepts, what they must
 * prove, and how the route answers. Checked once at load; cross-field rules are in the `superRefine` at
 * the end. The keys describing an issuer are in issuer-schema.ts: at the top for one issuer (`issuer`),
 * or per entry of `issuers` for several, the top-level values then being what entries fall back on.
 */
import { z } from 'zod'
import { HOP_BY_HOP } from '../../proxy/hop-headers.ts'
import { IDENTITY_HEADERS } from '../../proxy/identity-headers.ts'
import { requireSchema } from '../_shared/step-up.ts'
import {
  ASYMMETRIC_ALGORITHMS,
  algorithm,
  issuerEntrySchema,
  PARAM_CHARS,
  routeIssuerShape,
} from './issuer-schema.ts'
import { resolveIssuers } from './trusted-issuers.ts'

export { ASYMMETRIC_ALGORITHMS } from './issuer-schema.ts'

/** Most issuers one route may trust. */
export const MAX_ISSUERS = 16

/** DPoP proof algorithms accepted unless configured (RFC 9449 §5: asymmetric only). */
export const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'RS256', 'PS256'] as const

/** An HTTP field name (RFC 9110 §5.1 token). */
const headerName = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'must be an HTTP header name (RFC 9110 token)' })

/** Headers a claim may not be copied into: the gateway's identity headers and connection-level ones. */
const RESERVED_HEADERS = new Set<string>([
  ...IDENTITY_HEADERS,
  ...HOP_BY_HOP,
  'host',
  'content-length',
  'dpop',
])

export const openIdConnectSchema = z
  .strictObject({
    ...routeIssuerShape,
    issuers: z
      .array(issuerEntrySchema)
      .min(1, { error: 'must name at least one issuer' })
      .max(MAX_ISSUERS, { error: `must name at most ${MAX_ISSUERS} issuers` })
      .optional()
      .describe(
        "Several trusted issuers, instead of `issuer`: a token's unverified `iss` picks the entry, whose own keys, audience, algorithms and claim mapping then verify it (nothing is shared between issuers, RFC 8725 §3.8); a token from any other issuer is refused. Default: unset.",
      ),
    required_scopes: z
      .array(z.string().regex(PARAM_CHARS, { error: 'expected a scope token (RFC 6749 §3.3)' }))
      .default([])
      .describe(
        'Scopes the token must all carry in its space-separated `scope` claim; otherwise 403 insufficient_scope. Default: `[]`.',
      ),
    require: requireSchema.describe(
      "Step-up (RFC 9470): how the caller must have authenticated, checked against the access token's `acr`, `amr` and `auth_time` claims (RFC 9068 §2.2.1): `acr` one of these, every `amr` value present, `auth_time` no older than `max_age` (a token without `auth_time` fails it). Otherwise 401 `insufficient_user_authentication` (`GH_ERR_AUTH_STEP_UP_REQUIRED`) with `acr_values` and `max_age` in the `WWW-Authenticate` challenge, so the client gets a new token with those in its authorization request; with `anonymous`, the request goes on as that consumer instead, as for any refusal. Default: unset.",
    ),
    anonymous: z
      .string()
      .min(1, { error: 'must not be empty' })
      .optional()
      .describe(
        'Consumer (id, username or custom_id) to let through instead of any refusal (no token, a bad token or DPoP proof, missing scopes, unreachable issuer), which makes several auth plugins a logical OR. Must exist. Default: unset (refusals are answered).',
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
    claims_to_headers: z
      .record(z.string().min(1, { error: 'a claim name must not be empty' }), headerName)
      .optional()
      .describe(
        'Claim name → upstream header name. String, number and boolean claims are copied; the header is always set or removed, so a client cannot send its own. Default: unset.',
      ),
    attributes_to_headers: z
      .record(z.string().min(1, { error: 'an attribute name must not be empty' }), headerName)
      .optional()
      .describe(
        'Attribute name (of `claim_mapping`) → upstream header name. Strings, numbers and booleans are sent as text, lists and objects as JSON; values that are not printable ASCII are left out. The header is always set or removed. Default: unset.',
      ),
    realm: z
      .string()
      .regex(/^[\x20-\x7e]*$/, { error: 'must be printable ASCII (it is sent in WWW-Authenticate)' })
      .default('gatehouse')
      .describe('`realm` of the `WWW-Authenticate: Bearer` challenges. Default: `gatehouse`.'),
    verbose_errors: z
      .boolean()
      .default(false)
      .describe(
        'Tell clients which check a token or DPoP proof failed (the precise `error_description`, and the stable `reason` in the body). Off, every such failure is described as `The access token is invalid` or `The DPoP proof is invalid`; a missing token, a missing scope, unreachable keys and a required DPoP binding keep their own words. The access log has the reason either way. Default: false.',
      ),
    dpop: z
      .strictObject({
        required: z
          .boolean()
          .default(false)
          .describe(
            'Accept only DPoP-bound access tokens (`cnf.jkt`), presented with the DPoP scheme and a proof; bearer tokens are refused. Default: false (both are accepted; a DPoP-bound token always needs its proof).',
          ),
        algorithms: z
          .array(algorithm)
          .min(1, { error: 'must name at least one algorithm' })
          .default([...DEFAULT_DPOP_ALGORITHMS])
          .describe(
            `Signature algorithms accepted for DPoP proofs (${ASYMMETRIC_ALGORITHMS.join(', ')}), announced in the \`DPoP algs\` challenge. Default: \`[${DEFAULT_DPOP_ALGORITHMS.join(', ')}]\`.`,
          ),
        max_age: z
          .int()
          .min(1)
          .max(600)
          .default(60)
          .describe(
            'Oldest accepted proof, in seconds since its `iat` (1..600); also how long its `jti` is remembered against replay. Default: 60.',
          ),
        leeway: z
          .int()
          .min(0)
          .max(60)
          .default(5)
          .describe("Clock skew tolerated on a proof's `iat`, in seconds (0..60). Default: 5."),
        replay: z
          .enum(['memory', 'redis'])
          .default('memory')
          .describe(
            "Where used proofs' `jti` are remembered against replay: `memory` (this process: a proof replayed to another node is not caught) or `redis` (the top-level `redis` section, shared by every node). Default: `memory`.",
          ),
        replay_fault_tolerant: z
          .boolean()
          .default(false)
          .describe(
            'With `replay: redis`, when Redis cannot be reached: accept proofs unchecked for replay (logged, throttled); false refuses them with 401 `dpop_replay_unavailable`. Default: false.',
          ),
      })
      .prefault({})
      .describe(
        'DPoP (RFC 9449) at this resource: `Authorization: DPoP <token>` with a `DPoP` proof header, checked on every request (signature by the key in `cnf.jkt`, htm, htu, iat, jti against replay, ath); the proof is never sent upstream.',
      ),
  })
  .superRefine((config, ctx) => {
    checkIssuerForm(config, ctx)
    checkHeaders(config, ctx)
  })
  .describe(
    "Accepts OAuth 2.0 access tokens (RFC 6750 bearer or RFC 9449 DPoP-bound, JWT per RFC 9068) from one or several issuers, verified locally against each issuer's JWKS.",
  )

export type OpenIdConnectConfig = z.output<typeof openIdConnectSchema>

type Ctx = z.core.$RefinementCtx<OpenIdConnectConfig>

function checkIssuerForm(config: OpenIdConnectConfig, ctx: Ctx): void {
  if (config.issuers === undefined) {
    if (config.issuer === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['issuer'],
        message: 'is required (or issuers, a list of issuers)',
      })
    if (config.audience === undefined)
      ctx.addIssue({ code: 'custom', path: ['audience'], message: 'is required' })
  } else {
    if (config.issuer !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['issuers'],
        message: 'must not be set together with issuer: list every trusted issuer under issuers',
      })
    if (config.jwks_uri !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['jwks_uri'],
        message: 'belongs to one issuer: set it on its entry of issuers',
      })
    const seen = new Map<string, number>()
    config.issuers.forEach((entry, i) => {
      const first = seen.get(entry.issuer)
      if (first !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['issuers', i, 'issuer'],
          message: `'${entry.issuer}' is already listed at issuers[${first}]`,
        })
      else seen.set(entry.issuer, i)
      if (entry.audience === undefined && config.audience === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['issuers', i, 'audience'],
          message: 'is required (here, or as the route-level audience)',
        })
    })
  }
  // Issuer-level cross-field rules, on the values each issuer ends up with.
  const resolved = resolveIssuers(config)
  resolved.forEach((issuer, i) => {
    if (issuer.jwksCache.cooldown > issuer.jwksCache.maxAge) {
      const own = config.issuers?.[i]?.jwks_cache?.cooldown !== undefined
      ctx.addIssue({
        code: 'custom',
        path: config.issuers && own ? ['issuers', i, 'jwks_cache', 'cooldown'] : ['jwks_cache', 'cooldown'],
        message: 'must not exceed jwks_cache.max_age (keys are fetched again at max_age anyway)',
      })
    }
  })
}

function checkHeaders(config: OpenIdConnectConfig, ctx: Ctx): void {
  const seen = new Map<string, string>()
  const mapped = new Set<string>()
  for (const issuer of resolveIssuers(config))
    for (const name of Object.keys(issuer.claimMapping)) mapped.add(name)
  const maps = [
    ['claims_to_headers', 'claim', config.claims_to_headers],
    ['attributes_to_headers', 'attribute', config.attributes_to_headers],
  ] as const
  for (const [key, what, map] of maps) {
    for (const [name, header] of Object.entries(map ?? {})) {
      const lower = header.toLowerCase()
      const path = [key, name]
      if (what === 'attribute' && !mapped.has(name))
        ctx.addIssue({ code: 'custom', path, message: `'${name}' is not an attribute of any claim_mapping` })
      if (lower === 'authorization')
        ctx.addIssue({ code: 'custom', path, message: `'${header}' carries the token` })
      else if (RESERVED_HEADERS.has(lower))
        ctx.addIssue({
          code: 'custom',
          path,
          message: `'${header}' is set by the gateway and cannot carry ${what === 'claim' ? 'a claim' : 'an attribute'}`,
        })
      else if (seen.has(lower))
        ctx.addIssue({ code: 'custom', path, message: `'${header}' already carries ${seen.get(lower)}` })
      seen.set(lower, `${what} '${name}'`)
    }
  }
}
