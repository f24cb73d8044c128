/**
 * Revocations on the admin API (issue 7), taking effect on every node within a second when the
 * configuration has a top-level `redis` section, on this node only without one:
 *   POST /revocations  one of `{"subject": "u-alice"}` (every token and session issued to the user until
 *                      now), `{"session": "<session_id>"}` (one browser session), `{"grant": "<grant id>"}`
 *                      (a refresh-token family of the built-in provider), `{"profile": "u-alice"}` (cached
 *                      user-info answers are asked again; nothing is refused), `{"jwks": "<issuer>"}` (the
 *                      issuer's keys are fetched again, and tokens verified with the old ones verified
 *                      again: a withdrawn key stops working at once), `{"key": "<kid>"}` (every
 *                      verifier refuses what the key signed, of any issuer; the node owning it drops it:
 *                      admin/keys.ts is the checked way for the gateway's own keys); optional `reason`
 *                      and `ttl` (seconds kept, default 30 days). 201 with the revocation; 503
 *                      GH_ERR_REVOCATION_UNAVAILABLE when Redis cannot be reached (nothing was revoked).
 *                      Each is audited (identity-audit.ts; in the store while the identity provider runs).
 *   GET  /revocations  the most recent (`?limit=`, default 100, at most 1000), newest first, and whether
 *                      this node is in step with Redis.
 */
import { z } from 'zod'
import { GatehouseError } from '../errors/errors.ts'
import { revocationAdded } from '../identity/manage/audit.ts'
import { MAX_REVOCATION_TTL, type Revocation } from '../redis/revocation.ts'
import { acquireRevocations } from '../redis/revocation-leases.ts'
import { type AdminHandler, parseJsonBody, readBody, sendError, sendJson } from './http.ts'
import { audited } from './identity-audit.ts'

const KINDS = ['subject', 'session', 'grant', 'profile', 'jwks', 'key'] as const

/** A free text field of at most `max` characters, none of them control characters. */
const printable = (max: number) =>
  z
    .string()
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .regex(/^[^\p{Cc}]*$/u, { error: 'must not contain control characters' })

/** `reason` and `ttl` (seconds kept), as every revocation takes them (also POST /signing-keys/{kid}/revoke). */
export const REVOCATION_OPTIONS = {
  reason: printable(512).optional(),
  ttl: z
    .int({ error: 'must be a whole number of seconds' })
    .min(1)
    .max(MAX_REVOCATION_TTL, { error: `must be at most ${MAX_REVOCATION_TTL} seconds` })
    .optional(),
}

/** The body of `POST /revocations` (routes.ts documents it from this schema). */
export const revocationBody = z
  .strictObject({
    subject: printable(1024).optional(),
    session: printable(1024).optional(),
    grant: printable(1024).optional(),
    profile: printable(1024).optional(),
    jwks: printable(1024).optional(),
    key: printable(1024).optional(),
    ...REVOCATION_OPTIONS,
  })
  .refine((b) => KINDS.filter((k) => b[k] !== undefined).length === 1, {
    error: 'name exactly one of subject, session, grant, profile, jwks or key',
  })

/** A revocation as the admin API shows it: epoch seconds, as Kong's entities. */
export function presentRevocation(r: Revocation): Record<string, unknown> {
  return {
    kind: r.kind,
    id: r.id,
    revoked_at: Math.floor(r.at / 1000),
    expires_at: Math.floor(r.until / 1000),
    reason: r.reason,
  }
}

/** `GET /revocations`: the most recent, newest first, and whether this node is in step with Redis. */
export const listRevocations: AdminHandler = async (ctx, a, env) => {
  const limit = limitOf(a.query.get('limit'))
  if (limit instanceof GatehouseError) return sendError(a.res, limit)
  const lease = acquireRevocations(ctx.config().settings.redis, env.logger)
  try {
    const { revocations } = lease
    await revocations.settled()
    sendJson(a.res, 200, { data: revocations.recent(limit).map(presentRevocation), ...revocations.status() })
  } finally {
    await lease.release()
  }
}

/** `POST /revocations`: one revocation, on every node when Redis is configured. */
export const createRevocation: AdminHandler = async (ctx, a, env) => {
  const { logger } = env
  const request = parse(await readBody(a.req, env.maxBodySize))
  if (request instanceof GatehouseError) return sendError(a.res, request)
  const lease = acquireRevocations(ctx.config().settings.redis, logger)
  try {
    let made: Revocation
    try {
      made = await lease.revocations.revoke(request)
    } catch (err) {
      logger.warn({ err: (err as Error)?.message ?? String(err) }, 'revocation refused: redis unavailable')
      a.res.setHeader('retry-after', '1')
      sendError(
        a.res,
        new GatehouseError(
          'GH_ERR_REVOCATION_UNAVAILABLE',
          'The shared revocations (Redis) cannot be reached; nothing was revoked',
        ),
      )
      return
    }
    await audited(ctx, a, env, revocationAdded(made))
    sendJson(a.res, 201, { data: presentRevocation(made) })
  } finally {
    await lease.release()
  }
}

function limitOf(value: string | null): number | GatehouseError {
  if (value === null) return 100
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    return new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'limit must be a whole number from 1 to 1000')
  return n
}

type Parsed = { kind: Revocation['kind']; id: string; reason: string | null; ttl: number | undefined }

function parse(raw: Buffer): Parsed | GatehouseError {
  const b = parseJsonBody(raw, revocationBody)
  if (b instanceof GatehouseError) return b
  const kind = KINDS.find((k) => b[k] !== undefined)!
  return { kind, id: b[kind]!, reason: b.reason ?? null, ttl: b.ttl }
}
