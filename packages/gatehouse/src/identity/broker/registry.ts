/**
 * The configured external providers of one identity configuration, each with its relying-party client
 * (client.ts), and what every step of an external sign-in shares: the one redirect URI under the issuer,
 * and how the `_gh_broker` cookie is scoped.
 */
import type { IdentityConfig } from '../../config/normalize-identity.ts'
import { ExternalProviderClient } from './client.ts'

/** The callback path below the issuer's, the same for every provider (register `<issuer>/broker/callback`). */
export const CALLBACK_PATH = '/broker/callback'

export class Brokers {
  readonly redirectUri: string
  readonly cookie: { readonly path: string; readonly secure: boolean }
  readonly #clients: ReadonlyMap<string, ExternalProviderClient>

  constructor(identity: IdentityConfig) {
    const issuer = new URL(identity.issuer!)
    const basePath = issuer.pathname === '/' ? '' : issuer.pathname
    this.redirectUri = `${issuer.origin}${basePath}${CALLBACK_PATH}`
    this.cookie = { path: basePath || '/', secure: issuer.protocol === 'https:' }
    this.#clients = new Map(
      identity.external_providers.map((p) => [p.name, new ExternalProviderClient(p, this.redirectUri)]),
    )
  }

  get(name: string): ExternalProviderClient | undefined {
    return this.#clients.get(name)
  }

  /** In configuration order: the login page's buttons. */
  list(): ExternalProviderClient[] {
    return [...this.#clients.values()]
  }
}
