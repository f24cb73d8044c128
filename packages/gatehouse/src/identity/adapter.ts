/**
 * oidc-provider's storage adapter over the store: one instance per model (Session, Grant,
 * AuthorizationCode, RefreshToken, Interaction, ReplayDetection for DPoP proofs, ...), all in
 * `store.oidc`; the store indexes sessions by uid and tokens by grantId. Consumed artefacts (used
 * codes, rotated refresh tokens) come back with `consumed` set, which is how reuse is detected.
 *
 * Clients are not oidc-provider artefacts: the `Client` model reads `store.clients` (managed by the
 * config and the CLI) and cannot be written, since dynamic registration is off. A client whose id is
 * some user's id is refused: its client_credentials tokens would carry that user's `sub` (RFC 9700 §4.15).
 *
 * Revocations (issue 7, POST /revocations, on any node) hold here too: an artefact of a revoked grant, or
 * of a user revoked after it was issued (a grant, refresh token, code, opaque token, login session) is
 * not found, so a refresh is refused on every node even when each keeps its own SQLite file; its grant is
 * then deleted from this store. The check is a map lookup in this node's view of the revocations.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider'
import type { Logger } from '../observability/logger.ts'
import type { Revocations } from '../redis/revocation.ts'
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

export function storeAdapter(
  store: Store,
  logger: Logger,
  revocations: Revocations | null,
  /** Clients the provider has built in (the account page's, issue 14), before the store's. */
  builtInClient: (id: string) => AdapterPayload | undefined = () => undefined,
): AdapterClass {
  /** The payload, unless revocations refuse it (then its grant, or itself, is deleted). */
  const unrevoked = async (
    model: string,
    id: string,
    payload: AdapterPayload | undefined,
  ): Promise<AdapterPayload | undefined> => {
    if (payload === undefined || revocations === null) return payload
    const grantId = model === 'Grant' ? id : payload.grantId
    const account = payload.accountId
    // A login session counts from the sign-in; everything else from when it was issued.
    const issued = model === 'Session' ? (payload.loginTs ?? payload.iat) : payload.iat
    const revoked =
      (typeof grantId === 'string' && revocations.grantRevoked(grantId)) ||
      (typeof account === 'string' &&
        typeof issued === 'number' &&
        revocations.subjectRevoked(account, issued * 1000))
    if (!revoked) return payload
    logger.info({ model, grant_id: grantId, reason: 'revoked' }, 'revoked identity artefact refused')
    await (typeof grantId === 'string' ? store.oidc.revokeByGrantId(grantId) : store.oidc.destroy(model, id))
    return undefined
  }

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
      if (this.model === 'Client') return builtInClient(id) ?? findClient(store, logger, id)
      return unrevoked(this.model, id, payloadOf(await store.oidc.find(this.model, id, nowSeconds())))
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      const payload = payloadOf(await store.oidc.findByUid(this.model, uid, nowSeconds()))
      return unrevoked(this.model, String(payload?.jti ?? ''), payload)
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      const payload = payloadOf(await store.oidc.findByUserCode(this.model, userCode, nowSeconds()))
      return unrevoked(this.model, String(payload?.jti ?? ''), payload)
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
