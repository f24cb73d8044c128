/**
 * The `gatehouse` command line: the table of command families, and how failures are reported. Every
 * failure prints one clear message to stderr and exits non-zero: 2 for a wrong command line (a bad
 * option value included), 1 for a configuration that cannot be used (one `FILE: path: message` line
 * per problem), a port that cannot be bound, or a request the store refuses. Each family is its own
 * module, loaded only when used, so `gatehouse --version` does not load SQLite.
 */
import { ConfigError } from '../errors/errors.ts'
import { StoreError } from '../storage/store.ts'
import { VERSION } from '../version.ts'
import { CommandFailure, isArgError, UsageError } from './lib/errors.ts'
import { plural } from './lib/output.ts'

const USAGE = `Usage:
  gatehouse start --config FILE [--proxy-listen HOST:PORT|off] [--proxy-tls-listen HOST:PORT]
      [--admin-listen HOST:PORT] [--status-listen HOST:PORT|off] [--workers N|auto]
  gatehouse config check FILE
  gatehouse config convert FILE [--output OUT]
  gatehouse config export [--output FILE]
  gatehouse config import FILE [--dry-run]
  gatehouse migrate
  gatehouse users add USERNAME [--email E] [--role R]... [--claim NAME=VALUE]...
  gatehouse users list
  gatehouse users disable|enable|passwd|unlock|remove USERNAME
  gatehouse clients add CLIENT_ID [--redirect-uri URI]... [--post-logout-redirect-uri URI]...
      [--grant authorization_code|refresh_token|client_credentials]... [--scope S]... [--resource URI]...
      [--public] [--first-party] [--name NAME]
  gatehouse clients list
  gatehouse clients remove CLIENT_ID
  gatehouse keys list
  gatehouse keys rotate [--alg ALG]
  gatehouse keys revoke KID [--reason TEXT] [--ttl SECONDS] [--admin URL]...
  gatehouse identity start --config FILE [--listen HOST:PORT]
  gatehouse revoke --subject SUB|--session ID|--grant ID|--profile SUB|--jwks ISSUER|--key KID
      [--reason TEXT] [--ttl SECONDS]
  gatehouse --version

  migrate, users, clients, keys and config export|import take --config FILE (or GATEHOUSE_CONFIG) for the storage and identity
  settings; revoke takes it for the redis section (every node applies the revocation within a second). users add and users passwd read the password from standard input, never from arguments.
  config convert writes a Kong 1.1/2.1 file as format 3.0 with Kong's 2.x → 3.0 changes, one notice each on
  stderr (to stdout, or to OUT; FILE is replaced only when OUT names it). config export writes the entities as a
  format 3.0 file: DB mode's stored ones, or on a DB-less node its configuration file's own, secrets as that file
  has them (keys and vault references as written; basic-auth passwords as their argon2id hashes).

Environment:
  GATEHOUSE_CONFIG            configuration file (instead of --config)
  GATEHOUSE_PROXY_LISTEN      proxy listen address (default 0.0.0.0:8000), or off
  GATEHOUSE_PROXY_TLS_LISTEN  HTTPS proxy listen address (default 0.0.0.0:8443; needs proxy.tls)
  GATEHOUSE_ADMIN_LISTEN      admin API listen address (default 127.0.0.1:8001)
  GATEHOUSE_ADMIN_TOKEN       bearer token required by the admin API
  GATEHOUSE_STATUS_LISTEN     status listener (/status, /status/ready, /metrics; no token) address, or off
  GATEHOUSE_WORKERS           worker processes for the proxy: a number, or auto (default: one per core)
  GATEHOUSE_LOG_LEVEL         fatal | error | warn | info | debug | trace | silent

Docs: docs/configuration.md, docs/plugins.md, docs/errors.md`

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
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case '--version':
      case '-v':
      case 'version':
        process.stdout.write(`gatehouse ${VERSION}\n`)
        return 0
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`)
        return command === undefined ? 2 : 0
    }
    const load = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined
    if (load === undefined) throw new UsageError(`unknown command '${command}'`)
    return await (await load())(rest)
  } catch (err) {
    return reportFailure(err, command)
  }
}

function reportFailure(err: unknown, command: string | undefined): number {
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
  if (err instanceof UsageError || isArgError(err)) {
    process.stderr.write(`gatehouse: ${(err as Error).message}\n\n${USAGE}\n`)
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
