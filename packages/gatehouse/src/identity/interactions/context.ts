/** What the interaction pages need from the running provider, built once per provider. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type Provider from 'oidc-provider'
import type { IdentityConfig } from '../../config/normalize-identity.ts'
import type { Logger } from '../../observability/logger.ts'
import type { Store } from '../../storage/store.ts'
import type { Brokers } from '../broker/registry.ts'
import type { LoginThrottle } from './throttle.ts'

export interface InteractionContext {
  readonly provider: Provider
  readonly store: Store
  readonly identity: IdentityConfig
  readonly logger: Logger
  readonly csrfKey: Buffer
  readonly throttle: LoginThrottle
  /** The issuer's path ('' or '/oidc'): pages post to `<basePath>/interaction/<uid>/...`. */
  readonly basePath: string
  /** The external providers people may sign in with (identity.external_providers). */
  readonly brokers: Brokers
}

/** One request to an interaction page. */
export interface InteractionRequest {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly uid: string
  /** The client's address (behind trusted proxies, from X-Forwarded-For), for the login throttle. */
  readonly clientIp: string
}
