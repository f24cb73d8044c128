/**
 * Who the upstream is told called, from a verified access token or a browser session (openid-connect
 * and session plugins). The caller is the `consumer_claim`
 * value (default `sub`):
 * - a consumer whose `username` equals it, else one whose `custom_id` does, becomes the request's
 *   consumer (its X-Consumer-* headers, its acl groups, consumer-scoped plugins); ids are never matched,
 *   so a token cannot name a consumer by its internal id;
 * - otherwise there is no consumer entity: `X-Consumer-Username` carries the claim and `X-Consumer-ID` is
 *   absent, so an upstream can tell a configured consumer (it has an id) from a token-only caller.
 * Either way `X-Authenticated-Userid` is the claim, `X-Authenticated-Scope` the token's `scope`, and
 * `X-Credential-Identifier` the OAuth client (`client_id`, RFC 9068 §2.2), as Kong's oauth2 plugin sets
 * them; without a `client_id` it is the claim. The request's credential is set in both cases, so a later
 * auth plugin configured with `anonymous` sees the caller as identified.
 */
import type { ConsumerEntity } from '../../config/model.ts'
import { authenticateAs } from '../../pipeline/authenticate.ts'
import type { Principal } from '../../pipeline/principal.ts'
import type { RequestState } from '../../pipeline/request-state.ts'

/** A value Node can send in a header: printable ASCII and tab. */
export const HEADER_SAFE = /^[\t\x20-\x7e]*$/

/** Consumers by the values a claim may name them with; username wins over another consumer's custom_id. */
export function consumersByName(consumers: Iterable<ConsumerEntity>): ReadonlyMap<string, ConsumerEntity> {
  const list = [...consumers]
  const byName = new Map<string, ConsumerEntity>()
  for (const c of list) if (c.custom_id !== null) byName.set(c.custom_id, c)
  for (const c of list) if (c.username !== null) byName.set(c.username, c)
  return byName
}

export interface Caller {
  /** The consumer_claim value: printable ASCII, checked by the verifier. */
  readonly name: string
  /** `client_id` when it is a header-safe string, else null. */
  readonly clientId: string | null
  /** `scope` when it is a header-safe string, else null. */
  readonly scope: string | null
  readonly principal: Principal
}

export function identify(state: RequestState, caller: Caller, consumer: ConsumerEntity | undefined): void {
  const identifier = caller.clientId ?? caller.name
  const credential = { id: identifier, identifier }
  const h = state.upstreamHeaders
  if (consumer !== undefined) authenticateAs(state, consumer, credential, caller.principal)
  else {
    state.consumer = null
    state.credential = credential
    state.principal = caller.principal
    delete h['x-consumer-id']
    delete h['x-consumer-custom-id']
    delete h['x-anonymous-consumer']
    h['x-consumer-username'] = caller.name
    h['x-credential-identifier'] = identifier
  }
  h['x-authenticated-userid'] = caller.name
  if (caller.scope !== null) h['x-authenticated-scope'] = caller.scope
  else delete h['x-authenticated-scope']
}
