/**
 * `gatehouse users ...`: the identity provider's users in the store. Passwords come from standard input
 * and are stored as argon2id hashes; nothing prints a hash. Users the configuration file declares (or
 * that a load of it wrote, source `config`) belong to the file and are refused here. The checks and the
 * writes are identity/manage/users.ts, which the admin API uses too. Each change is audited
 * (cli/lib/audit.ts).
 */
import { parseArgs } from 'node:util'
import { identityUser } from '../config/schema/identity.ts'
import { hashPassword } from '../crypto/argon2id.ts'
import { linksOf, signInLeft, unlink } from '../identity/broker/links.ts'
import { userTarget } from '../identity/manage/audit.ts'
import { IdentityChangeRefused } from '../identity/manage/refusal.ts'
import {
  changeableUser,
  checkAvailable,
  createUser,
  findUser,
  passwordProblem,
  removeUser,
  setDisabled,
  setPasswordHash,
  unlock,
} from '../identity/manage/users.ts'
import type { StoredUser } from '../storage/store.ts'
import { auditCli } from './lib/audit.ts'
import { CommandFailure, UsageError } from './lib/errors.ts'
import { printTable, say } from './lib/output.ts'
import { readPassword } from './lib/read-password.ts'
import {
  CONFIG_OPTION,
  configFileFrom,
  managedMessage,
  type StoreCommandContext,
  splitSubcommand,
  withStore,
} from './lib/store-command.ts'

const SUBCOMMANDS =
  'add, list, disable, enable, passwd, unlock, remove, mfa, sessions, signout, links, unlink'

export async function usersCommand(args: string[]): Promise<number> {
  const [sub, rest] = splitSubcommand(args)
  switch (sub) {
    case 'add':
      return addUser(rest)
    case 'list':
      return listUsers(rest)
    case 'disable':
    case 'enable':
      return changeUser(rest, sub, async (ctx, user) => {
        await setDisabled(ctx.store, user, sub === 'disable')
        await auditCli(ctx, {
          action: sub === 'disable' ? 'user.disabled' : 'user.enabled',
          target: userTarget(user),
          detail: {},
        })
        say(`user '${user.username}' ${sub}d`)
      })
    case 'passwd':
      return changeUser(rest, sub, async (ctx, user) => {
        await setPasswordHash(ctx.store, user, hashPassword(await newPassword(user.username, user.email)))
        await auditCli(ctx, { action: 'user.password_changed', target: userTarget(user), detail: {} })
        say(`password of '${user.username}' changed`)
      })
    case 'remove':
      return changeUser(rest, sub, async (ctx, user) => {
        await removeUser(ctx.store, user)
        await auditCli(ctx, { action: 'user.removed', target: userTarget(user), detail: {} })
        say(`user '${user.username}' removed`)
      })
    case 'unlock':
      return unlockUser(rest)
    // Loaded on use: passkeys and Redis cost the other commands a third of their start-up.
    case 'mfa':
      return (await import('./users-mfa.ts')).usersMfaCommand(rest)
    case 'links':
      return listLinks(rest)
    case 'unlink':
      return unlinkUser(rest)
    case 'sessions':
      return (await import('./users-sessions.ts')).userSessions(rest)
    case 'signout':
      return (await import('./users-sessions.ts')).signOutUser(rest)
    default:
      throw new UsageError(
        sub === undefined
          ? `users needs a command (${SUBCOMMANDS})`
          : `unknown users command '${sub}' (expected: ${SUBCOMMANDS})`,
      )
  }
}

