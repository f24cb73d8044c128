/**
 * The pages a person uses without a client application (issue 14): the account page
 * (`<issuer>/account`, account-page/), password reset (`<issuer>/password-reset`) and registration
 * (`<issuer>/register`, recovery/). One context per built provider; mount.ts hands these paths here.
 * Each purpose has its own key, derived from identity.secret (HKDF, like secrets.ts), so a token made
 * for one can never pass as another.
 */
import { hkdfSync } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type Provider from 'oidc-provider'
import type { IdentityConfig } from '../config/normalize-identity.ts'
import type { Logger } from '../observability/logger.ts'
import type { Revocations } from '../redis/revocation.ts'
import type { Store } from '../storage/store.ts'
import { handleAccount } from './account-page/handler.ts'
import type { LinkView } from './broker/links.ts'
import type { LoginThrottle } from './interactions/throttle.ts'
import type { Mailer } from './recovery/mailer.ts'
import { handleRegister } from './recovery/register.ts'
import { handleReset } from './recovery/reset.ts'
import { errorPage } from './views/messages.ts'
import { sendPage } from './views/page.ts'

export interface SelfServiceKeys {
  /** HMAC key of the forms' CSRF tokens. */
  readonly forms: Buffer
  /** HMAC key of reset and e-mail verification links. */
  readonly links: Buffer
  /** AES-256-GCM key that seals registration links (they carry the new account's password hash). */
  readonly sealing: Buffer
}

export interface SelfServiceContext {
  readonly provider: Provider
  readonly store: Store
  readonly identity: IdentityConfig
  readonly logger: Logger
  /** The sign-in throttle: a password typed on these pages counts like one typed at sign-in. */
  readonly throttle: LoginThrottle
  /** The issuer's path ('' or '/oidc'). */
  readonly basePath: string
  readonly issuer: string
  /** This node's revocations (null: none); sign-out everywhere records a subject revocation in it. */
  readonly revocations: Revocations | null
  /** Null without identity.email. */
  readonly mailer: Mailer | null
  readonly keys: SelfServiceKeys
  /** The user's links to external providers, as the broker presents them (broker/links.ts `linksOf`). */
  readonly linksOf: (userId: string) => Promise<LinkView[]>
}

export interface SelfServiceRequest {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  /** The path below the issuer's, e.g. `/account/profile`. */
  readonly path: string
  readonly query: URLSearchParams
  readonly clientIp: string
}

function derive(secret: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'gatehouse', info, 32))
}

export function selfServiceKeys(secret: string): SelfServiceKeys {
  return {
    forms: derive(secret, 'self-service forms'),
    links: derive(secret, 'self-service links'),
    sealing: derive(secret, 'self-service sealed links'),
  }
}

/** Whether `path` (below the issuer's) is one of these pages. */
export function isSelfServicePath(path: string): boolean {
  return ['/account', '/password-reset', '/register'].some((p) => path === p || path.startsWith(`${p}/`))
}

/** Serves one of these pages (the caller checked isSelfServicePath); a failure is a 500 page, logged. */
export async function handleSelfService(c: SelfServiceContext, r: SelfServiceRequest): Promise<void> {
  try {
    if (r.path === '/account' || r.path.startsWith('/account/')) return await handleAccount(c, r)
    if (r.path.startsWith('/password-reset')) return await handleReset(c, r)
    return await handleRegister(c, r)
  } catch (err) {
    c.logger.error({ err, path: `${c.basePath}${r.path}` }, 'self-service page failed')
    if (r.res.headersSent) {
      r.res.destroy()
      return
    }
    const page = errorPage(
      'Something went wrong',
      'The request could not be completed. Try again in a moment.',
    )
    sendPage(r.res, 500, page.title, page.body)
  }
}
