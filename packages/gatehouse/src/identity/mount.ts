/**
 * The identity provider on the proxy listener (pipeline.ts's MountedIdentity), as if mounted with
 * `app.use(issuerPath, provider.callback())`: a request is the provider's when its path is the issuer's
 * path or below it (any host), or, for an issuer without a path, when it is for the issuer's host.
 * The issuer path is stripped before oidc-provider sees the request; `/interaction/...` goes to our
 * pages, everything else to oidc-provider.
 *
 * X-Forwarded-For from a peer that is not a trusted proxy is dropped, and from a trusted one replaced
 * by the address the gateway computed (the same rule as for upstreams, proxy/forwarded.ts), so
 * neither the login throttle nor oidc-provider can be told a false client address.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { BlockList } from 'node:net'
import type Provider from 'oidc-provider'
import type { RouteMetrics } from '../observability/metrics.ts'
import type { MountedIdentity } from '../pipeline/pipeline.ts'
import { clientAddress, isTrusted } from '../proxy/forwarded.ts'
import { withRequestOrigin } from './account-page/session-origin.ts'
import { PASSKEY_SCRIPT_PATH } from './assets/passkey-script.ts'
import { handleBrokerCallback } from './broker/callback.ts'
import { CALLBACK_PATH } from './broker/registry.ts'
import type { InteractionContext } from './interactions/context.ts'
import { handleInteraction } from './interactions/handler.ts'
import { handleSelfService, isSelfServicePath, type SelfServiceContext } from './self-service.ts'
import { errorPage } from './views/messages.ts'
import { sendPage, sendPasskeyScript } from './views/page.ts'

/** One built provider with its pages; a rotation or reload swaps in another. */
export interface ServedProvider {
  readonly provider: Provider
  readonly interactions: InteractionContext
  /** The account, reset and registration pages (issue 14). */
  readonly selfService?: SelfServiceContext | undefined
}

export interface IdentityMountOptions {
  readonly issuer: string
  readonly metrics: RouteMetrics
  /** The proxies whose X-Forwarded-For is believed (the running configuration's proxy.trusted_ips). */
  readonly trustedProxies: () => BlockList | null
}

export class IdentityMount implements MountedIdentity {
  readonly metrics: RouteMetrics
  readonly #trustedProxies: () => BlockList | null
  #host = ''
  #path = ''
  #served: ServedProvider | null = null
  #callback: ((req: IncomingMessage, res: ServerResponse) => unknown) | null = null

  constructor(options: IdentityMountOptions) {
    this.metrics = options.metrics
    this.#trustedProxies = options.trustedProxies
    this.setIssuer(options.issuer)
  }

  setIssuer(issuer: string): void {
    const url = new URL(issuer)
    this.#host = url.hostname
    this.#path = url.pathname === '/' ? '' : url.pathname
  }

  /** Serves `served` from the next request on; requests already running finish on the previous one. */
  serve(served: ServedProvider): void {
    this.#served = served
    this.#callback = served.provider.callback()
  }

  matches(host: string, path: string): boolean {
    const base = this.#path
    if (base === '') return host === this.#host
    return path === base || (path.startsWith(base) && path.charCodeAt(base.length) === 0x2f)
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string, query: string): void {
    const served = this.#served
    const callback = this.#callback
    if (served === null || callback === null) {
      const page = errorPage('Unavailable', 'The identity provider is not available.')
      sendPage(res, 503, page.title, page.body)
      return
    }
    // The canonical path the gateway matched, so the provider serves what was routed (never the raw form).
    const rest = path.slice(this.#path.length) || '/'
    req.url = rest + query
    const clientIp = this.#clientIp(req)
    if (served.selfService !== undefined && isSelfServicePath(rest)) {
      const r = { req, res, path: rest, query: new URLSearchParams(query.slice(1)), clientIp }
      handleSelfService(served.selfService, r).catch(() => res.destroy())
      return
    }
    if (rest === PASSKEY_SCRIPT_PATH) {
      sendPasskeyScript(req, res)
      return
    }
    if (rest.startsWith('/interaction/')) {
      handleInteraction(served.interactions, req, res, rest, clientIp).catch(() => res.destroy())
      return
    }
    if (rest === CALLBACK_PATH) {
      brokerCallback(served.interactions, req, res, query, clientIp)
      return
    }
    const origin = { ip: clientIp, userAgent: String(req.headers['user-agent'] ?? '') }
    void withRequestOrigin(origin, () => callback(req, res))
  }

  #clientIp(req: IncomingMessage): string {
    const peer = req.socket.remoteAddress ?? ''
    const trusted = this.#trustedProxies()
    if (!isTrusted(trusted, peer)) {
      delete req.headers['x-forwarded-for']
      return unmapped(peer)
    }
    const ip = unmapped(clientAddress(trusted, peer, req.headers['x-forwarded-for']))
    req.headers['x-forwarded-for'] = ip
    return ip
  }
}

/** The external providers' callback (broker/callback.ts); an unexpected failure is a page, never a 500 body. */
function brokerCallback(
  c: InteractionContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: string,
  clientIp: string,
): void {
  handleBrokerCallback(c, req, res, query, clientIp).catch((err: unknown) => {
    if (res.headersSent) return void res.destroy()
    c.logger.error({ err }, 'external sign-in callback failed')
    const page = errorPage(
      'Something went wrong',
      'The sign-in could not be completed. Go back to the application and try again.',
    )
    sendPage(res, 500, page.title, page.body)
  })
}

/** An IPv4 address as itself, not IPv4-mapped IPv6 (one throttle key per client, whatever the listener). */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}
