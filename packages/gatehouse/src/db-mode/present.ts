/**
 * The entity a write answers with, shown as the admin API's reads show it (admin/entities.ts,
 * admin/credentials.ts): credentials through their definition's `present` (an API key as Kong shows
 * it, never a password hash); a plugin's vault-read values as their references and secrets written in
 * clear as "[redacted]" (admin/entities.ts's presentPlugin).
 */

import { presentPlugin, presentService } from '../admin/entities.ts'
import type { CredentialEntity, GatewayConfig, PluginEntity, ServiceEntity } from '../config/model.ts'
import { presentCredential } from '../config/normalize-credentials.ts'
import { entitiesOf } from './documents.ts'
import type { EntityKind } from './kinds.ts'

export function presentEntity(kind: EntityKind, config: GatewayConfig, id: string): unknown {
  const entity = entitiesOf(config, kind.type).find((e) => e.id === id)
  if (entity === undefined) return null
  if (kind.credential !== null) return presentCredential(kind.credential, entity as CredentialEntity)
  if (kind.type === 'services') return presentService(config)(entity as ServiceEntity)
  if (kind.type !== 'plugins') return entity
  return presentPlugin(config)(entity as PluginEntity)
}
