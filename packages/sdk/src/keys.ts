/**
 * The gateway's public keys, as a jose key resolver. Remote: jose's `createRemoteJWKSet` (fetched on first
 * use, kept `cacheMaxAge`, fetched again for an unknown `kid` at most once per `cooldown`, never following
 * `jku`/`x5u`/`jwk` from a token: RFC 8725 §3.10) over our bounded, backed-off fetch. Local: jose's
 * `createLocalJWKSet`. Either way a token must name its key (`kid`): the gateway always sets one, and
 * without it jose would try whichever key fits.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type JWTVerifyGetKey,
  type RemoteJWKSet,
} from 'jose'
import { createJwksFetch, KeysUnavailable } from './fetch-jwks.ts'
import type { ResolvedOptions } from './options.ts'

/** The token names no key; refused as an unknown key. */
export class KidMissing extends Error {
  constructor() {
    super('the token header has no kid')
    this.name = 'KidMissing'
  }
}

/** The JWKS was fetched but a key in it cannot be used (a private key, a key jose cannot import). */
export class KeyUnusable extends Error {
  constructor(options: { cause: unknown }) {
    super('a key in the JWKS cannot be used', options)
    this.name = 'KeyUnusable'
  }
}

export interface KeySource {
  readonly getKey: JWTVerifyGetKey
  /** Fetches the JWKS unless fresh keys are held; rejects with KeysUnavailable. */
  ready(): Promise<void>
}

export function createKeySource(o: ResolvedOptions): KeySource {
  let resolve: JWTVerifyGetKey
  let ready: () => Promise<void>
  if (o.jwksUrl !== null) {
    const remote: RemoteJWKSet = createRemoteJWKSet(o.jwksUrl, {
      cooldownDuration: o.cooldownMs,
      cacheMaxAge: o.cacheMaxAgeMs,
      timeoutDuration: o.timeoutMs,
      [customFetch]: createJwksFetch(o.fetch),
    })
    resolve = remote
    ready = async () => {
      if (!remote.fresh) await remote.reload()
    }
  } else {
    resolve = createLocalJWKSet(o.jwks!)
    ready = () => Promise.resolve()
  }
  return {
    ready,
    getKey: async (header, token) => {
      if (typeof header.kid !== 'string' || header.kid === '') throw new KidMissing()
      try {
        return await resolve(header, token)
      } catch (err) {
        if (
          err instanceof KeysUnavailable ||
          err instanceof errors.JWKSNoMatchingKey ||
          err instanceof errors.JWKSMultipleMatchingKeys
        )
          throw err
        if (err instanceof errors.JWKSTimeout) throw new KeysUnavailable('the JWKS fetch timed out', 1)
        throw new KeyUnusable({ cause: err })
      }
    },
  }
}
