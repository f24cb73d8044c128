/**
 * The oidc-provider instance for one identity configuration and one set of signing keys (a key
 * rotation builds a new one): configuration from provider-config.ts, plus what cannot be configured:
 *
 * - client secrets are compared as keyed hashes, in constant time (only the hash is stored);
 * - URLs it builds (discovery, redirects) always use the issuer's scheme and host, not the request's:
 *   TLS ends in front of the gateway, and a Host header must not choose what clients are told;
 * - its events are logged (4xx at info with oidc-provider's error code, 5xx at error), never tokens.
 */
import { timingSafeEqual } from 'node:crypto'
import Provider from 'oidc-provider'
import { hashClientSecret } from '../config/normalize-identity.ts'
import type { Logger } from '../observability/logger.ts'
import { type ProviderConfigOptions, providerConfiguration } from './provider-config.ts'
import { clientSecretKey } from './secrets.ts'

export interface BuildProviderOptions extends ProviderConfigOptions {
  /** Believe X-Forwarded-For for `ctx.ip` (only set when proxy.trusted_ips is; mount.ts strips the rest). */
  readonly trustProxy: boolean
}

export function buildProvider(o: BuildProviderOptions): Provider {
  const issuer = new URL(o.identity.issuer!)
  const provider = new Provider(o.identity.issuer!, providerConfiguration(o))
  provider.proxy = o.trustProxy

  const key = clientSecretKey(o.identity.secret!)
  provider.Client.prototype.compareClientSecret = function compareClientSecret(actual: string): boolean {
    const stored = this.clientSecret
    if (typeof stored !== 'string' || typeof actual !== 'string') return false
    const expected = Buffer.from(stored)
    const presented = Buffer.from(hashClientSecret(key, actual))
    return expected.length === presented.length && timingSafeEqual(expected, presented)
  }

  const protocol = issuer.protocol.slice(0, -1)
  const basePath = issuer.pathname === '/' ? '' : issuer.pathname
  provider.use(async (ctx, next) => {
    Object.defineProperty(ctx.request, 'protocol', { value: protocol })
    Object.defineProperty(ctx.request, 'host', { value: issuer.host })
    Object.defineProperty(ctx.request, 'hostname', { value: issuer.hostname })
    // oidc-provider builds its URLs below the mount path (mount.ts strips it from the request).
    ctx['mountPath'] = basePath
    await next()
  })

  logEvents(provider, o.logger)
  return provider
}

const REFUSALS = [
  'authorization.error',
  'grant.error',
  'introspection.error',
  'revocation.error',
  'userinfo.error',
  'end_session.error',
  'pushed_authorization_request.error',
  'discovery.error',
  'jwks.error',
]

function logEvents(provider: Provider, logger: Logger): void {
  // The event map in @types/oidc-provider lacks several of these; they are plain EventEmitter events.
  const events = provider as unknown as NodeJS.EventEmitter
  for (const event of REFUSALS) {
    events.on(event, (ctx: { oidc?: { client?: { clientId: string } } }, err: OidcError) => {
      logger.info(
        {
          event,
          reason: err.error ?? err.name,
          detail: err.error_detail,
          client_id: ctx.oidc?.client?.clientId,
        },
        'identity request refused',
      )
    })
  }
  events.on('grant.revoked', (ctx: { oidc?: { client?: { clientId: string } } }, grantId: string) => {
    logger.info({ grant_id: grantId, client_id: ctx.oidc?.client?.clientId }, 'grant revoked')
  })
  events.on('server_error', (_ctx: unknown, err: Error) => {
    logger.error({ err }, 'identity provider failed')
  })
  // Koa's own fallback (errors outside oidc-provider's handler) would print to stderr.
  events.on('error', (err: Error) => {
    logger.error({ err }, 'identity provider failed')
  })
}

interface OidcError extends Error {
  error?: string
  error_detail?: string
}
