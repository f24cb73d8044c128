/**
 * Where a request carries its internal token, and the request-side flow shared by the node:http, Express
 * and Fastify adapters. By default `Authorization: Bearer <token>` (RFC 6750 §2.1, the gateway's default);
 * another scheme or no header means no token. The scheme is case-insensitive (RFC 9110 §11.1). With
 * another header name, the header's whole value is the token. Never the query string (RFC 9700 §4.3.2).
 */
import type { IncomingHttpHeaders } from 'node:http'
import { type Answer, answerFor } from './answers.ts'
import { VerificationError } from './errors.ts'
import type { Identity } from './identity.ts'
import type { Verifier } from './verifier.ts'

/** Options of the `authenticate` middleware of every adapter. */
export interface AuthenticateOptions {
  /** The request header holding the token. Default `authorization` (as `Bearer <token>`). */
  readonly header?: string | undefined
  /** Let requests without a token through, with `identity` null; a bad token is still refused. Default false. */
  readonly optional?: boolean | undefined
  /** The realm in `WWW-Authenticate` challenges. Default the verifier's first audience. */
  readonly realm?: string | undefined
  /** Called with each refusal (to log `error.code`, say); its errors are ignored. Never given the token. */
  readonly onRefuse?: ((error: VerificationError) => void) | undefined
}

export interface Authenticator {
  /** The identity (null: optional mode, no token), or the answer that refuses the request. */
  authenticate(headers: IncomingHttpHeaders): Promise<{ identity: Identity | null } | { answer: Answer }>
}

const BEARER = /^bearer(?: +(.*))?$/i
/** An HTTP field name (RFC 9110 §5.1). */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const HEADER_TEXT = /^[\x20-\x7e]*$/

/** The token in `value`: the Bearer credentials, or with a custom header its whole value; null for none. */
export function readToken(value: string | string[] | undefined, bearer: boolean): string | null {
  if (value === undefined) return null
  const text = (Array.isArray(value) ? value.join(', ') : value).trim()
  if (!bearer) return text === '' ? null : text
  const token = BEARER.exec(text)?.[1]?.trim()
  return token === undefined || token === '' ? null : token
}

export function createAuthenticator(verifier: Verifier, options: AuthenticateOptions = {}): Authenticator {
  if (typeof verifier?.verify !== 'function')
    throw new TypeError('gatehouse-sdk: authenticate needs a verifier from createVerifier()')
  const header = (options.header ?? 'authorization').toLowerCase()
  if (!HEADER_NAME.test(header)) throw new TypeError('gatehouse-sdk: "header" must be an HTTP header name')
  const bearer = header === 'authorization'
  const optional = options.optional === true
  const realm = options.realm ?? verifier.audience.find((a) => HEADER_TEXT.test(a)) ?? null
  if (realm !== null && !HEADER_TEXT.test(realm))
    throw new TypeError('gatehouse-sdk: "realm" must be printable ASCII (it goes into a header)')
  const onRefuse = options.onRefuse
  if (onRefuse !== undefined && typeof onRefuse !== 'function')
    throw new TypeError('gatehouse-sdk: "onRefuse" must be a function')
  return {
    async authenticate(headers) {
      const token = readToken(headers[header], bearer)
      if (token === null && optional) return { identity: null }
      try {
        return { identity: await verifier.verify(token ?? '') }
      } catch (err) {
        const refusal =
          err instanceof VerificationError
            ? err
            : new VerificationError('GH_SDK_TOKEN_UNVERIFIABLE', { cause: err })
        try {
          onRefuse?.(refusal)
        } catch {}
        return { answer: answerFor(refusal, realm) }
      }
    },
  }
}
