/**
 * The gateway's public keys, as a jose key resolver. Remote: jose's `createRemoteJWKSet` (fetched on first
 * use, kept `cacheMaxAge`, fetched again for an unknown `kid` at most once per `cooldown`, never following
 * `jku`/`x5u`/`jwk` from a token: RFC 8725 §3.10) over our bounded, backed-off fetch. Local: jose's
 * `createLocalJWKSet`. Either way a token must name its key (`kid`): the gateway always sets one, and
 * without it jose would try whichever key fits.
 *
 * Withdrawn keys (issue 10): each fetch replaces the whole set, so a key the gateway no longer lists is
 * dropped at the next fetch; that fetch comes when the JWKS answer's own Cache-Control lifetime is over
 * (the gateway's is 60 s) if sooner than `cacheMaxAge` (never more often than once per `cooldown` for
 * freshness alone), and at once on `reload()`. Should it fail, the keys held stay in use until
 * `cacheMaxAge`, as before. `forget(kid)` refuses a key at once, whatever any JWKS says.
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
  /** Fetches the JWKS now, whatever the cache and cooldown say; rejects with KeysUnavailable. */
  reload(): Promise<void>
  /** Refuses `kid` from now on; then as `reload`. */
  forget(kid: string): Promise<void>
}

/** Most kids `forget` keeps; beyond it the oldest goes (gateway kids never come back anyway). */
const FORGOTTEN_LIMIT = 1000

export function createKeySource(o: ResolvedOptions): KeySource {
  let resolve: JWTVerifyGetKey
  let ready: () => Promise<void>
  let reload: () => Promise<void>
  /** Date.now() after which the JWKS answer's own lifetime is over (Infinity: it gave none). */
  let staleAt = Number.POSITIVE_INFINITY
  const forgotten = new Set<string>()
  if (o.jwksUrl !== null) {
    const floorMs = Math.max(1000, o.cooldownMs)
    const fetched = (lifetimeMs: number | null) => {
      staleAt = lifetimeMs === null ? Number.POSITIVE_INFINITY : Date.now() + Math.max(floorMs, lifetimeMs)
    }
    const remote: RemoteJWKSet = createRemoteJWKSet(o.jwksUrl, {
      cooldownDuration: o.cooldownMs,
      cacheMaxAge: o.cacheMaxAgeMs,
      timeoutDuration: o.timeoutMs,
      [customFetch]: createJwksFetch(o.fetch, fetched),
    })
    resolve = async (header, token) => {
      // Past the answer's own lifetime: fetch again; on failure the keys held serve until cacheMaxAge.
      if (Date.now() >= staleAt) await remote.reload().catch(() => {})
      return remote(header, token)
    }
    ready = async () => {
      if (!remote.fresh) await remote.reload()
    }
    reload = () => remote.reload()
  } else {
    resolve = createLocalJWKSet(o.jwks!)
    ready = () => Promise.resolve()
    reload = () => Promise.resolve()
  }
  return {
    ready,
    reload: () => reload().catch(keysError),
    forget: (kid) => {
      if (forgotten.size >= FORGOTTEN_LIMIT) forgotten.delete(forgotten.values().next().value!)
      forgotten.add(kid)
      return reload().catch(keysError)
    },
    getKey: async (header, token) => {
      if (typeof header.kid !== 'string' || header.kid === '') throw new KidMissing()
      if (forgotten.has(header.kid)) throw new errors.JWKSNoMatchingKey()
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

/** A failed explicit fetch, as `getKey` would report it. */
function keysError(err: unknown): never {
  if (err instanceof KeysUnavailable) throw err
  if (err instanceof errors.JWKSTimeout) throw new KeysUnavailable('the JWKS fetch timed out', 1)
  throw new KeyUnusable({ cause: err })
}