async function addUser(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...CONFIG_OPTION,
      email: { type: 'string' },
      role: { type: 'string', multiple: true },
      claim: { type: 'string', multiple: true },
    },
    allowPositionals: true,
  })
  if (positionals.length !== 1) throw new UsageError('users add takes exactly one USERNAME')
  const input = {
    username: positionals[0]!,
    ...(values.email !== undefined && { email: values.email }),
    password: '',
    roles: values.role ?? [],
    claims: claimsFrom(values.claim ?? []),
  }
  // The same rules as users in the file (identity.users), each problem named by its option.
  const parsed = identityUser.safeParse(input)
  if (!parsed.success)
    throw new UsageError(
      parsed.error.issues
        .map((i) => {
          // A claim name's own rule is nested in zod's generic "Invalid key in record".
          const message = i.code === 'invalid_key' ? (i.issues[0]?.message ?? i.message) : i.message
          return describeIssue(i.path, message, input)
        })
        .join('; '),
      false,
    )
  const user = parsed.data
  const configFile = configFileFrom(values.config, 'users add')

  return withStore(configFile, (ctx) =>
    refusedAsFailure(configFile, async () => {
      const { config, store } = ctx
      // Checked before asking for the password; createUser checks again.
      await checkAvailable(store, config.settings.identity, user)
      const hash = hashPassword(await newPassword(user.username, user.email ?? null))
      const added = await createUser(store, config.settings.identity, user, hash)
      await auditCli(ctx, {
        action: 'user.added',
        target: userTarget(added),
        detail: { roles: added.roles.join(','), disabled: added.disabled },
      })
      say(`user '${user.username}' added (id ${added.id})`)
      return 0
    }),
  )
}

async function listUsers(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONFIG_OPTION, allowPositionals: true })
  if (positionals.length > 0) throw new UsageError('users list takes no arguments')
  return withStore(configFileFrom(values.config, 'users list'), async ({ store }) => {
    const users = await store.users.list()
    if (users.length === 0) say('no users')
    else
      printTable(
        ['USERNAME', 'EMAIL', 'ROLES', 'DISABLED', 'SOURCE'],
        users.map((u) => [
          u.username,
          u.email ?? '-',
          u.roles.join(',') || '-',
          u.disabled ? 'yes' : 'no',
          u.source,
        ]),
      )
    return 0
  })
}

/** A change to one CLI-managed user, named by username: refused for unknown and config-managed users. */
async function changeUser(
  args: string[],
  sub: string,
  change: (ctx: StoreCommandContext, user: StoredUser) => Promise<void>,
): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONFIG_OPTION, allowPositionals: true })
  if (positionals.length !== 1) throw new UsageError(`users ${sub} takes exactly one USERNAME`)
  const configFile = configFileFrom(values.config, `users ${sub}`)
  const username = positionals[0]!
  return withStore(configFile, (ctx) =>
    refusedAsFailure(configFile, async () => {
      const user = await changeableUser(ctx.store, ctx.config.settings.identity, username, { byId: false })
      await change(ctx, user)
      return 0
    }),
  )
}

/** The shared checks' refusals as this command's failures, naming the file for a user it manages. */
async function refusedAsFailure(configFile: string, run: () => Promise<number>): Promise<number> {
  try {
    return await run()
  } catch (err) {
    if (!(err instanceof IdentityChangeRefused)) throw err
    throw new CommandFailure(err.kind === 'managed' ? managedMessage(err.what, configFile) : err.message)
  }
}

/**
 * Clears the login throttle of a username (its failure count and any lock). Allowed for every user,
 * config-managed ones too: it changes no user, and the username need not exist (failed logins are
 * counted for unknown names too, so that a lock does not tell which names exist).
 */
async function unlockUser(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONFIG_OPTION, allowPositionals: true })
  if (positionals.length !== 1) throw new UsageError('users unlock takes exactly one USERNAME')
  const username = positionals[0]!
  return withStore(configFileFrom(values.config, 'users unlock'), async (ctx) => {
    const cleared = await unlock(ctx.store, username)
    if (cleared) {
      const user = await findUser(ctx.store, username)
      await auditCli(ctx, {
        action: 'user.unlocked',
        target: { type: 'user', id: user?.id ?? null, name: user?.username ?? username },
        detail: {},
      })
    }
    say(
      cleared
        ? `cleared the failed logins and lock of '${username}'`
        : `'${username}' has no failed logins or lock to clear`,
    )
    return 0
  })
}

