/**
 * What authentication plugins share, with Kong's semantics (kong/plugins/jwt/handler.lua):
 * - The consumer identity headers are the gateway's: the core strips any a client sends, on every route
 *   (upstream-request.ts, proxy/identity-headers.ts), and an auth plugin sets them, so an upstream can
 *   trust them.
 * - Plugins combine as a logical AND unless `anonymous` is set; with it they combine as a logical OR:
 *   a plugin skips when an earlier one already identified a caller, and falls back to the anonymous
 *   consumer instead of answering 401.
 */
import type { ConsumerEntity } from '../config/model.ts'
import { GatehouseError, type GatehouseErrorCode } from '../errors/errors.ts'
import type { Principal } from './principal.ts'
import type { CredentialRef, HeaderMap, RequestState } from './request-state.ts'
import { exitWithError } from './respond.ts'

/** The one list of identity headers lives below the pipeline (proxy/identity-headers.ts). */
export { IDENTITY_HEADERS } from '../proxy/identity-headers.ts'

/** With `anonymous` configured: an earlier plugin already identified a real caller, so this one skips. */
export function identifiedByEarlierPlugin(state: RequestState): boolean {
  if (state.credential === null) return false
  state.dryRun?.skip(
    'an earlier plugin already identified the caller (anonymous is set: the plugins combine as OR)',
  )
  return true
}

/** A plugin that leaves CORS preflights alone (`run_on_preflight: false`), as a dry run explains it. */
export function skipsPreflight(state: RequestState, runOnPreflight: boolean): boolean {
  if (runOnPreflight || state.method !== 'OPTIONS') return false
  state.dryRun?.skip('an OPTIONS request (a CORS preflight), and run_on_preflight is false')
  return true
}

/** Records a successful authentication and sets Kong's identity headers (clearing the ones not set). */
export function authenticateAs(
  state: RequestState,
  consumer: ConsumerEntity,
  credential: CredentialRef,
  principal: Principal,
): void {
  state.consumer = consumer
  state.credential = credential
  state.principal = principal
  const h = state.upstreamHeaders
  setConsumerHeaders(h, consumer)
  h['x-credential-identifier'] = credential.identifier
  delete h['x-anonymous-consumer']
}

/**
 * Falls back to the anonymous consumer: its headers, `X-Anonymous-Consumer: true`, no credential.
 * `reason` is why the plugin did not identify the caller (its refusal's reason), for a dry run to say.
 */
export function authenticateAnonymously(
  state: RequestState,
  consumer: ConsumerEntity,
  reason?: string,
): void {
  state.dryRun?.note('anonymous', { consumer: consumerName(consumer), because: reason ?? null })
  state.consumer = consumer
  state.credential = null
  state.principal = null
  const h = state.upstreamHeaders
  setConsumerHeaders(h, consumer)
  delete h['x-credential-identifier']
  h['x-anonymous-consumer'] = 'true'
}

/** The name a consumer goes by: username, else custom_id, else its id (Kong requires one of the first two). */
export function consumerName(consumer: ConsumerEntity): string {
  return consumer.username ?? consumer.custom_id ?? consumer.id
}

/** The principal of a caller identified by a credential the gateway holds (API key, password, HMAC secret). */
export function consumerPrincipal(
  consumer: ConsumerEntity,
  method: 'key-auth' | 'basic-auth' | 'hmac-auth',
): Principal {
  // API keys and HMAC secrets are programs' credentials; a password is a person's.
  const client = method !== 'basic-auth'
  return Object.freeze({
    subject: consumerName(consumer),
    kind: client ? 'client' : 'user',
    method,
    issuer: null,
    clientId: client ? consumerName(consumer) : null,
    scopes: [],
    attributes: {},
    claims: {},
    token: null,
  })
}

function setConsumerHeaders(h: Record<string, string | string[]>, consumer: ConsumerEntity): void {
  h['x-consumer-id'] = consumer.id
  if (consumer.custom_id !== null) h['x-consumer-custom-id'] = consumer.custom_id
  else delete h['x-consumer-custom-id']
  if (consumer.username !== null) h['x-consumer-username'] = consumer.username
  else delete h['x-consumer-username']
}

/**
 * Resolves a plugin's `anonymous` setting at load (Kong answers 500 at request time when it names no
 * consumer; a configuration error is better). Throws when the consumer does not exist.
 */
export function anonymousConsumer(
  reference: string | null | undefined,
  find: (reference: string) => ConsumerEntity | undefined,
): ConsumerEntity | null {
  if (reference === null || reference === undefined || reference === '') return null
  const consumer = find(reference)
  if (!consumer) throw new Error(`anonymous consumer '${reference}' is configured but doesn't exist`)
  return consumer
}

/** `WWW-Authenticate` values as Kong builds them: `Scheme` or `Scheme realm="…"`, optionally with an error. */
export function challenge(scheme: string, realm: string | null | undefined, error?: string): string {
  const parts: string[] = []
  if (realm) parts.push(`realm="${realm.replace(/["\\]/g, '\\$&')}"`)
  if (error) parts.push(`error="${error}"`)
  return parts.length > 0 ? `${scheme} ${parts.join(', ')}` : scheme
}

/**
 * Ends the request with an auth plugin's answer and records why, as a stable code and reason, so the
 * access log says what the client is not told (e.g. `jwt_bad_signature`). `body` is Kong's JSON body
 * (or the plugin's protocol's: OAuth's `{error, error_description}`), which comes first in the
 * gateway's error body, or a finished page; `headers` (the challenge, Retry-After) are sent as given.
 * `message` is the error's text when the body has no `message` of its own (jwt's claim errors).
 */
export function refuse(
  state: RequestState,
  status: number,
  body: Readonly<Record<string, unknown>> | string,
  headers: HeaderMap | undefined,
  code: GatehouseErrorCode,
  reason: string,
  message?: string,
): void {
  const text =
    message ??
    (typeof body === 'object'
      ? typeof body.message === 'string'
        ? body.message
        : typeof body.error_description === 'string'
          ? body.error_description
          : undefined
      : undefined) ??
    reason
  exitWithError(state, new GatehouseError(code, text, { detail: reason }), status, body, headers)
}
