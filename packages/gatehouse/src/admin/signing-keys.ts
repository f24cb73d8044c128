/**
 * The gateway's own signing keys on the admin API, both kinds in one place (issue 10). Not `/keys`: that
 * is Kong's admin path for its `keys` entities (declarative `keys:` and `key_sets:`), which this gateway
 * may serve one day.
 *   GET  /signing-keys               every key this node knows, never key material: the identity
 *                                    provider's (from the store) and the internal-token keys (this node's,
 *                                    and with Redis the other nodes' it lists), with kind, alg and state.
 *   POST /signing-keys/{kid}/revoke  withdraws the key now (body optional: `reason`, `ttl` in seconds): a
 *                                    provider key leaves the store and the provider (another key signs at
 *                                    once if it was signing), this node's internal-token key leaves its
 *                                    ring likewise, and a `key` revocation makes every verifier of every
 *                                    node refuse it (with Redis: every node within a second; without:
 *                                    this node, while the others follow the store within a second).
 *                                    201 with what was done; 404 GH_ERR_KEY_NOT_FOUND when no one has the
 *                                    kid; 503 GH_ERR_REVOCATION_UNAVAILABLE when Redis cannot record it
 *                                    (what was done here is said, and a retry is safe).
 */
import { z } from 'zod'
import { GatehouseError } from '../errors/errors.ts'
import type { Withdrawal } from '../identity/keys/rotation.ts'
import { keyWithdrawn } from '../identity/manage/audit.ts'
import { KEY_ID, type Revocation } from '../redis/revocation.ts'
import { acquireRevocations } from '../redis/revocation-leases.ts'
import type { AdminContext } from './context.ts'
import {
  type AdminEnv,
  type AdminHandler,
  type AdminRequest,
  parseJsonBody,
  readBody,
  sendError,
  sendJson,
} from './http.ts'
import { audited } from './identity-audit.ts'
import { presentRevocation, REVOCATION_OPTIONS } from './revocations.ts'

/** The (optional) body of `POST /signing-keys/{kid}/revoke` (routes.ts documents it from this schema). */
export const keyRevocationBody = z.strictObject(REVOCATION_OPTIONS)

/** `GET /signing-keys`. */
export const listSigningKeys: AdminHandler = async (ctx, a) => {
  sendJson(a.res, 200, { data: await listAll(ctx) })
}

/** `POST /signing-keys/{kid}/revoke`. */
export const revokeSigningKey: AdminHandler = async (ctx, a, env) => {
  const kid = a.params.kid!
  if (!KEY_ID.test(kid))
    return sendError(
      a.res,
      new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'kid must be 1-256 printable ASCII characters'),
    )
  const options = parse(await readBody(a.req, env.maxBodySize))
  if (options instanceof GatehouseError) return sendError(a.res, options)
  await revoke(ctx, a, kid, options, env)
}

async function revoke(
  ctx: AdminContext,
  a: AdminRequest,
  kid: string,
  options: z.output<typeof keyRevocationBody>,
  env: AdminEnv,
): Promise<void> {
  const { logger } = env
  const lease = acquireRevocations(ctx.config().settings.redis, logger)
  try {
    const { revocations } = lease
    await revocations.settled()
    const provider = (await ctx.identity()?.withdrawKey(kid)) ?? null
    const internal = await ctx.internalKeys.withdraw(kid)
    // Known also when it was revoked before: a retry after a failure below must not be a 404.
    if (provider === null && internal === null && !revocations.keyRevoked(kid))
      return sendError(
        a.res,
        new GatehouseError(
          'GH_ERR_KEY_NOT_FOUND',
          `no signing key '${kid}': not the identity provider's, and no internal-token key of this node or one it lists`,
        ),
      )
    const done = describe(kid, provider, internal, ctx)
    let made: Revocation
    try {
      made = await revocations.revoke({ kind: 'key', id: kid, reason: options.reason, ttl: options.ttl })
    } catch (err) {
      logger.warn(
        { err: (err as Error)?.message ?? String(err), kid },
        'key revocation not recorded: redis unavailable',
      )
      // Withdrawn here all the same (the store, this node's ring): a change, audited as such.
      if (done.kind !== null) await audited(ctx, a, env, withdrawn(kid, done, false, options.reason ?? null))
      a.res.setHeader('retry-after', '1')
      return sendError(
        a.res,
        new GatehouseError(
          'GH_ERR_REVOCATION_UNAVAILABLE',
          `${done.summary}; but the shared revocations (Redis) cannot be reached, so other nodes were not told (nodes sharing the store drop a provider key within a second anyway); retry`,
        ),
      )
    }
    await audited(ctx, a, env, withdrawn(kid, done, true, made.reason))
    sendJson(a.res, 201, {
      data: {
        kid,
        kind: done.kind,
        was: done.was,
        replaced_by: done.replacedBy,
        revocation: presentRevocation(made),
        nodes: revocations.backend === 'redis' ? 'every node, within a second' : 'this node',
      },
    })
  } finally {
    await lease.release()
  }
}

interface Done {
  /** null: no one has the key now, but it was revoked before (a retry). */
  readonly kind: 'identity-provider' | 'internal-token' | null
  readonly was: string | null
  readonly replacedBy: string | null
  readonly summary: string
}

function describe(
  kid: string,
  provider: Withdrawal | null,
  internal: string | null,
  ctx: AdminContext,
): Done {
  if (provider !== null)
    return {
      kind: 'identity-provider',
      was: provider.was,
      replacedBy: provider.replacedBy,
      summary: `identity provider key ${kid} was removed from the store and the provider`,
    }
  if (internal !== null && internal !== 'peer')
    return {
      kind: 'internal-token',
      was: internal,
      replacedBy: internal === 'active' ? (ctx.internalKeys.active?.kid ?? null) : null,
      summary: `internal-token key ${kid} was withdrawn from this node`,
    }
  return {
    kind: internal === 'peer' ? 'internal-token' : null,
    was: internal,
    replacedBy: null,
    summary: `key ${kid} was left out of this node's JWKS`,
  }
}

function withdrawn(kid: string, done: Done, revoked: boolean, reason: string | null) {
  return keyWithdrawn(kid, {
    key_kind: done.kind,
    was: done.was,
    replaced_by: done.replacedBy,
    revoked,
    reason,
  })
}

/** Both kinds of keys, as GET /signing-keys shows them (epoch seconds, as the admin API's entities). */
async function listAll(ctx: AdminContext): Promise<Record<string, unknown>[]> {
  const provider = (await ctx.identity()?.listKeys()) ?? []
  return [
    ...provider.map((k) => ({ kind: 'identity-provider', ...k })),
    ...ctx.internalKeys.list().map((k) => ({ kind: 'internal-token', node: 'this', ...k })),
    ...ctx.internalKeys
      .peers()
      .map((k) => ({ kind: 'internal-token', node: 'other', ...k, state: 'published' })),
  ]
}

function parse(raw: Buffer): z.output<typeof keyRevocationBody> | GatehouseError {
  return raw.length === 0 ? {} : parseJsonBody(raw, keyRevocationBody)
}
