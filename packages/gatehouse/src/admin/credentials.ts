/**
 * Read-only credential endpoints, named as Kong names them by the plugins that own the credentials:
 * `GET /jwts`, `/jwts/{id|key}`, `/jwts/{id|key}/consumer`, and under a consumer
 * `/consumers/{username|id}/jwt[/{id|key}]` (likewise `/key-auths` + `key-auth`, `/basic-auths` +
 * `basic-auth`, `/acls` + `acls`). Each definition's `present` decides what is shown: secrets where Kong
 * shows them, never a password hash. Writes answer 405: this node is DB-less.
 */
import type { CredentialEntity } from '../config/model.ts'
import { presentCredential } from '../config/normalize-credentials.ts'
import { GatehouseError } from '../errors/errors.ts'
import type { CredentialDefinition } from '../plugins/types.ts'
import type { AdminContext } from './context.ts'
import { findEntity, methodNotAllowed, notFound, sendPage } from './entities.ts'
import { type AdminRequest, sendError, sendJson } from './http.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function findCredential(
  def: CredentialDefinition,
  list: readonly CredentialEntity[],
  key: string,
): CredentialEntity | undefined {
  if (UUID.test(key)) {
    const byId = list.find((e) => e.id === key.toLowerCase())
    if (byId) return byId
  }
  return def.endpointKey === null ? undefined : list.find((e) => e[def.endpointKey!] === key)
}

function decode(segment: string | undefined): string | undefined | null {
  if (segment === undefined) return undefined
  try {
    return decodeURIComponent(segment)
  } catch {
    return null
  }
}

/** Handles a credential path; returns false when the path is not one. */
export function handleCredentials(ctx: AdminContext, a: AdminRequest): boolean {
  const defs = ctx.registry.credentialDefinitions()
  let def: CredentialDefinition | undefined
  let consumerKey: string | undefined | null
  let key: string | undefined | null
  let wantsConsumer = false
  const nested = /^\/consumers\/([^/]+)\/([a-z-]+)(?:\/([^/]+))?$/.exec(a.path)
  if (nested) {
    def = defs.find((d) => d.adminNested === nested[2])
    if (!def) return false
    consumerKey = decode(nested[1])
    key = decode(nested[3])
  } else {
    const top = /^\/([a-z-]+)(?:\/([^/]+))?(\/consumer)?$/.exec(a.path)
    if (!top) return false
    def = defs.find((d) => d.adminCollection === top[1])
    if (!def) return false
    key = decode(top[2])
    wantsConsumer = top[3] !== undefined
  }
  if (consumerKey === null || key === null) {
    sendError(a.res, new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'invalid percent-encoding in the path'))
    return true
  }
  if (a.method !== 'GET' && a.method !== 'HEAD') {
    sendError(a.res, methodNotAllowed(def.name, a.method), {}, { allow: 'GET, HEAD, OPTIONS' })
    return true
  }
  const config = ctx.config()
  let list = config.credentials[def.name] ?? []
  if (consumerKey !== undefined) {
    const consumer = findEntity(config, 'consumers', consumerKey)
    if (!consumer) {
      sendError(a.res, notFound())
      return true
    }
    list = list.filter((c) => c.consumer.id === consumer.id)
  }
  if (key === undefined) {
    sendPage(
      a,
      list.map((c) => presentCredential(def, c) as CredentialEntity),
      a.path,
    )
    return true
  }
  const credential = findCredential(def, list, key)
  if (!credential) sendError(a.res, notFound())
  else if (!wantsConsumer) sendJson(a.res, 200, presentCredential(def, credential))
  else {
    const consumer = config.consumers.find((c) => c.id === credential.consumer.id)
    if (consumer) sendJson(a.res, 200, consumer)
    else sendError(a.res, notFound())
  }
  return true
}
