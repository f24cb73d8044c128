/**
 * The identity provider's OAuth clients on the admin API (issue 12), with the checks and writes of
 * `gatehouse clients` (identity/manage/clients.ts):
 *   GET    /identity/clients             every client, never a secret nor its hash
 *   POST   /identity/clients             a new client; a confidential one's secret is generated and shown
 *                                        once, in this 201 answer (`client_secret`), and never again
 *   GET    /identity/clients/{client}
 *   DELETE /identity/clients/{client}
 * Clients the configuration file declares are read-only here (409 GH_ERR_ADMIN_MANAGED_BY_CONFIG). The
 * provider reads clients from the store on each use, so a change applies on every node at once.
 */
import { GatehouseError } from '../errors/errors.ts'
import { clientDetail, clientTarget } from '../identity/manage/audit.ts'
import {
  changeableClient,
  createClient,
  type NewClient,
  newClientBody,
  newClientSecret,
  presentClient,
  removeClient,
} from '../identity/manage/clients.ts'
import { IdentityChangeRefused } from '../identity/manage/refusal.ts'
import { checkedBody } from './checked-body.ts'
import { type AdminHandler, sendError, sendJson } from './http.ts'
import { audited } from './identity-audit.ts'
import { identityFor, refusedAnswered } from './identity-requests.ts'

/** `GET /identity/clients`. */
export const listClients: AdminHandler = async (ctx, a) => {
  const found = identityFor(ctx, a)
  if (found === null) return
  const clients = await found.host.store.clients.list()
  sendJson(a.res, 200, { data: clients.map((c) => presentClient(c, found.identity)) })
}

/** `POST /identity/clients`: 201 with the client and, for a confidential one, its secret (once). */
export const addClient: AdminHandler = async (ctx, a, env) => {
  const found = identityFor(ctx, a)
  if (found === null) return
  const body = await checkedBody(a, env, newClientBody)
  if (body === null) return
  const { public: isPublic, ...fields } = body
  const secret = isPublic ? undefined : newClientSecret()
  const client: NewClient = { ...fields, ...(secret !== undefined && { client_secret: secret }) }
  const added = await refusedAnswered(a, async () => {
    try {
      return await createClient(found.host.store, found.identity, client)
    } catch (err) {
      throw publicInsteadOfSecret(err)
    }
  })
  if (added === undefined) return
  await audited(ctx, a, env, {
    action: 'client.added',
    target: clientTarget(added),
    detail: clientDetail(added),
  })
  sendJson(a.res, 201, {
    ...presentClient(added, found.identity),
    ...(secret !== undefined && { client_secret: secret }),
  })
}

/** `GET /identity/clients/{client}`. */
export const showClient: AdminHandler = async (ctx, a) => {
  const found = identityFor(ctx, a)
  if (found === null) return
  const clientId = a.params.client!
  const client = await found.host.store.clients.get(clientId)
  if (client === undefined)
    return sendError(a.res, new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', `no client '${clientId}'`))
  sendJson(a.res, 200, presentClient(client, found.identity))
}

/** `DELETE /identity/clients/{client}`. */
export const deleteClient: AdminHandler = async (ctx, a, env) => {
  const found = identityFor(ctx, a)
  if (found === null) return
  const { store } = found.host
  const removed = await refusedAnswered(a, async () => {
    const client = await changeableClient(store, found.identity, a.params.client!)
    await removeClient(store, client)
    return client
  })
  if (removed === undefined) return
  await audited(ctx, a, env, { action: 'client.removed', target: clientTarget(removed), detail: {} })
  a.res.writeHead(204, { 'cache-control': 'no-store' }).end()
}

/**
 * The API's client has no `client_secret` field (one is generated unless `public`), so the rule "a
 * public client cannot use client_credentials" is said of `public`.
 */
function publicInsteadOfSecret(err: unknown): unknown {
  if (!(err instanceof IdentityChangeRefused) || err.kind !== 'invalid') return err
  const problems = err.problems.map((p) =>
    p.path === 'client_secret'
      ? { path: 'public', message: 'a public client cannot use the client_credentials grant' }
      : p,
  )
  return new IdentityChangeRefused('invalid', err.message, problems, err.what)
}
