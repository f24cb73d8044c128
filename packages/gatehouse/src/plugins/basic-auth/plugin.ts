/**
 * basic-auth: identifies the consumer by a username and password (RFC 7617), with Kong's contract
 * (kong/plugins/basic-auth/access.lua, 3.6+): Proxy-Authorization is tried first, then Authorization;
 * every failure is 401 `Unauthorized` with `WWW-Authenticate: Basic realm="service"`; the credential's
 * username goes upstream in X-Credential-Identifier; `anonymous` makes it a logical OR.
 *
 * Safer than Kong, which keeps salted SHA-1: passwords are argon2id hashes, checked on the threadpool
 * under the process-wide bounds of password-checks.ts (beyond them: 503 `Too many password checks in
 * progress, retry shortly` with `Retry-After: 1`, because the gateway could not check the password,
 * whatever the route's `anonymous`). An unknown username is checked against a decoy hash, so it costs
 * what a known one costs and timing does not tell which usernames exist.
 */
import type { ConsumerEntity } from '../../config/model.ts'
import { type Argon2idHash, decoyHash, parsePhc, verifyPassword } from '../../crypto/argon2id.ts'
import {
  recentlyVerified,
  rememberVerified,
  scheduleCheck,
  verifiedKey,
} from '../../crypto/password-checks.ts'
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
import { type BasicCredentials, parseBasic } from './authorization.ts'
import { basicAuthCredentials } from './credential.ts'
import { type BasicAuthConfig, basicAuthSchema } from './schema.ts'

interface UserEntry {
  readonly consumer: ConsumerEntity
  readonly credential: CredentialRef
  readonly principal: Principal
  readonly phc: string
  readonly hash: Argon2idHash
}

/** A user when the password matched, null when not, 'busy' when no check could be started. */
type Outcome = UserEntry | null | 'busy'

const UNAUTHORIZED = { message: 'Unauthorized' }
const BUSY = { message: 'Too many password checks in progress, retry shortly' }
const BUSY_HEADERS = { 'retry-after': '1' }
const decoy = decoyHash()

/**
 * The `basic-auth` plugin (Kong's contract, priority 1100).
 *
 * @example
 * ```yaml
 * consumers:
 *   - username: alice
 *     basicauth_credentials:
 *       - username: alice
 *         password: "$argon2id$v=19$m=19456,t=2,p=1$…$…"   # or a plain password, hashed at load
 * plugins:
 *   - name: basic-auth
 *     route: back-office
 *     config: { hide_credentials: true }
 * ```
 */
export const plugin: GatewayPlugin<BasicAuthConfig> = {
  name: 'basic-auth',
  version: '1.0.0',
  priority: 1100,
  band: 'authentication',
  description:
    'Authenticates consumers by username and password (HTTP Basic), checked against argon2id hashes.',
  schema: basicAuthSchema,
  // Kong's basic-auth has `no_consumer`: it is what finds the consumer.
  scopes: { consumer: false },
  credentials: [basicAuthCredentials],
  create(config, ctx) {
    const users = ctx.memo('users', () => {
      const byUsername = new Map<string, UserEntry>()
      for (const c of ctx.credentials('basicauth_credentials')) {
        const consumer = ctx.consumers.get(c.consumer.id)
        const hash = parsePhc(c.password as string)
        if (!consumer || typeof hash === 'string') continue // the loader refused such hashes
        byUsername.set(c.username as string, {
          consumer,
          credential: { id: c.id, identifier: c.username as string },
          principal: consumerPrincipal(consumer, 'basic-auth'),
          phc: c.password as string,
          hash,
        })
      }
      return byUsername
    })
    const anonymous = anonymousConsumer(config.anonymous, ctx.findConsumer)
    const hide = config.hide_credentials
    const challengeHeaders = { 'www-authenticate': challenge('Basic', config.realm) }

    function check(state: RequestState): Outcome | Promise<Outcome> {
      const headers = state.req.headers
      const proxyValue = headers['proxy-authorization']
      const authValue = headers.authorization
      if (proxyValue === undefined && authValue === undefined) return null
      // Proxy-Authorization never goes upstream (it is hop-by-hop); Authorization only when it was read.
      let given = parseBasic(proxyValue)
      let user = given ? users.get(given.username) : undefined
      if (user === undefined) {
        if (hide || state.route?.concealsCredentials) delete state.upstreamHeaders.authorization
        const fromAuthorization = parseBasic(authValue)
        if (fromAuthorization !== null) {
          given = fromAuthorization
          user = users.get(given.username)
        }
      }
      if (given === null) return null
      return user === undefined ? checkDecoy(state, given) : checkPassword(state, user, given.password)
    }

    return {
      access(state) {
        if (anonymous !== null && identifiedByEarlierPlugin(state)) return
        const outcome = check(state)
        if (outcome instanceof Promise) return outcome.then((o) => finish(state, o))
        finish(state, outcome)
        return undefined
      },
    }

    function finish(state: RequestState, outcome: Outcome): void {
      if (outcome === 'busy')
        refuse(state, 503, BUSY, BUSY_HEADERS, 'GH_ERR_AUTH_CHECKS_BUSY', 'basic_auth_busy')
      else if (outcome !== null)
        authenticateAs(state, outcome.consumer, outcome.credential, outcome.principal)
      else if (anonymous !== null) authenticateAnonymously(state, anonymous, 'basic_auth_refused')
      else
        refuse(
          state,
          401,
          UNAUTHORIZED,
          challengeHeaders,
          'GH_ERR_AUTH_CREDENTIALS_INVALID',
          'basic_auth_refused',
        )
    }
  },
}

function checkPassword(state: RequestState, user: UserEntry, password: string): Outcome | Promise<Outcome> {
  const key = verifiedKey(user.credential.id, user.phc, password)
  if (recentlyVerified(key)) return user
  const running = scheduleCheck(async () => {
    // The client left while this waited: its answer goes nowhere, so spend nothing on it.
    if (state.res.destroyed) return null
    if (!(await verifyPassword(user.hash, password))) return null
    rememberVerified(key)
    return user
  })
  return running ?? 'busy'
}

function checkDecoy(state: RequestState, given: BasicCredentials): Outcome | Promise<Outcome> {
  const running = scheduleCheck(async () => {
    if (!state.res.destroyed) await verifyPassword(decoy, given.password)
    return null
  })
  return running ?? 'busy'
}
