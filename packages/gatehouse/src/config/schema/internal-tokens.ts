/**
 * `internal_tokens`: how the gateway signs the internal tokens it mints for upstream services (the
 * `internal-token` plugin decides per route whether and for whom). One issuer, one algorithm, a key that
 * rotates on a schedule with the next key published ahead, a bounded cache of minted tokens.
 */
import { z } from 'zod'

export const INTERNAL_TOKEN_ALGORITHMS = ['ES256', 'EdDSA'] as const

export const internalTokensSettings = z
  .strictObject({
    issuer: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. https://gatehouse.internal' })
      .refine((v) => !v.includes('#') && !v.includes('?'), { error: 'must have no query or fragment' })
      .default('https://gatehouse.internal')
      .describe(
        'The `iss` of internal tokens, which services pin in their verifier (it need not resolve). Default: `https://gatehouse.internal`.',
      ),
    algorithm: z
      .enum(INTERNAL_TOKEN_ALGORITHMS)
      .default('ES256')
      .describe('Signing algorithm: `ES256` (P-256, widest support) or `EdDSA` (Ed25519). Default: `ES256`.'),
    ttl: z
      .int()
      .min(5)
      .max(3600)
      .default(60)
      .describe('Lifetime of an internal token in seconds (5..3600). Default: 60.'),
    reuse_until_remaining: z
      .number()
      .min(0)
      .max(0.9)
      .default(0.5)
      .describe(
        'A minted token is reused for the same caller, audience and claims until only this fraction of its lifetime remains (0..0.9; 0 reuses it to the end). Default: 0.5.',
      ),
    cache_size: z
      .int()
      .min(0)
      .max(1_000_000)
      .default(10_000)
      .describe('Minted tokens kept per route for reuse; 0 mints for every request. Default: 10000.'),
    jwks_path: z
      .string()
      .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/, {
        error: 'must be an absolute path, e.g. /.well-known/gatehouse/jwks.json',
      })
      .default('/.well-known/gatehouse/jwks.json')
      .describe(
        "Path of the gateway's JWKS on the proxy listener (also served by the admin API at /internal-tokens/jwks.json). Default: `/.well-known/gatehouse/jwks.json`.",
      ),
    keys: z
      .strictObject({
        rotation_interval: z
          .int()
          .min(10)
          .max(31_536_000)
          .default(86_400)
          .describe('Seconds a signing key signs before the next one takes over. Default: 86400 (a day).'),
        publish_ahead: z
          .int()
          .min(1)
          .default(3_600)
          .describe(
            "Seconds the next key is in the JWKS before it signs, so services' cached key sets have it (longer than their JWKS cache age; the SDK's is 600). Default: 3600.",
          ),
      })
      .prefault({})
      .describe(
        "Rotation of the gateway's signing key. Retired keys stay published until every token they signed expired.",
      ),
  })
  .superRefine((v, ctx) => {
    if (v.keys.publish_ahead >= v.keys.rotation_interval)
      ctx.addIssue({
        code: 'custom',
        path: ['keys', 'publish_ahead'],
        message: `must be shorter than keys.rotation_interval (${v.keys.rotation_interval})`,
      })
  })
  .prefault({})
  .describe(
    'Internal tokens: the short-lived JWTs the gateway mints for upstream services, and its signing keys.',
  )

export type InternalTokensSettings = Readonly<z.output<typeof internalTokensSettings>>
