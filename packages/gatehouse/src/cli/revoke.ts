/**
 * `gatehouse revoke`: revokes a subject (every token and session issued to the user until now), a
 * session, a grant (a refresh-token family of the built-in provider), a cached profile, an issuer's
 * cached keys (JWKS) or a signing key by kid (`gatehouse keys revoke` is the checked way for the
 * gateway's own keys), straight in the
 * Redis of the configuration's top-level `redis` section, so every running node applies it within a
 * second without an admin API call (the same as `POST /revocations`). A configuration without that
 * section keeps revocations in each node's memory: use the admin API of the node instead.
 */
import { parseArgs } from 'node:util'
import { loadConfigFile } from '../config/load.ts'
import { revocationAdded } from '../identity/manage/audit.ts'
import { createLoggers } from '../observability/logger.ts'
import { loadBundledPlugins } from '../plugins/registry.ts'
import { acquireRedis } from '../redis/connections.ts'
import { newRevocation, type RevocationKind } from '../redis/revocation.ts'
import { storeRevocation } from '../redis/revocation-redis.ts'
import { auditCliOpening } from './lib/audit.ts'
import { CommandFailure, UsageError } from './lib/errors.ts'
import { say } from './lib/output.ts'
import { revocationOptions } from './lib/revocation-options.ts'
import { configFileFrom } from './lib/store-command.ts'

const KINDS: readonly RevocationKind[] = ['subject', 'session', 'grant', 'profile', 'jwks', 'key']

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  subject: { type: 'string' },
  session: { type: 'string' },
  grant: { type: 'string' },
  profile: { type: 'string' },
  jwks: { type: 'string' },
  key: { type: 'string' },
  reason: { type: 'string' },
  ttl: { type: 'string' },
} as const

export async function revokeCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true })
  if (positionals.length > 0) throw new UsageError('revoke takes no arguments besides its options')
  const named = KINDS.filter((k) => values[k] !== undefined)
  if (named.length !== 1)
    throw new UsageError(
      'revoke needs exactly one of --subject, --session, --grant, --profile, --jwks or --key',
    )
  const kind = named[0]!
  const id = values[kind]!
  if (id === '' || id.length > 1024 || /\p{Cc}/u.test(id))
    throw new UsageError(`--${kind} must be 1-1024 characters without control characters`)
  const { reason, ttl } = revocationOptions(values)

  const file = configFileFrom(values.config, 'revoke')
  const config = await loadConfigFile(file, { registry: await loadBundledPlugins() })
  const settings = config.settings.redis
  if (settings === null)
    throw new CommandFailure(
      `${file} has no redis section: revocations live in each node's memory; use POST /revocations on the node's admin API`,
    )
  const lease = acquireRedis(settings, createLoggers({ level: 'silent' }).logger)
  try {
    const r = newRevocation({ kind, id, reason, ttl })
    try {
      await lease.usable()
      await storeRevocation(lease.client, settings, r)
    } catch (err) {
      throw new CommandFailure(`cannot reach ${lease.target}: ${(err as Error).message}; nothing was revoked`)
    }
    await auditCliOpening(config, revocationAdded(r))
    say(`revoked ${kind} ${id} (kept until ${new Date(r.until).toISOString()})`)
    return 0
  } finally {
    await lease.release()
  }
}
