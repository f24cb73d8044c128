/**
 * `gatehouse-sdk/express`: Express middleware (tested with Express 5). Nothing from Express is imported:
 * the middleware works on node:http's request and response, which Express's (4 and 5) and connect's
 * extend, and types `req.identity` by augmenting `Express.Request` (as Express's own plugins do).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { authorization, checkNames, send } from './answers.ts'
import { type AuthenticateOptions, createAuthenticator } from './extract.ts'
import type { Identity } from './identity.ts'
import type { Verifier } from './verifier.ts'

export type { AuthenticateOptions } from './extract.ts'

declare global {
  namespace Express {
    interface Request {
      /** Set by `gatehouse-sdk/express` `authenticate`: null only in optional mode without a token. */
      identity?: Identity | null
    }
  }
}

type Request = IncomingMessage & { identity?: Identity | null }
/** An Express-compatible middleware. */
export type Middleware = (req: Request, res: ServerResponse, next: (err?: unknown) => void) => void

/**
 * Checks the internal token of every request it sees: sets `req.identity` and calls `next()`, or answers
 * 401 (503 when the gateway's keys are unavailable) itself.
 *
 * @example
 * import express from 'express'
 * import { createVerifier } from 'gatehouse-sdk'
 * import { authenticate, requireScope } from 'gatehouse-sdk/express'
 *
 * const app = express()
 * app.use(authenticate(createVerifier({ issuer, audience: 'orders', jwksUrl })))
 * app.get('/orders', requireScope('orders:read'), (req, res) => {
 *   res.json({ for: req.identity?.subject })
 * })
 */
export function authenticate(verifier: Verifier, options: AuthenticateOptions = {}): Middleware {
  const authenticator = createAuthenticator(verifier, options)
  return function gatehouseAuthenticate(req, res, next) {
    authenticator.authenticate(req.headers).then((result) => {
      if ('answer' in result) {
        req.identity = null
        send(res, result.answer)
      } else {
        req.identity = result.identity
        next()
      }
    }, next)
  }
}

/**
 * Lets the request through only when its token carries every one of `scopes`; otherwise 403 with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"` (RFC 6750 §3.1). Use after
 * `authenticate`; without an identity it answers 401.
 */
export function requireScope(...scopes: string[]): Middleware {
  const names = checkNames('scope', scopes)
  return function gatehouseRequireScope(req, res, next) {
    const refusal = authorization(req.identity, 'scope', names)
    if (refusal === null) next()
    else send(res, refusal)
  }
}

/** Lets the request through only when the caller has every one of `roles`; otherwise 403 GH_SDK_ROLE_MISSING. */
export function requireRole(...roles: string[]): Middleware {
  const names = checkNames('role', roles)
  return function gatehouseRequireRole(req, res, next) {
    const refusal = authorization(req.identity, 'role', names)
    if (refusal === null) next()
    else send(res, refusal)
  }
}
