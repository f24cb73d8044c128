/**
 * `--reason` and `--ttl` of the commands that record a revocation (`revoke`, `keys revoke`), held to the
 * admin API's rules (admin/revocations.ts): a reason of 1-512 characters without control characters, a
 * whole number of seconds up to MAX_REVOCATION_TTL.
 */
import { MAX_REVOCATION_TTL } from '../../redis/revocation.ts'
import { UsageError } from './errors.ts'

export interface RevocationOptions {
  readonly reason: string | null
  readonly ttl: number | undefined
}

export function revocationOptions(values: {
  reason?: string | undefined
  ttl?: string | undefined
}): RevocationOptions {
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl)
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_REVOCATION_TTL))
    throw new UsageError(`--ttl must be a whole number of seconds from 1 to ${MAX_REVOCATION_TTL}`, false)
  const reason = values.reason ?? null
  if (reason !== null && (reason === '' || reason.length > 512 || /\p{Cc}/u.test(reason)))
    throw new UsageError('--reason must be 1-512 characters without control characters', false)
  return { reason, ttl }
}
