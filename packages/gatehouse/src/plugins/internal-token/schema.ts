/** Config of the internal-token plugin: how a route tells its upstream who called. */
import { z } from 'zod'
import { RESERVED_CLAIMS } from '../../internal-tokens/mint.ts'

const RESERVED: ReadonlySet<string> = new Set(RESERVED_CLAIMS)

const serviceName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, {
    error: 'must be printable ASCII without spaces, e.g. orders or https://orders.internal',
  })

const claimName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_.:/-]*$/, { error: 'must be a claim name such as country or customer_type' })
  .refine((n) => !RESERVED.has(n), {
    error: `is set by the gateway; reserved names: ${RESERVED_CLAIMS.join(', ')}`,
  })

/** `{sub}` is the caller's subject, URL-encoded. */
const userInfoUrl = z
  .url({
    protocol: /^https?$/,
    error: 'must be an http(s) URL containing {sub}, e.g. http://users:3001/users/{sub}',
  })
  .refine((u) => u.includes('%7Bsub%7D') || u.includes('{sub}'), {
    error: 'must contain {sub}, where the caller’s subject goes, e.g. http://users:3001/users/{sub}',
  })

export const internalTokenSchema = z
  .strictObject({
    mode: z
      .enum(['mint', 'forward', 'headers'])
      .default('mint')
      .describe(
        '`mint`: send the upstream a new internal token for this caller (default); `forward`: send the verified public access token as it came (BFF style); `headers`: only the X-Consumer-* / X-Authenticated-* headers (Kong style).',
      ),
    audience: serviceName
      .optional()
      .describe(
        'The service this route sends to: the first `aud` of the internal token. Required for `mint`.',
      ),
    also_audiences: z
      .array(serviceName)
      .max(32)
      .default([])
      .describe(
        'Services the upstream may call on with the same token (further `aud` values). Default: none.',
      ),
    header: z
      .string()
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'must be an HTTP header name' })
      .default('authorization')
      .describe(
        'Header carrying the token upstream: `authorization` sends `Bearer <token>`, any other header the bare token. Default: `authorization`.',
      ),
    keep_public_credential: z
      .boolean()
      .default(false)
      .describe(
        "Also send the caller's own credential (API key, token, password) upstream. Default: false: the upstream never sees it.",
      ),
    claims_from_token: z
      .array(claimName)
      .max(64)
      .default([])
      .describe(
        'Claims copied from the caller’s verified public token into the internal token (e.g. country, roles). Default: none.',
      ),
    request_id_claim: z
      .boolean()
      .default(false)
      .describe(
        'Put the request id in the `txn` claim. Each token is then unique to its request and minted every time (no reuse); the request id always travels in X-Request-ID. Default: false.',
      ),
    ttl: z
      .int()
      .min(5)
      .max(3600)
      .optional()
      .describe('Lifetime of this route’s internal tokens in seconds; default `internal_tokens.ttl` (60).'),
    enrich: z
      .strictObject({
        url: userInfoUrl.describe(
          'User-info service URL; `{sub}` is replaced by the caller’s subject (URL-encoded). Answers 200 with a JSON object, or 404 for an unknown subject (no profile).',
        ),
        claims: z
          .array(claimName)
          .min(1)
          .max(64)
          .describe(
            'Members of the answer copied into the internal token (e.g. country, customer_type, roles).',
          ),
        ttl: z
          .int()
          .min(0)
          .max(86_400)
          .default(60)
          .describe('Seconds an answer is reused for the same subject; 0 asks every time. Default: 60.'),
        cache_size: z
          .int()
          .min(0)
          .max(1_000_000)
          .default(10_000)
          .describe('Subjects whose answer is kept. Default: 10000.'),
        timeout: z
          .number()
          .min(0.05)
          .max(60)
          .default(2)
          .describe('Seconds to wait for an answer. Default: 2.'),
        on_failure: z
          .enum(['deny', 'continue'])
          .default('deny')
          .describe(
            '`deny`: answer 503 when the service cannot be asked (fail closed, default); `continue`: mint the token without the enriched claims.',
          ),
      })
      .optional()
      .describe('Adds profile claims from a user-info service, asked once per subject and cached.'),
  })
  .superRefine((c, ctx) => {
    if (c.mode === 'mint' && c.audience === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['audience'],
        message: 'is required with mode mint: name the service this route sends to, e.g. orders',
      })
    if (c.mode !== 'mint')
      for (const key of ['enrich', 'ttl'] as const)
        if (c[key] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `applies only to mode mint (mode is ${c.mode})`,
          })
  })
  .describe(
    'Tells the upstream who called: a short-lived internal JWT minted for it (default), the verified token, or headers.',
  )

export type InternalTokenConfig = z.output<typeof internalTokenSchema>
