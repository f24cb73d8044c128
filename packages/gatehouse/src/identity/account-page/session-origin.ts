/**
 * Where a provider session was last used from, for the account page's session list ("from where, if
 * recorded"): the client address (as mount.ts computed it, trusted proxies applied) and the browser's
 * User-Agent, kept beside the session as a `SessionOrigin` artefact of the same account and lifetime,
 * keyed by the session's public uid. oidc-provider's `session.saved` event carries no request, so the
 * request's facts travel in an AsyncLocalStorage set around the provider's handler.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type Provider from 'oidc-provider'
import type { Logger } from '../../observability/logger.ts'
import type { Store } from '../../storage/store.ts'

export const ORIGIN_MODEL = 'SessionOrigin'
const MAX_AGENT = 256

export interface RequestOrigin {
  readonly ip: string
  readonly userAgent: string
}

const current = new AsyncLocalStorage<RequestOrigin>()

/** Runs the provider's handling of one request with its origin known. */
export function withRequestOrigin<T>(origin: RequestOrigin, run: () => T): T {
  return current.run(origin, run)
}

/** Records the origin of every session save made while serving a request. */
export function recordSessionOrigins(provider: Provider, store: Store, logger: Logger): void {
  const events = provider as unknown as NodeJS.EventEmitter
  events.on('session.saved', (session: { uid?: string; accountId?: string; exp?: number }) => {
    const origin = current.getStore()
    if (origin === undefined || typeof session.uid !== 'string' || typeof session.accountId !== 'string')
      return
    const now = Math.floor(Date.now() / 1000)
    const ttl = typeof session.exp === 'number' ? Math.max(1, session.exp - now) : undefined
    const payload = {
      accountId: session.accountId,
      ip: origin.ip,
      userAgent: origin.userAgent.slice(0, MAX_AGENT),
      seen: now,
    }
    store.oidc.upsert(ORIGIN_MODEL, session.uid, payload, ttl, now).catch((err: unknown) => {
      logger.warn({ err }, 'recording where a session was used from failed')
    })
  })
}

/** A browser family and platform from a User-Agent, for people ("Chrome on Linux"); '' when unknown. */
export function describeAgent(userAgent: string): string {
  const browser = /Edg\//.test(userAgent)
    ? 'Edge'
    : /Firefox\//.test(userAgent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(userAgent)
        ? 'Chrome'
        : /Safari\//.test(userAgent)
          ? 'Safari'
          : ''
  const platform = /Android/.test(userAgent)
    ? 'Android'
    : /iPhone|iPad/.test(userAgent)
      ? 'iOS'
      : /Windows/.test(userAgent)
        ? 'Windows'
        : /Mac OS X/.test(userAgent)
          ? 'macOS'
          : /Linux/.test(userAgent)
            ? 'Linux'
            : ''
  if (browser === '') return platform
  return platform === '' ? browser : `${browser} on ${platform}`
}
