/**
 * The issuers one route trusts, as plain settings: the single-issuer form is a list of one, and an entry
 * of `issuers` takes the route-level value of each key it leaves out (issuer-schema.ts). Used by the
 * schema's cross-field rules and by plugin.ts, so both see the same values.
 */
import type { IssuerEntry } from './issuer-schema.ts'
import type { OpenIdConnectConfig } from './schema.ts'

export interface IssuerSettings {
  readonly issuer: string
  readonly jwksUri: string | null
  readonly audience: string
  readonly algorithms: readonly string[]
  readonly tokenTypes: readonly string[]
  /** Seconds. */
  readonly leeway: number
  /** Seconds, or undefined for no limit beyond `exp`. */
  readonly maxTokenAge: number | undefined
  readonly consumerClaim: string
  readonly claimMapping: Readonly<Record<string, string | readonly string[]>>
  /** Seconds, as configured. */
  readonly jwksCache: {
    readonly cooldown: number
    readonly maxAge: number
    readonly timeout: number
    readonly staleTtl: number
  }
}

type RouteLevel = Pick<
  OpenIdConnectConfig,
  | 'issuer'
  | 'issuers'
  | 'jwks_uri'
  | 'audience'
  | 'algorithms'
  | 'token_types'
  | 'leeway'
  | 'max_token_age'
  | 'consumer_claim'
  | 'claim_mapping'
  | 'jwks_cache'
>

/** Every trusted issuer with its resolved settings; an incomplete config (see the schema) yields fewer. */
export function resolveIssuers(config: RouteLevel): IssuerSettings[] {
  const entries: IssuerEntry[] =
    config.issuers ??
    (config.issuer !== undefined ? [{ issuer: config.issuer, jwks_uri: config.jwks_uri }] : [])
  return entries.map((entry) => {
    const cache = entry.jwks_cache ?? {}
    return {
      issuer: entry.issuer,
      jwksUri: entry.jwks_uri ?? null,
      audience: entry.audience ?? config.audience ?? '',
      algorithms: entry.algorithms ?? config.algorithms,
      tokenTypes: entry.token_types ?? config.token_types,
      leeway: entry.leeway ?? config.leeway,
      maxTokenAge: entry.max_token_age ?? config.max_token_age,
      consumerClaim: entry.consumer_claim ?? config.consumer_claim,
      claimMapping: entry.claim_mapping ?? config.claim_mapping ?? {},
      jwksCache: {
        cooldown: cache.cooldown ?? config.jwks_cache.cooldown,
        maxAge: cache.max_age ?? config.jwks_cache.max_age,
        timeout: cache.timeout ?? config.jwks_cache.timeout,
        staleTtl: cache.stale_ttl ?? config.jwks_cache.stale_ttl,
      },
    }
  })
}
