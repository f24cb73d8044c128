/**
 * hmac-auth: identifies the consumer by an HMAC signature of the request, with Kong's contract
 * (kong/plugins/hmac-auth/access.lua): credentials in Proxy-Authorization (tried first) or Authorization,
 * the `X-Date` or `Date` header within `clock_skew`, the names in `enforce_headers` signed, an algorithm
 * from `algorithms`, then the signature and, with `validate_request_body`, the `Digest`. Kong's 401
 * messages and `WWW-Authenticate: hmac[ realm="…"]`; the credential's username goes upstream in
 * X-Credential-Identifier; `anonymous` makes it a logical OR.
 *
 * Differs from Kong where Kong leaks: the credentials are removed (hide_credentials, or a route that
 * mints an internal token) before the date is checked, so an anonymous fallback never forwards them.
 * enforce_headers compares names case-insensitively, as header names are. Signatures are compared in
 * constant time; secrets are looked up in a Map built once per configuration and never appear in a
 * message or a log line.
 */
import type { ConsumerEntity } from '../../config/model.ts'
import type { GatehouseErrorCode } from '../../errors/errors.ts'
import {
  anonymousConsumer,
  authenticateAnonymously,
  authenticateAs,
  challenge,
  consumerPrincipal,
  identifiedByEarlierPlugin,
  refuse,
} from '../../pipeline/authenticate.ts'
import type { Principal } from '../../pipeline/principal.ts'
import type { CredentialRef, RequestState } from '../../pipeline/request-state.ts'
import type { GatewayPlugin } from '../types.ts'
import { type HmacCredentials, parseHmac } from './authorization.ts'
import { digestMatches, hasBody } from './body-digest.ts'
import { hmacAuthCredentials } from './credential.ts'
import { parseHttpDate } from './http-date.ts'
import { type HmacAlgorithm, type HmacAuthConfig, hmacAuthSchema } from './schema.ts'
import { signatureMatches, signingString } from './signature.ts'

interface UserEntry {
  readonly consumer: ConsumerEntity
  readonly credential: CredentialRef
  readonly principal: Principal
  readonly secret: string
}

/** Why a request was not authenticated: Kong's body, the stable code and the access log's reason. */
interface Failure {
  readonly body: { readonly message: string }
  readonly code: GatehouseErrorCode
  readonly reason: string
}

const CANNOT_VERIFY = { message: 'HMAC signature cannot be verified' }
const DOES_NOT_MATCH = { message: 'HMAC signature does not match' }
const failure = (body: { message: string }, reason: string): Failure => ({
  body,
  code: 'GH_ERR_AUTH_CREDENTIALS_INVALID',
  reason,
})
const NO_CREDENTIALS: Failure = {
  body: { message: 'Unauthorized' },
  code: 'GH_ERR_AUTH_CREDENTIALS_MISSING',
  reason: 'hmac_auth_no_credentials',
}
const BAD_DATE = failure(
  {
    message:
      'HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication',
  },
  'hmac_auth_date_invalid',
)
const MALFORMED = failure(CANNOT_VERIFY, 'hmac_auth_malformed_credentials')
const UNSIGNED_HEADER = failure(CANNOT_VERIFY, 'hmac_auth_enforced_header_not_signed')
const ALGORITHM = failure(CANNOT_VERIFY, 'hmac_auth_algorithm_not_allowed')
const UNKNOWN_USER = failure(CANNOT_VERIFY, 'hmac_auth_unknown_username')
const BAD_SIGNATURE = failure(DOES_NOT_MATCH, 'hmac_auth_bad_signature')
const BAD_DIGEST = failure(DOES_NOT_MATCH, 'hmac_auth_bad_digest')

/**
 * The `hmac-auth` plugin (Kong's contract, priority 1030).
 *
 * @example
 * ```yaml
 * consumers:
 *   - username: billing-job
 *     hmacauth_credentials: [{ username: billing-job, secret: "{vault://env/BILLING_HMAC_SECRET}" }]
 * plugins:
 *   - name: hmac-auth
 *     route: invoices
 *     config: { enforce_headers: [date, "@request-target", digest], validate_request_body: true }
 * ```
 */
