/**
 * What the identity provider's admin resources (identity-users.ts, identity-clients.ts, identity-keys.ts)
 * share: the running provider or the 404 that names the setting, and the shared checks' refusals
 * (identity/manage/) as coded answers naming the field (checked-body.ts). A store that cannot be reached
 * throws StoreUnavailableError, which the listener answers 503 GH_ERR_STORE_UNAVAILABLE (server.ts).
 */
import type { IdentityConfig } from '../config/normalize-identity.ts'
import { GatehouseError } from '../errors/errors.ts'
import type { IdentityHost } from '../identity/host.ts'
import { IdentityChangeRefused } from '../identity/manage/refusal.ts'
import { findUser } from '../identity/manage/users.ts'
import type { StoredUser } from '../storage/store.ts'
import { type Answer, fieldsOf, fieldsRefusal, sendRefusal } from './checked-body.ts'
import type { AdminContext } from './context.ts'
import { type AdminRequest, sendError } from './http.ts'

/** Why every /identity/… route answers 404 while the provider is off (dispatch.ts says it first). */
export const IDENTITY_OFF =
  'the built-in identity provider is not enabled (identity.enabled: false): it has no users, clients or keys to manage'

export function identityOff(): GatehouseError {
  return new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', IDENTITY_OFF)
}

/** The running provider and its section of the running configuration; null (404 sent) when it is off. */
export function identityFor(
  ctx: AdminContext,
  a: AdminRequest,
): { host: IdentityHost; identity: IdentityConfig } | null {
  const host = ctx.identity()
  // A reload may have turned it off since dispatch looked.
  if (host === null) {
    sendError(a.res, identityOff())
    return null
  }
  return { host, identity: ctx.config().settings.identity }
}

/**
 * The user `{user}` of the route names (its id or username), with the running provider; null (404 sent)
 * when the provider is off or there is no such user.
 */
export async function identityUserFor(
  ctx: AdminContext,
  a: AdminRequest,
): Promise<{ host: IdentityHost; identity: IdentityConfig; user: StoredUser } | null> {
  const found = identityFor(ctx, a)
  if (found === null) return null
  const reference = a.params.user!
  const user = await findUser(found.host.store, reference)
  if (user === undefined) {
    sendError(a.res, new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', `no user '${reference}'`))
    return null
  }
  return { ...found, user }
}

/** Runs a change; a refusal of the shared checks becomes its answer (and `undefined` is returned). */
export async function refusedAnswered<T>(a: AdminRequest, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run()
  } catch (err) {
    if (!(err instanceof IdentityChangeRefused)) throw err
    sendRefusal(a, asAnswer(err))
    return undefined
  }
}

function asAnswer(err: IdentityChangeRefused): Answer {
  switch (err.kind) {
    case 'invalid':
      return err.problems.length > 0
        ? fieldsRefusal('GH_ERR_ADMIN_BAD_REQUEST', err.problems)
        : { error: new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', err.message), fields: null }
    case 'managed':
      return { error: new GatehouseError('GH_ERR_ADMIN_MANAGED_BY_CONFIG', err.message), fields: null }
    case 'not_found':
      return { error: new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', err.message), fields: null }
    case 'taken':
      return {
        error: new GatehouseError('GH_ERR_ADMIN_CONFLICT', err.message),
        fields: fieldsOf(err.problems),
      }
    case 'unconfigured':
      return { error: new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', err.message), fields: null }
  }
}
