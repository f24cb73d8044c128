/**
 * What the middleware answers when it refuses a request, as RFC 6750 §3 asks: no token → 401 with a bare
 * `Bearer realm` challenge (no error code, §3.1); a bad token → 401 `invalid_token`; a missing scope →
 * 403 `insufficient_scope` naming the scopes needed. Keys unavailable → 503 with Retry-After (the token may
 * be fine; the client should try again). The body is `{ error, error_description, code }`. Descriptions
 * are fixed strings (errors.ts); nothing from the token is ever echoed.
 */
import type { ServerResponse } from 'node:http'
import { VerificationError } from './errors.ts'

export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** RFC 6749 §3.3 scope-token characters, which also need no escaping inside a quoted auth-param. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

const quote = (value: string): string => `"${value.replace(/["\\]/g, '\\$&')}"`

function bearer(realm: string | null, params: Record<string, string>): string {
  const parts = realm === null ? [] : [`realm=${quote(realm)}`]
  for (const [name, value] of Object.entries(params)) parts.push(`${name}=${quote(value)}`)
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`
}

/** The answer for `err`; `realm` names the protection space in the challenge (null leaves it out). */
export function answerFor(
  err: VerificationError,
  realm: string | null,
  scopes: readonly string[] = [],
): Answer {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  }
  if (err.code === 'GH_SDK_TOKEN_MISSING') headers['www-authenticate'] = bearer(realm, {})
  else if (err.code === 'GH_SDK_SCOPE_INSUFFICIENT')
    headers['www-authenticate'] = bearer(realm, {
      error: err.error,
      error_description: err.description,
      scope: scopes.join(' '),
    })
  else if (err.status === 401)
    headers['www-authenticate'] = bearer(realm, { error: err.error, error_description: err.description })
  else if (err.status === 503) headers['retry-after'] = String(err.retryAfter ?? 1)
  const body = JSON.stringify({ error: err.error, error_description: err.description, code: err.code })
  return { status: err.status, headers, body }
}

/** Checks names given to requireScope/requireRole once, when the middleware is created. */
export function checkNames(kind: 'scope' | 'role', names: readonly string[]): readonly string[] {
  if (names.length === 0)
    throw new TypeError(
      `gatehouse-sdk: require${kind === 'scope' ? 'Scope' : 'Role'} needs at least one ${kind}`,
    )
  for (const name of names)
    if (typeof name !== 'string' || !(kind === 'scope' ? SCOPE_TOKEN.test(name) : name !== ''))
      throw new TypeError(
        `gatehouse-sdk: ${kind} names must be non-empty strings${kind === 'scope' ? ' of RFC 6749 scope characters' : ''}`,
      )
  return Object.freeze([...names])
}

/** The refusal when `identity` lacks one of `scopes` or `roles`, or null when it may proceed. */
export function authorization(
  identity: { hasScope(...s: string[]): boolean; hasRole(...r: string[]): boolean } | null | undefined,
  kind: 'scope' | 'role',
  names: readonly string[],
): Answer | null {
  if (identity === null || identity === undefined)
    return answerFor(new VerificationError('GH_SDK_TOKEN_MISSING'), null)
  if (kind === 'scope')
    return identity.hasScope(...names)
      ? null
      : answerFor(new VerificationError('GH_SDK_SCOPE_INSUFFICIENT'), null, names)
  return identity.hasRole(...names) ? null : answerFor(new VerificationError('GH_SDK_ROLE_MISSING'), null)
}

/** Writes an answer with node:http's own methods (Express and connect responses are ServerResponses too). */
export function send(res: ServerResponse, answer: Answer): void {
  if (res.headersSent) return
  res.writeHead(answer.status, { ...answer.headers, 'content-length': Buffer.byteLength(answer.body) })
  res.end(answer.body)
}