export const plugin: GatewayPlugin<HmacAuthConfig> = {
  name: 'hmac-auth',
  version: '1.0.0',
  priority: 1030,
  band: 'authentication',
  description:
    'Authenticates consumers by an HMAC signature of the request (date, request line, headers, body digest).',
  schema: hmacAuthSchema,
  // Kong's hmac-auth has `no_consumer`: it is what finds the consumer.
  scopes: { consumer: false },
  credentials: [hmacAuthCredentials],
  create(config, ctx) {
    const users = ctx.memo('users', () => {
      const byUsername = new Map<string, UserEntry>()
      for (const c of ctx.credentials('hmacauth_credentials')) {
        const consumer = ctx.consumers.get(c.consumer.id)
        if (!consumer) continue
        byUsername.set(c.username as string, {
          consumer,
          credential: { id: c.id, identifier: c.username as string },
          principal: consumerPrincipal(consumer, 'hmac-auth'),
          secret: c.secret as string,
        })
      }
      return byUsername
    })
    const anonymous = anonymousConsumer(config.anonymous, ctx.findConsumer)
    const hide = config.hide_credentials
    const skewMs = config.clock_skew * 1000
    const enforced = config.enforce_headers.map((name) => name.toLowerCase())
    const algorithms = new Set<string>(config.algorithms)
    const validateBody = config.validate_request_body
    const challengeHeaders = { 'www-authenticate': challenge('hmac', config.realm) }

    function withinSkew(value: string | string[] | undefined): boolean {
      if (typeof value !== 'string') return false
      const at = parseHttpDate(value)
      return at !== null && Math.abs(Date.now() - at) <= skewMs
    }

    /** Kong's checks, in Kong's order (so each failure gets Kong's message). */
    function check(state: RequestState): Failure | UserEntry | Promise<Failure | UserEntry> {
      const headers = state.req.headers
      const proxyValue = headers['proxy-authorization']
      const authValue = headers.authorization
      if (proxyValue === undefined && authValue === undefined) return NO_CREDENTIALS
      // Proxy-Authorization never goes upstream (it is hop-by-hop); Authorization only when it was read.
      let given: HmacCredentials | null = parseHmac(proxyValue)
      if (given === null) {
        if (hide || state.route?.concealsCredentials) delete state.upstreamHeaders.authorization
        given = parseHmac(authValue)
      }
      if (!withinSkew(headers['x-date']) && !withinSkew(headers.date)) return BAD_DATE
      if (given === null) return MALFORMED
      if (enforced.length > 0) {
        const signed = new Set(given.headers.map((name) => name.toLowerCase()))
        if (enforced.some((name) => !signed.has(name))) return UNSIGNED_HEADER
      }
      if (!algorithms.has(given.algorithm)) return ALGORITHM
      const user = users.get(given.username)
      if (user === undefined) return UNKNOWN_USER
      const text = signingString(state.req, given.headers)
      if (!signatureMatches(given.algorithm as HmacAlgorithm, user.secret, text, given.signature))
        return BAD_SIGNATURE
      if (!validateBody) return user
      const digest = headers.digest
      if (!hasBody(state)) return digestMatches(Buffer.alloc(0), digest) ? user : BAD_DIGEST
      return state.readBody().then((body) => (digestMatches(body, digest) ? user : BAD_DIGEST))
    }

    function finish(state: RequestState, outcome: Failure | UserEntry): void {
      if ('consumer' in outcome)
        authenticateAs(state, outcome.consumer, outcome.credential, outcome.principal)
      else if (anonymous !== null) authenticateAnonymously(state, anonymous, outcome.reason)
      else refuse(state, 401, outcome.body, challengeHeaders, outcome.code, outcome.reason)
    }

    /**
     * Whether `check` will read this request's body: it does with validate_request_body once the signature
     * matched. With `anonymous` it depends on whether an earlier plugin identifies the caller, which is not
     * known yet: readBody checks the length then.
     */
    function readsBody(state: RequestState): boolean {
      if (anonymous !== null || !hasBody(state)) return false
      const h = state.req.headers
      return h.authorization !== undefined || h['proxy-authorization'] !== undefined
    }

    return {
      ...(validateBody ? { readsBody } : {}),
      access(state) {
        // Logical OR (anonymous set): someone else already authenticated the caller.
        if (anonymous !== null && identifiedByEarlierPlugin(state)) return
        const outcome = check(state)
        if (outcome instanceof Promise) return outcome.then((o) => finish(state, o))
        finish(state, outcome)
        return undefined
      },
    }
  },
}
