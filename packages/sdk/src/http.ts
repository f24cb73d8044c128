/**
 * `gatehouse-sdk/http`: the internal-token check for plain `node:http` servers (and connect-style
 * `(req, res, next)` stacks). No framework is imported.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { send } from './answers.ts'
import { type AuthenticateOptions, createAuthenticator } from './extract.ts'
import type { Identity } from './identity.ts'
import type { Verifier } from './verifier.ts'

export type { AuthenticateOptions } from './extract.ts'

/** A request that went through the guard: `identity` is null only in optional mode without a token. */
export type AuthenticatedRequest = IncomingMessage & { identity: Identity | null }

/**
 * Checks a request's internal token. Sets `req.identity` and resolves the identity; when the request is
 * refused it answers it (401, or 503 when the gateway's keys are unavailable) and resolves null. With
 * `next` (connect style), `next()` is called when the request may proceed.
 *
 * In optional mode a request without a token also resolves null, unanswered: there, use `next` or
 * `protect`, or look at `res.headersSent`.
 */
export interface Guard {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): Promise<Identity | null>
  /** Wraps a handler so it runs only for requests the guard lets through, with `req.identity` set. */
  protect(
    handler: (req: AuthenticatedRequest, res: ServerResponse) => unknown,
  ): (req: IncomingMessage, res: ServerResponse) => Promise<void>
}

/**
 * Creates a guard for node:http handlers.
 *
 * @example
 * import { createServer } from 'node:http'
 * import { createVerifier } from 'gatehouse-sdk'
 * import { authenticate } from 'gatehouse-sdk/http'
 *
 * const guard = authenticate(createVerifier({ issuer, audience: 'orders', jwksUrl }))
 * createServer(guard.protect((req, res) => {
 *   res.end(`hello ${req.identity?.subject}`)
 * })).listen(8080)
 */
export function authenticate(verifier: Verifier, options: AuthenticateOptions = {}): Guard {
  const authenticator = createAuthenticator(verifier, options)
  const guard = async (
    req: IncomingMessage,
    res: ServerResponse,
    next?: (err?: unknown) => void,
  ): Promise<Identity | null> => {
    const result = await authenticator.authenticate(req.headers)
    if ('answer' in result) {
      ;(req as AuthenticatedRequest).identity = null
      send(res, result.answer)
      return null
    }
    ;(req as AuthenticatedRequest).identity = result.identity
    next?.()
    return result.identity
  }
  const protect: Guard['protect'] = (handler) => async (req, res) => {
    let proceed = false
    await guard(req, res, () => {
      proceed = true
    })
    if (proceed) await handler(req as AuthenticatedRequest, res)
  }
  return Object.assign(guard, { protect })
}
