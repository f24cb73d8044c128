/**
 * oidc-provider's storage adapter over the store: one instance per model (Session, Grant,
 * AuthorizationCode, RefreshToken, Interaction, ReplayDetection for DPoP proofs, ...), all in
 * `store.oidc`; the store indexes sessions by uid and tokens by grantId. Consumed artefacts (used
 * codes, rotated refresh tokens) come back with `consumed` set, which is how reuse is detected.
 *
 * Clients are not oidc-provider artefacts: the `Client` model reads `store.clients` (managed by the
 * config and the CLI) and cannot be written, since dynamic registration is off. A client whose id is
 * some user's id is refused: its client_credentials tokens would carry that user's `sub` (RFC 9700 §4.15).
 */
import type { Adapter, AdapterPayload } from 'oidc-provider'
import type { Logger } from '../observability/logger.ts'
import type { OidcRecord, Store } from '../storage/store.ts'
import { OPENID_SCOPES } from './claims.ts'
import { toClientMetadata } from './client-metadata.ts'

const nowSeconds = () => Math.floor(Date.now() / 1000)

function payloadOf(record: OidcRecord | undefined): AdapterPayload | undefined {
  if (record === undefined) return undefined
  const payload = record.payload as AdapterPayload
  return record.consumed_at === null ? payload : { ...payload, consumed: record.consumed_at }
}

export type AdapterClass = new (model: string) => Adapter

export function storeAdapter(store: Store, logger: Logger): AdapterClass {
  return class StoreAdapter implements Adapter {
    readonly model: string

    constructor(model: string) {
      this.model = model
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.model === 'Client') throw new TypeError('clients are managed by the configuration and the CLI')
      await store.oidc.upsert(this.model, id, payload as Record<string, unknown>, expiresIn, nowSeconds())
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') return findClient(store, logger, id)
      return payloadOf(await store.oidc.find(this.model, id, nowSeconds()))
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return payloadOf(await store.oidc.findByUid(this.model, uid, nowSeconds()))
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return payloadOf(await store.oidc.findByUserCode(this.model, userCode, nowSeconds()))
    }

    async consume(id: string): Promise<void> {
      await store.oidc.consume(this.model, id, nowSeconds())
    }

    async destroy(id: string): Promise<void> {
      await store.oidc.destroy(this.model, id)
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await store.oidc.revokeByGrantId(grantId)
    }
  }
}

async function findClient(store: Store, logger: Logger, id: string): Promise<AdapterPayload | undefined> {
  const client = await store.clients.get(id)
  if (client === undefined) return undefined
  if ((await store.users.get(id)) !== undefined) {
    logger.warn({ client_id: id, reason: 'client_id_is_user_id' }, 'client refused: its id is a user id')
    return undefined
  }
  return toClientMetadata(client, OPENID_SCOPES) as AdapterPayload
}