/** A user's links to external providers (any user: links are not in the file). */
async function listLinks(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONFIG_OPTION, allowPositionals: true })
  if (positionals.length !== 1) throw new UsageError('users links takes exactly one USER')
  const reference = positionals[0]!
  return withStore(configFileFrom(values.config, 'users links'), async ({ store, config }) => {
    const user = await findUser(store, reference)
    if (user === undefined) throw new CommandFailure(`no user '${reference}'`)
    const links = await linksOf(store, config.settings.identity, user.id)
    if (links.length === 0) say(`'${user.username}' has no links to external providers`)
    else
      printTable(
        ['PROVIDER', 'SUBJECT', 'EMAIL', 'USERNAME', 'CREATED', 'LAST USED'],
        links.map((l) => [
          l.display_name === null ? `${l.broker} (not configured)` : l.broker,
          l.subject,
          l.email ?? '-',
          l.username ?? '-',
          isoTime(l.created_at),
          l.last_used_at === null ? '-' : isoTime(l.last_used_at),
        ]),
      )
    return 0
  })
}

/** Removes a user's link to one external provider (any user: links are not in the file). */
async function unlinkUser(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONFIG_OPTION, allowPositionals: true })
  if (positionals.length !== 2) throw new UsageError('users unlink takes a USER and a PROVIDER')
  const [reference, broker] = positionals as [string, string]
  return withStore(configFileFrom(values.config, 'users unlink'), async (ctx) => {
    const { store } = ctx
    const user = await findUser(store, reference)
    if (user === undefined) throw new CommandFailure(`no user '${reference}'`)
    if (!(await unlink(store, user, broker)))
      throw new CommandFailure(`user '${user.username}' has no link to '${broker}'`)
    const left = await signInLeft(store, user)
    await auditCli(ctx, {
      action: 'user.link_removed',
      target: userTarget(user),
      detail: { provider: broker, sign_in_left: left },
    })
    say(`link of '${user.username}' to '${broker}' removed`)
    if (!left)
      say(`'${user.username}' has no password and no other link now: set one with gatehouse users passwd`)
    return 0
  })
}

const isoTime = (seconds: number): string => new Date(seconds * 1000).toISOString().slice(0, 19) + 'Z'

async function newPassword(username: string, email: string | null): Promise<string> {
  const password = await readPassword(`Password for '${username}': `)
  const problem = passwordProblem(password, { username, email })
  if (problem !== null) throw new CommandFailure(`password ${problem.message}`)
  return password
}

/** `--claim name=value` options as an object; values stay strings. */
function claimsFrom(options: readonly string[]): Record<string, string> {
  const claims: Record<string, string> = {}
  for (const option of options) {
    const eq = option.indexOf('=')
    if (eq <= 0) throw new UsageError(`--claim '${option}': expected NAME=VALUE`, false)
    const name = option.slice(0, eq)
    if (Object.hasOwn(claims, name)) throw new UsageError(`--claim '${name}': given twice`, false)
    claims[name] = option.slice(eq + 1)
  }
  return claims
}

const FLAGS: Readonly<Record<string, string>> = {
  username: 'USERNAME',
  email: '--email',
  roles: '--role',
  claims: '--claim',
}

function describeIssue(
  path: readonly PropertyKey[],
  message: string,
  input: { username: string; email?: string; roles: string[] },
): string {
  const [field, at] = path
  const flag = FLAGS[String(field)] ?? String(field)
  const value =
    field === 'username'
      ? input.username
      : field === 'email'
        ? input.email
        : field === 'roles' && typeof at === 'number'
          ? input.roles[at]
          : field === 'claims' && at !== undefined
            ? String(at)
            : undefined
  return value === undefined ? `${flag}: ${message}` : `${flag} '${value}': ${message}`
}
