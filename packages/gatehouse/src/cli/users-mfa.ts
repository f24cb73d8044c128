/**
 * `gatehouse users mfa ...`: a user's second factors in the store (identity/manage/factors.ts, which the
 * admin API uses too): list them (never a secret), reset them (a lost device: every factor and recovery
 * code goes, the user enrols again where a policy requires it), set the user's own policy. List and reset
 * are for every user, the file's too; set is refused for a user the file declares (its policy is
 * `identity.users[i].mfa` there). Reset and set are audited.
 */
import { parseArgs } from 'node:util'
import { userTarget } from '../identity/manage/audit.ts'
import { factorsOf, resetFactors, setUserMfa } from '../identity/manage/factors.ts'
import { IdentityChangeRefused } from '../identity/manage/refusal.ts'
import { findUser } from '../identity/manage/users.ts'
import type { MfaPolicy, StoredUser } from '../storage/store.ts'
import { auditCli } from './lib/audit.ts'
import { CommandFailure, UsageError } from './lib/errors.ts'
import { plural, printTable, say } from './lib/output.ts'
import {
  CONFIG_OPTION,
  configFileFrom,
  managedMessage,
  type StoreCommandContext,
  splitSubcommand,
  withStore,
} from './lib/store-command.ts'

const SUBCOMMANDS = 'list, reset, set'
const POLICIES: readonly string[] = ['off', 'optional', 'required', 'none']

export async function usersMfaCommand(args: string[]): Promise<number> {
  const [sub, rest] = splitSubcommand(args)
  switch (sub) {
    case 'list':
      return onUser(rest, sub, 1, async ({ store }, user) => {
        const view = await factorsOf(store, user)
        if (view.data.length === 0) say(`'${user.username}' has no second factor`)
        else
          printTable(
            ['ID', 'KIND', 'NAME', 'CREATED', 'LAST USED', 'CREDENTIAL'],
            view.data.map((f) => [
              String(f['id']),
              String(f['kind']),
              String(f['name']),
              time(f['created_at']),
              time(f['last_used_at']),
              // A passkey's fingerprint (never its id or key); an app has none.
              String((f['passkey'] as { credential?: string } | undefined)?.credential ?? '-'),
            ]),
          )
        say(`recovery codes left: ${view.recovery_codes_left}; own policy: ${view.mfa ?? 'none'}`)
      })
    case 'reset':
      return onUser(rest, sub, 1, async (ctx, user) => {
        const removed = await resetFactors(ctx.store, user)
        await auditCli(ctx, {
          action: 'user.mfa_reset',
          target: userTarget(user),
          detail: { factors_removed: removed },
        })
        say(`removed ${plural(removed, 'second factor')} and the recovery codes of '${user.username}'`)
      })
    case 'set':
      return onUser(rest, sub, 2, async (ctx, user, policy) => {
        if (!POLICIES.includes(policy!))
          throw new UsageError(
            `users mfa set: policy '${policy}' must be one of ${POLICIES.join(', ')}`,
            false,
          )
        const mfa = policy === 'none' ? null : (policy as MfaPolicy)
        try {
          await setUserMfa(ctx.store, ctx.config.settings.identity, user, mfa)
        } catch (err) {
          if (!(err instanceof IdentityChangeRefused)) throw err
          throw new CommandFailure(
            err.kind === 'managed' ? managedMessage(err.what, ctx.configFile) : err.message,
          )
        }
        await auditCli(ctx, { action: 'user.mfa_policy_set', target: userTarget(user), detail: { mfa } })
        say(`mfa policy of '${user.username}' ${mfa === null ? 'cleared' : `set to ${mfa}`}`)
      })
    default:
      throw new UsageError(
        sub === undefined
          ? `users mfa needs a command (${SUBCOMMANDS})`
          : `unknown users mfa command '${sub}' (expected: ${SUBCOMMANDS})`,
      )
  }
}

const time = (value: unknown) => (typeof value === 'number' ? new Date(value * 1000).toISOString() : '-')

async function onUser(
  args: string[],
  sub: string,
  count: 1 | 2,
  run: (ctx: StoreCommandContext, user: StoredUser, policy?: string) => Promise<void>,
): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONFIG_OPTION, allowPositionals: true })
  if (positionals.length !== count)
    throw new UsageError(
      `users mfa ${sub} takes ${count === 1 ? 'exactly one USERNAME' : 'a USERNAME and a POLICY'}`,
    )
  return withStore(configFileFrom(values.config, `users mfa ${sub}`), async (ctx) => {
    const user = await findUser(ctx.store, positionals[0]!)
    if (user === undefined) throw new CommandFailure(`no user '${positionals[0]}'`)
    await run(ctx, user, positionals[1])
    return 0
  })
}
