/**
 * key-auth: identifies the consumer by an API key in a header or query parameter, with Kong's contract
 * (kong/plugins/key-auth/handler.lua): the same 401 messages and `WWW-Authenticate: Key` challenge, the
 * credential's id in X-Credential-Identifier, AND/OR with the other auth plugins through `anonymous`.
 *
 * With key_in_body, a form or JSON body is read (bounded) when no header or query parameter holds a key.
 *
 * Keys are secrets: they are looked up in a Map built once per configuration (a request never walks the
 * key list, so timing says nothing about other keys beyond what a hash lookup does), and no message or
 * log line quotes one.
 */
import type { ConsumerEntity } from '../../config/model.ts'
import {
  anonymousConsumer,
  authenticateAnonymously,
  authenticateAs,
  challenge,
  consumerPrincipal,
  identifiedByEarlierPlugin,
  refuse,
  skipsPreflight,
} from '../../pipeline/authenticate.ts'
import type { Principal } from '../../pipeline/principal.ts'
import type { CredentialRef, RequestState } from '../../pipeline/request-state.ts'
import { withoutQueryParam } from '../_shared/conceal.ts'
import type { GatewayPlugin } from '../types.ts'
import { bodyKind, findBodyKey, withoutBodyKey } from './body-key.ts'
import { keyAuthCredentials } from './credential.ts'
import { type FoundKey, findKey, prepareKeyNames } from './find-key.ts'
import { type KeyAuthConfig, keyAuthSchema } from './schema.ts'

interface KeyEntry {
  readonly consumer: ConsumerEntity
  readonly credential: CredentialRef
  readonly principal: Principal
  /** performance.now() after which the key no longer works; Infinity without a ttl. */
  readonly expiresAt: number
}

const NO_KEY = { message: 'No API key found in request' }
const DUPLICATE_KEY = { message: 'Duplicate API key found' }
const INVALID_KEY = { message: 'Unauthorized' }

/**
 * The `key-auth` plugin (Kong's contract, priority 1250).
 *
 * @example
 * ```yaml
 * consumers:
 *   - username: reports-job
 *     keyauth_credentials: [{ key: "{vault://env/REPORTS_API_KEY}" }]
 * plugins:
 *   - name: key-auth
 *     route: reports
 *     config: { key_names: [x-api-key], hide_credentials: true }
 * ```
 */
export const plugin: GatewayPlugin<KeyAuthConfig> = {
  name: 'key-auth',
  version: '1.0.0',
  priority: 1250,
  band: 'authentication',
  description: 'Authenticates consumers by an API key in a header or query parameter.',
  schema: keyAuthSchema,
  // Kong's key-auth has `no_consumer`: it is what finds the consumer.
  scopes: { consumer: false },
  credentials: [keyAuthCredentials],
  requestHeaders: (config) =>
    config.key_in_header ? config.key_names.map((name, i) => ({ key: `key_names[${i}]`, name })) : [],
  create(config, ctx) {
    const keys = ctx.memo('keys', () => {
      // The ttl counts from now, when the configuration is made runnable (Kong counts from creation).
      const loadedAt = performance.now()
      const byKey = new Map<string, KeyEntry>()
      for (const c of ctx.credentials('keyauth_credentials')) {
        const consumer = ctx.consumers.get(c.consumer.id)
        if (!consumer) continue
        const ttl = c.ttl as number | null
        byKey.set(c.key as string, {
          consumer,
          credential: { id: c.id, identifier: c.id },
          principal: consumerPrincipal(consumer, 'key-auth'),
          expiresAt: ttl ? loadedAt + ttl * 1000 : Number.POSITIVE_INFINITY,
        })
      }
      return byKey
    })
    const anonymous = anonymousConsumer(config.anonymous, ctx.findConsumer)
    const names = prepareKeyNames(config.key_names)
    const { key_in_header: inHeader, key_in_query: inQuery, hide_credentials: hide } = config
    const challengeHeaders = { 'www-authenticate': challenge('Key', config.realm) }
    const skipOptions = !config.run_on_preflight

    const inBody = config.key_in_body

    /** Checks the key found (if any), or returns the 401 body that says why not. */
    function settle(state: RequestState, found: FoundKey): { message: string } | null {
      if (found.kind === 'none') return NO_KEY
      // Every key name goes, not only the one used (Kong's), so no second or duplicate key reaches
      // the upstream, even when an anonymous fallback lets the request through.
      if (hide || state.route?.concealsCredentials) {
        for (const name of names) {
          delete state.upstreamHeaders[name.header]
          if (name.headerAlias) delete state.upstreamHeaders[name.headerAlias]
          state.upstreamQuery = withoutQueryParam(state.upstreamQuery, name.query)
        }
      }
      if (found.kind === 'duplicate') return DUPLICATE_KEY
      if (found.key === '') return NO_KEY
      const entry = keys.get(found.key)
      if (entry === undefined || performance.now() >= entry.expiresAt) return INVALID_KEY
      authenticateAs(state, entry.consumer, entry.credential, entry.principal)
      return null
    }

    /**
     * Header and query first (synchronously); the body only when they hold no key, so clients that send
     * the key in a header never have their bodies buffered. (Kong checks the body per key name, in order;
     * the difference shows only when a body and a header carry keys under different names.)
     */
    function authenticate(
      state: RequestState,
    ): { message: string } | null | Promise<{ message: string } | null> {
      const found = findKey(state, names, inHeader, inQuery)
      const kind = found.kind === 'none' && inBody ? bodyKind(state) : null
      if (kind === null) return settle(state, found)
      return state.readBody().then((body) => {
        const inBodyKey = findBodyKey(body, kind, names)
        if ((hide || state.route?.concealsCredentials) && inBodyKey.kind !== 'none')
          state.upstreamBody = withoutBodyKey(body, kind, names)
        return settle(state, inBodyKey)
      })
    }

    function finish(state: RequestState, failure: { message: string } | null): void {
      if (failure === null) return
      const reason =
        failure === NO_KEY
          ? 'key_auth_no_key'
          : failure === DUPLICATE_KEY
            ? 'key_auth_duplicate_key'
            : 'key_auth_invalid_key'
      if (anonymous !== null) authenticateAnonymously(state, anonymous, reason)
      else if (failure === NO_KEY)
        refuse(state, 401, failure, challengeHeaders, 'GH_ERR_AUTH_CREDENTIALS_MISSING', reason)
      else refuse(state, 401, failure, challengeHeaders, 'GH_ERR_AUTH_CREDENTIALS_INVALID', reason)
    }

    /**
     * Whether `authenticate` will read this request's body. With `anonymous` it depends on whether an
     * earlier plugin identifies the caller, which is not known yet: readBody checks the length then.
     */
    function readsBody(state: RequestState): boolean {
      if (!inBody || anonymous !== null || (skipOptions && state.method === 'OPTIONS')) return false
      return bodyKind(state) !== null && findKey(state, names, inHeader, inQuery).kind === 'none'
    }

    return {
      ...(inBody ? { readsBody } : {}),
      access(state) {
        if (skipsPreflight(state, !skipOptions)) return
        // Logical OR (anonymous set): someone else already authenticated the caller.
        if (anonymous !== null && identifiedByEarlierPlugin(state)) return
        const failure = authenticate(state)
        if (failure instanceof Promise) return failure.then((f) => finish(state, f))
        finish(state, failure)
        return undefined
      },
    }
  },
}
