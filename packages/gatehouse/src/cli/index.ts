/**
 * The `gatehouse` command line: the table of command families, and how failures are reported. Every
 * failure prints one clear message to stderr and exits non-zero: 2 for a wrong command line (a bad
 * option value included: the message, the usage line of the command and where its --help is, never the
 * whole manual), 1 for a configuration that cannot be used (one `FILE: path: message` line
 * per problem), a port that cannot be bound, or a request the store refuses. Each family is its own
 * module, loaded only when used, so `gatehouse --version` does not load SQLite.
 */

import { closest } from '../config/did-you-mean.ts'
import { ConfigError } from '../errors/errors.ts'
import { StoreError } from '../storage/store.ts'
import { VERSION } from '../version.ts'
import { commandNamed, FAMILIES, subcommandsOf } from './commands.ts'
import { CommandFailure, isArgError, UsageError } from './lib/errors.ts'
import { commandHelp, familyHelp, overview, usageError } from './lib/help.ts'
import { plural } from './lib/output.ts'
import { splitSubcommand } from './lib/store-command.ts'

/** Runs the command; resolves to its exit code, or -1 when it keeps running (`start`). */
type Command = (args: string[]) => Promise<number>

/** Command families by their first word. A new family is one module and one line here. */
const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  start: async () => (await import('./start.ts')).startCommand,
  config: async () => (await import('./config.ts')).configCommand,
  migrate: async () => (await import('./migrate.ts')).migrateCommand,
  users: async () => (await import('./users.ts')).usersCommand,
  clients: async () => (await import('./clients.ts')).clientsCommand,
  keys: async () => (await import('./keys.ts')).keysCommand,
  identity: async () => (await import('./identity.ts')).identityCommand,
  revoke: async () => (await import('./revoke.ts')).revokeCommand,
  audit: async () => (await import('./audit.ts')).auditCommand,
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  // The command (`start`, `users add`) a usage error names, once the words so far are known.
  let name: string | undefined
  try {
    switch (command) {
      case '--version':
      case '-v':
      case 'version':
        process.stdout.write(`gatehouse ${VERSION}\n`)
        return 0
      case undefined:
        process.stderr.write(`${overview()}\n`)
        return 2
      case '--help':
      case '-h':
        process.stdout.write(`${overview()}\n`)
        return 0
      case 'help':
        return help(rest)
    }
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined
    if (load === undefined) throw new UsageError(unknown('command', command, Object.keys(COMMANDS)))
    name = command
    const subs = subcommandsOf(command)
    if (subs.length > 0) {
      const [sub] = splitSubcommand(rest)
      if (sub === undefined) {
        if (wantsHelp(rest)) return printHelp([command])
        throw new UsageError(`${command} needs a command (${subs.join(', ')})`)
      }
      if (!subs.includes(sub)) throw new UsageError(unknown(`${command} command`, sub, subs))
      name = `${command} ${sub}`
    }
    if (wantsHelp(rest)) return printHelp(name.split(' '))
    return await (await load())(rest)
  } catch (err) {
    return reportFailure(err, command, name)
  }
}

/** `--help` or `-h` anywhere before a `--` (after which words are arguments). */
function wantsHelp(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false
    if (arg === '--help' || arg === '-h') return true
  }
  return false
}

/** `gatehouse help [COMMAND [SUBCOMMAND]]`. */
function help(words: readonly string[]): number {
  const [family, sub] = words
  if (family === undefined) {
    process.stdout.write(`${overview()}\n`)
    return 0
  }
  if (!Object.hasOwn(FAMILIES, family))
    throw new UsageError(unknown('command', family, Object.keys(FAMILIES)))
  const subs = subcommandsOf(family)
  if (sub !== undefined && !subs.includes(sub))
    throw new UsageError(
      subs.length === 0 ? `${family} has no commands of its own` : unknown(`${family} command`, sub, subs),
    )
  return printHelp(sub === undefined ? [family] : [family, sub])
}

function printHelp(words: readonly string[]): number {
  const command = commandNamed(words.join(' '))
  process.stdout.write(`${command !== undefined ? commandHelp(command) : familyHelp(words[0]!)}\n`)
  return 0
}

/** `unknown users command 'ad' (did you mean 'add'?)`, or the choices when nothing is close. */
function unknown(what: string, word: string, known: readonly string[]): string {
  const hint = closest(word, known)
  return `unknown ${what} '${word}' (${hint !== undefined ? `did you mean '${hint}'?` : `expected: ${known.join(', ')}`})`
}

/**
 * node:util parseArgs's messages, shortened to one line in our words, with a "did you mean" for a
 * mistyped flag taken from the command's own flags.
 */
function argErrorMessage(err: NodeJS.ErrnoException, name: string | undefined): string {
  const message = err.message
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const option = /^Unknown option '([^']*)'/.exec(message)?.[1] ?? message
    const flags = [...(commandNamed(name ?? '')?.options.map((o) => o.flag) ?? []), '--help']
    const hint = option.startsWith('--') ? closest(option, flags) : undefined
    if (hint !== undefined) return `unknown option '${option}' (did you mean '${hint}'?)`
    // A short option we never define: most likely a value that starts with '-' (a key id is base64url,
    // and 1 in 64 begins with one), which parseArgs reads as flags. `--` ends the options.
    if (!option.startsWith('--'))
      return `unknown option '${option}' (a value that starts with '-', such as a key id, goes after '--': gatehouse keys revoke -- -KID)`
    return `unknown option '${option}'`
  }
  const missing = /^Option '(?:-\w, )?(-[\w-]+)(?: <value>)?' argument missing/.exec(message)
  if (missing) return `option '${missing[1]}' needs a value`
  const positional = /^Unexpected argument '([^']*)'/.exec(message)
  if (positional) return `unexpected argument '${positional[1]}'`
  return message.charAt(0).toLowerCase() + message.slice(1)
}

function reportFailure(err: unknown, command: string | undefined, name: string | undefined): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`)
    const found =
      err.code === 'GH_ERR_CONFIG_UNREADABLE'
        ? 'the configuration cannot be read'
        : `${plural(err.issues.length, 'problem')} in the configuration`
    process.stderr.write(`gatehouse: ${command === 'start' ? `${found}; nothing was started` : found}\n`)
    return 1
  }
  if (err instanceof UsageError && !err.showUsage) {
    process.stderr.write(`gatehouse: ${err.message}\n`)
    return 2
  }
  if (err instanceof UsageError) {
    process.stderr.write(usageError(err.message, name))
    return 2
  }
  if (isArgError(err)) {
    process.stderr.write(usageError(argErrorMessage(err as NodeJS.ErrnoException, name), name))
    return 2
  }
  if (err instanceof CommandFailure || err instanceof StoreError) {
    process.stderr.write(`gatehouse: ${err.message}\n`)
    return 1
  }
  if (err instanceof TypeError && /listen address|malformed plugins/.test(err.message)) {
    process.stderr.write(`gatehouse: ${err.message}\n`)
    // A malformed plugin is a broken installation, not a wrong command line.
    return err.message.startsWith('malformed plugins') ? 1 : 2
  }
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number }
    process.stderr.write(`gatehouse: cannot listen on ${e.address}:${e.port}: ${code}\n`)
    return 1
  }
  throw err
}
