/**
 * `gatehouse users sessions USERNAME` and `gatehouse users signout USERNAME` (issue 14): a user's
 * provider sessions, and "sign out everywhere" from the command line: every artefact of the account out
 * of the store, and a subject revocation straight in the configuration's Redis (as `gatehouse revoke`),
 * so internal tokens and gateway sessions end on every node too. Allowed for the file's users as well.
 * A sign-out is audited.
 */
import { parseArgs } from 'node:util'
import { userTarget } from '../identity/manage/audit.ts'
import { listSessions } from '../identity/manage/sessions.ts'
import { findUser } from '../identity/manage/users.ts'
import { createLoggers } from '../observability/logger.ts'
import { acquireRedis } from '../redis/connections.ts'
import { newRevocation } from '../redis/revocation.ts'
import { storeRevocation } from '../redis/revocation-redis.ts'
import { auditCli } from './lib/audit.ts'
import { CommandFailure, UsageError } from './lib/errors.ts'
import { printTable, say } from './lib/output.ts'
import { revocationOptions } from './lib/revocation-options.ts'
import { CONFIG_OPTION, configFileFrom, withStore } from './lib/store-command.ts'

const when = (s: number | null) => (s === null ? '-' : new Date(s * 1000).toISOString())

export async function userSessions(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONFIG_OPTION, allowPositionals: true })
  if (positionals.length !== 1) throw new UsageError('users sessions takes exactly one USERNAME')
  const username = positionals[0]!
  return withStore(configFileFrom(values.config, 'users sessions'), async ({ store }) => {
    const user = await findUser(store, username)
    if (user === undefined) throw new CommandFailure(`no user '${username}'`)
    const sessions = await listSessions(store, user.id)
    if (sessions.length === 0) say(`'${user.username}' has no sessions`)
    else
      printTable(
        ['SESSION', 'SIGNED IN', 'FROM', 'METHODS', 'CLIENTS', 'EXPIRES'],
        sessions.map((s) => [
          s.uid,
          when(s.login_at),
          s.last_ip ?? '-',
          s.amr.join(',') || '-',
          s.clients.join(',') || '-',
          when(s.expires_at),
        ]),
      )
    return 0
  })
}

export async function signOutUser(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...CONFIG_OPTION, reason: { type: 'string' } },
    allowPositionals: true,
  })
  if (positionals.length !== 1) throw new UsageError('users signout takes exactly one USERNAME')
  const { reason } = revocationOptions(values)
  const username = positionals[0]!
  return withStore(configFileFrom(values.config, 'users signout'), async (ctx) => {
    const { store, config, configFile } = ctx
    const user = await findUser(store, username)
    if (user === undefined) throw new CommandFailure(`no user '${username}'`)
    const redis = config.settings.redis
    const why = reason ?? 'signed out everywhere (CLI)'
    let revoked = false
    if (redis !== null) {
      const lease = acquireRedis(redis, createLoggers({ level: 'silent' }).logger)
      try {
        await lease.usable()
        await storeRevocation(
          lease.client,
          redis,
          newRevocation({ kind: 'subject', id: user.id, reason: why }),
        )
        revoked = true
      } catch (err) {
        throw new CommandFailure(
          `cannot reach ${lease.target}: ${(err as Error).message}; nothing was signed out`,
        )
      } finally {
        await lease.release()
      }
    }
    const sessions = (await listSessions(store, user.id)).length
    const deleted = await store.oidc.deleteByAccount(user.id)
    await auditCli(ctx, {
      action: 'user.signed_out',
      target: userTarget(user),
      detail: { sessions_ended: sessions, artefacts_deleted: deleted, subject_revoked: revoked, reason: why },
    })
    say(`signed '${user.username}' out everywhere (${deleted} sessions, grants and tokens deleted)`)
    if (!revoked)
      say(
        `${configFile} has no redis section: tokens already issued and gateway sessions end only through POST /identity/users/${user.username}/signout on each node's admin API`,
      )
    return 0
  })
}
