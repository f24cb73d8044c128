/**
 * The keys of an issuer that is this gateway's own identity provider, taken in process (issue 10): no
 * HTTP fetch, no cooldown, no stale period. The identity host publishes each key set before the provider
 * signs with it, so its own rotation never makes a route refuse a good token; a token naming a kid the set
 * lacks (another node rotated first) is checked against the store before it is refused (single flight,
 * bounded rate: identity/keys/provider-keys.ts). A kid that left the set (deleted, withdrawn) is refused
 * without asking.
 */
import { type CompactJWSHeaderParameters, type CryptoKey, errors, type FlattenedJWSInput } from 'jose'
import type { ProviderKeys } from '../../identity/keys/provider-keys.ts'
import { SourceUnavailable } from './fetch-json.ts'
import type { ResolvedKey, TokenKeys } from './key-set.ts'

export class ProviderKeySet implements TokenKeys {
  readonly #keys: ProviderKeys
  readonly #issuer: string

  constructor(keys: ProviderKeys, issuer: string) {
    this.#keys = keys
    this.#issuer = issuer
  }

  get version(): number {
    return this.#keys.version
  }

  async resolve(header: CompactJWSHeaderParameters, token: FlattenedJWSInput): Promise<ResolvedKey> {
    const keys = this.#keys
    // Between a reload that turned the provider off (or changed its issuer) and this route's replacement.
    if (keys.issuer !== this.#issuer)
      throw new SourceUnavailable('the built-in identity provider is not serving')
    let key: CryptoKey
    let version = keys.version
    try {
      key = (await keys.getKey(header, token)) as CryptoKey
    } catch (err) {
      const kid = header.kid
      if (!(err instanceof errors.JWKSNoMatchingKey) || typeof kid !== 'string' || keys.gone(kid)) throw err
      await keys.refresh()
      version = keys.version
      key = (await keys.getKey(header, token)) as CryptoKey
    }
    return { key, usableUntil: Number.POSITIVE_INFINITY, version }
  }
}
