/**
 * users: the user-info service the gateway enriches internal tokens from (`internal-token` `enrich.url`
 * in gatehouse.yaml): country, customer type and display name by the identity provider's user id. No
 * gateway route leads here and it listens on loopback only: the gateway is its one caller, and no other
 * service calls it (they read the same facts from their internal token).
 *
 *   GET /users/{id}   200 the record, 404 for an id it does not know (the gateway then adds no profile)
 */
import { USERS } from '../data/users.ts'
import { json, methodNotAllowed, notFound, param, serve } from '../lib/service.ts'

const BY_ID = new Map(USERS.map((u) => [u.id, u]))

serve('users', (_req, res, { method, path }) => {
  if (method !== 'GET') return methodNotAllowed(res, 'GET')
  const id = param(path, '/users/')
  const user = id === null ? undefined : BY_ID.get(id)
  if (user === undefined) return notFound(res)
  return json(res, 200, user)
})
