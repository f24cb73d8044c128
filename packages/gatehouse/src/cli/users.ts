/**
 * `gatehouse users ...`: the identity provider's users in the store. Passwords come from standard input
 * and are stored as argon2id hashes; nothing prints a hash. Users the configuration file declares (or
 * that a load of it wrote, source `config`) belong to the file and are refused here.
 */
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import { identityUser } from '../config/schema/identity.ts'
import { hashPassword } from '../crypto/argon2id.ts'
import { weakPasswordReason } from '../crypto/password-policy.ts'
import type { StoredUser } from '../storage/store.ts'
import { CommandFailure, UsageError } from './lib/errors.ts'
import { nowSeconds, printTable, say } from './lib/output.ts'
import { readPassword } from './lib/read-password.ts'
import {
  CONFIG_OPTION,
  configFileFrom,
  managedMessage,
  type StoreCommandContext,
  splitSubcommand,
  withStore,
} from './lib/store-command.ts'

const SUBCOMMANDS = 'add, list, disable, enable, passwd, unlock, remove'

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
        await ctx.store.users.update(user.id, { disabled: sub === 'disable', updated_at: nowSeconds() })
        say(`user '${user.username}' ${sub}d`)
      })
    case 'passwd':
      return changeUser(rest, sub, async (ctx, user) => {
        const password_hash = hashPassword(await newPassword(user.username, user.email))
        await ctx.store.users.update(user.id, { password_hash, updated_at: nowSeconds() })
        say(`password of '${user.username}' changed`)
      })
    case 'remove':
      return changeUser(rest, sub, async (ctx, user) => {
        await ctx.store.users.remove(user.id)
        say(`user '${user.username}' removed`)
      })
    case 'unlock':
      return unlockUser(rest)
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
  const { username, email = null, roles, claims } = parsed.data
  const configFile = configFileFrom(values.config, 'users add')

  return withStore(configFile, async (ctx) => {
    if (declaredInFile(ctx, username))
      throw new CommandFailure(managedMessage(`user '${username}'`, configFile))
    // Checked before asking for the password; the insert checks again.
    if (await ctx.store.users.findByUsername(username))
      throw new CommandFailure(`username '${username}' is already taken`)
    if (email !== null && (await ctx.store.users.findByEmail(email)))
      throw new CommandFailure(`e-mail address '${email}' is already taken`)
    const password_hash = hashPassword(await newPassword(username, email))
    const now = nowSeconds()
    const user: StoredUser = {
      id: randomUUID(),
      username,
      email,
      password_hash,
      roles,
      claims,
      disabled: false,
      source: 'cli',
      created_at: now,
      updated_at: now,
    }
    await ctx.store.users.insert(user)
    say(`user '${username}' added (id ${user.id})`)
    return 0
  })
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
  return withStore(configFile, async (ctx) => {
    // The file decides, whether or not a load of it has written the user to the store yet.
    if (declaredInFile(ctx, username))
      throw new CommandFailure(managedMessage(`user '${username}'`, configFile))
    const user = await ctx.store.users.findByUsername(username)
    if (user === undefined) throw new CommandFailure(`no user '${username}'`)
    if (user.source === 'config')
      throw new CommandFailure(managedMessage(`user '${user.username}'`, configFile))
    await change(ctx, user)
    return 0
  })
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
  return withStore(configFileFrom(values.config, 'users unlock'), async ({ store }) => {
    const key = `user:${username.toLowerCase()}`
    const state = await store.throttle.get(key)
    await store.throttle.clear(key)
    say(
      state === undefined
        ? `'${username}' has no failed logins or lock to clear`
        : `cleared the failed logins and lock of '${username}'`,
    )
    return 0
  })
}

async function newPassword(username: string, email: string | null): Promise<string> {
  const password = await readPassword(`Password for '${username}': `)
  const weak = weakPasswordReason(password, { username, email })
  if (weak !== undefined) throw new CommandFailure(`password refused: ${weak}`)
  return password
}

function declaredInFile({ config }: StoreCommandContext, username: string): boolean {
  const key = username.toLowerCase()
  return config.settings.identity.users.some((u) => u.username.toLowerCase() === key)
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
