/**
 * Read-only credential endpoints, named as Kong names them by the plugins that own the credentials:
 * `GET /jwts`, `/jwts/{id|key}`, `/jwts/{id|key}/consumer`, and under a consumer
 * `/consumers/{username|id}/jwt[/{id|key}]` (likewise `/key-auths` + `key-auth`, `/basic-auths` +
 * `basic-auth`, `/acls` + `acls`). Each definition's `present` decides what is shown: secrets where Kong
 * shows them, never a password hash. Each export is one route's handler (routes.ts); writes are
 * writes.ts.
 */
import type { CredentialEntity, GatewayConfig } from '../config/model.ts'
import { presentCredential } from '../config/normalize-credentials.ts'
import type { CredentialDefinition } from '../plugins/types.ts'
import { findEntity, notFound, sendPage } from './entities.ts'
import { type AdminHandler, sendError, sendJson } from './http.ts'

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

/** The credentials of `def`, only the consumer's when the route is under `/consumers/{consumer}`; null: no such consumer. */
function credentialsIn(
  config: GatewayConfig,
  def: CredentialDefinition,
  consumerKey: string | undefined,
): readonly CredentialEntity[] | null {
  const list = config.credentials[def.name] ?? []
  if (consumerKey === undefined) return list
  const consumer = findEntity(config, 'consumers', consumerKey)
  return consumer ? list.filter((c) => c.consumer.id === consumer.id) : null
}

/** `GET /{collection}` or `/consumers/{consumer}/{nested}`: one page, each shown as its definition says. */
export function listCredentials(def: CredentialDefinition, underConsumer: boolean): AdminHandler {
  return (ctx, a) => {
    const list = credentialsIn(ctx.config(), def, underConsumer ? a.params.consumer : undefined)
    if (list === null) return sendError(a.res, notFound())
    sendPage(
      a,
      list.map((c) => presentCredential(def, c) as CredentialEntity),
      a.path,
    )
  }
}

/**
 * `GET /{collection}/{param}` or `/consumers/{consumer}/{nested}/{param}`, and with `ofConsumer`
 * `GET /{collection}/{param}/consumer`: the credential's consumer.
 */
export function showCredential(
  def: CredentialDefinition,
  param: string,
  options: { underConsumer?: boolean; ofConsumer?: boolean } = {},
): AdminHandler {
  return (ctx, a) => {
    const config = ctx.config()
    const list = credentialsIn(config, def, options.underConsumer ? a.params.consumer : undefined)
    const credential = list === null ? undefined : findCredential(def, list, a.params[param]!)
    if (!credential) return sendError(a.res, notFound())
    if (!options.ofConsumer) return sendJson(a.res, 200, presentCredential(def, credential))
    const consumer = config.consumers.find((c) => c.id === credential.consumer.id)
    if (consumer) sendJson(a.res, 200, consumer)
    else sendError(a.res, notFound())
  }
}
