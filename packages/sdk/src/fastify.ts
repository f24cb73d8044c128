/**
 * `gatehouse-sdk/fastify`: a Fastify plugin and hooks (tested with Fastify 5; the few APIs used exist
 * in Fastify 4 too). Only Fastify's types are imported; the
 * plugin marks itself as fastify-plugin does (`skip-override`), so its hook covers the scope it is
 * registered in: the whole app at the root, or just the routes of an encapsulated plugin.
 */
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify'
import { type Answer, authorization, checkNames } from './answers.ts'
import { type AuthenticateOptions, createAuthenticator } from './extract.ts'
import type { Identity } from './identity.ts'
import type { Verifier } from './verifier.ts'

export type { AuthenticateOptions } from './extract.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `gatehouse-sdk/fastify`: null only in optional mode without a token. */
    identity: Identity | null
  }
}

/** A Fastify `onRequest` / `preHandler` hook. */
export type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

export interface GatehousePluginOptions extends AuthenticateOptions {
  readonly verifier: Verifier
}

function reply(to: FastifyReply, answer: Answer): FastifyReply {
  return to.code(answer.status).headers(answer.headers).send(answer.body)
}

/**
 * A hook that checks the internal token: sets `request.identity`, or answers 401 (503 when the gateway's
 * keys are unavailable). The `gatehouse` plugin installs it for you; use it alone on chosen routes.
 */
export function authenticate(verifier: Verifier, options: AuthenticateOptions = {}): Hook {
  const authenticator = createAuthenticator(verifier, options)
  return async function gatehouseAuthenticate(request, to) {
    const result = await authenticator.authenticate(request.headers)
    if ('answer' in result) {
      request.identity = null
      return reply(to, result.answer)
    }
    request.identity = result.identity
    return undefined
  }
}

/** A hook answering 403 `insufficient_scope` unless the token carries every one of `scopes`. */
export function requireScope(...scopes: string[]): Hook {
  const names = checkNames('scope', scopes)
  return async function gatehouseRequireScope(request, to) {
    const refusal = authorization(request.identity, 'scope', names)
    return refusal === null ? undefined : reply(to, refusal)
  }
}

/** A hook answering 403 GH_SDK_ROLE_MISSING unless the caller has every one of `roles`. */
export function requireRole(...roles: string[]): Hook {
  const names = checkNames('role', roles)
  return async function gatehouseRequireRole(request, to) {
    const refusal = authorization(request.identity, 'role', names)
    return refusal === null ? undefined : reply(to, refusal)
  }
}

const plugin: FastifyPluginCallback<GatehousePluginOptions> = (fastify, options, done) => {
  const { verifier, ...rest } = options
  if (!fastify.hasRequestDecorator('identity')) fastify.decorateRequest('identity', null)
  fastify.addHook('onRequest', authenticate(verifier, rest))
  done()
}

/**
 * Decorates `request.identity` and checks the internal token on every request of the scope it is
 * registered in (an `onRequest` hook, so refused requests are answered before their body is read).
 *
 * @example
 * import Fastify from 'fastify'
 * import { createVerifier } from 'gatehouse-sdk'
 * import { gatehouse, requireScope } from 'gatehouse-sdk/fastify'
 *
 * const app = Fastify()
 * await app.register(gatehouse, { verifier: createVerifier({ issuer, audience: 'orders', jwksUrl }) })
 * app.get('/orders', { onRequest: requireScope('orders:read') }, async (request) => ({
 *   for: request.identity?.subject,
 * }))
 */
export const gatehouse: FastifyPluginCallback<GatehousePluginOptions> = Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'gatehouse-sdk',
  [Symbol.for('plugin-meta')]: { name: 'gatehouse-sdk', fastify: '>=4' },
})
