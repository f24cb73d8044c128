/**
 * What every command is, for people: its usage line, what it does, its flags, the variables it reads
 * and an example. `--help`, the short usage errors and the "did you mean" hints all read this table, and
 * the CLI test enumerates it, so a command added without its entry fails there. Data only (nothing is
 * imported), so `gatehouse --help` loads no command module. Over 400 lines because it is the manual.
 */

export interface OptionHelp {
  /** The long flag, `--config`. */
  readonly flag: string
  readonly short?: string
  /** The value's placeholder, `FILE`; none for a boolean flag. */
  readonly value?: string
  /** Whether the flag may be given more than once. */
  readonly repeat?: boolean
  readonly text: string
}

export interface CommandHelp {
  /** The words after `gatehouse`: `start`, `users add`. */
  readonly name: string
  /** The arguments after the name, as the usage line shows them. */
  readonly args: string
  readonly summary: string
  /** Longer explanation, a paragraph per line; optional. */
  readonly details?: readonly string[]
  readonly options: readonly OptionHelp[]
  /** GATEHOUSE_* variables the command reads (described in ENVIRONMENT). */
  readonly env: readonly string[]
  readonly examples: readonly string[]
}

/** Every variable a command reads, and what for. */
export const ENVIRONMENT: Readonly<Record<string, string>> = {
  GATEHOUSE_CONFIG: 'configuration file, when --config is not given',
  GATEHOUSE_PROXY_LISTEN: 'proxy listen address HOST:PORT, or off (default 0.0.0.0:8000)',
  GATEHOUSE_PROXY_TLS_LISTEN: 'HTTPS proxy listen address (default 0.0.0.0:8443; needs proxy.tls)',
  GATEHOUSE_ADMIN_LISTEN: 'admin API listen address (default 127.0.0.1:8001)',
  GATEHOUSE_ADMIN_TOKEN: 'bearer token the admin API requires',
  GATEHOUSE_STATUS_LISTEN: 'status listener (/status, /status/ready, /metrics; no token) address, or off',
  GATEHOUSE_WORKERS: 'proxy worker processes: a number, or auto (one per core)',
  GATEHOUSE_LOG_LEVEL: 'fatal | error | warn | info | debug | trace | silent (default info)',
  GATEHOUSE_LOG_FORMAT: 'json (default: one JSON object per line) | pretty (a human line per record)',
}

const CONFIG: OptionHelp = {
  flag: '--config',
  short: '-c',
  value: 'FILE',
  text: 'the configuration file (or GATEHOUSE_CONFIG)',
}
const STORE_CONFIG: OptionHelp = {
  ...CONFIG,
  text: 'the configuration file whose storage and identity settings are used (or GATEHOUSE_CONFIG)',
}
const REASON: OptionHelp = {
  flag: '--reason',
  value: 'TEXT',
  text: 'why, kept with the revocation (1-512 characters)',
}
const TTL: OptionHelp = {
  flag: '--ttl',
  value: 'SECONDS',
  text: 'how long the revocation is kept (default: the longest token lifetime)',
}
const USERNAME_NOTE =
  'USERNAME is a user the command line added; users the configuration file declares are changed there.'

export const COMMANDS: readonly CommandHelp[] = [
  {
    name: 'start',
    args: '--config FILE [--proxy-listen HOST:PORT|off] [--proxy-tls-listen HOST:PORT] [--admin-listen HOST:PORT] [--status-listen HOST:PORT|off] [--workers N|auto] [--log-format json|pretty]',
    summary: 'run the gateway (proxy, identity provider, admin API) from a configuration file',
    details: [
      'Loads and checks the file (nothing starts when it has a problem), opens the store, and listens. Flags win over the variables, which win over the file. SIGHUP reloads the file; SIGTERM drains and stops.',
      'Logs go to standard output: JSON lines, or human lines with logging.format: pretty (GATEHOUSE_LOG_FORMAT).',
    ],
    options: [
      CONFIG,
      { flag: '--proxy-listen', value: 'HOST:PORT|off', text: 'the proxy listener (default 0.0.0.0:8000)' },
      { flag: '--proxy-tls-listen', value: 'HOST:PORT', text: 'the HTTPS proxy listener (needs proxy.tls)' },
      { flag: '--admin-listen', value: 'HOST:PORT', text: 'the admin API listener (default 127.0.0.1:8001)' },
      { flag: '--status-listen', value: 'HOST:PORT|off', text: 'the status and metrics listener' },
      { flag: '--workers', value: 'N|auto', text: 'proxy worker processes (default auto: one per core)' },
      { flag: '--log-format', value: 'json|pretty', text: 'the log format (default: logging.format, json)' },
    ],
    env: [
      'GATEHOUSE_CONFIG',
      'GATEHOUSE_PROXY_LISTEN',
      'GATEHOUSE_PROXY_TLS_LISTEN',
      'GATEHOUSE_ADMIN_LISTEN',
      'GATEHOUSE_ADMIN_TOKEN',
      'GATEHOUSE_STATUS_LISTEN',
      'GATEHOUSE_WORKERS',
      'GATEHOUSE_LOG_LEVEL',
      'GATEHOUSE_LOG_FORMAT',
    ],
    examples: [
      'gatehouse start --config gatehouse.yaml',
      'GATEHOUSE_LOG_FORMAT=pretty gatehouse start -c kong.yml --workers 1',
    ],
  },
  {
    name: 'config check',
    args: 'FILE | --config FILE',
    summary: 'check a configuration file as start would, without listening',
    details: [
      'Prints FILE: OK with the entity counts and exits 0, or one FILE: path: message line per problem and exits 1.',
    ],
    options: [CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse config check gatehouse.yaml', 'gatehouse config check --config kong.yml'],
  },
  {
    name: 'config convert',
    args: 'FILE [--output OUT]',
    summary: "write a Kong 1.1/2.1 file as format 3.0, with Kong's 2.x to 3.0 changes",
    details: [
      'One notice per change on stderr. YAML keeps its comments and layout. The result goes to stdout, or to OUT; FILE is replaced only when OUT names it.',
    ],
    options: [{ flag: '--output', short: '-o', value: 'OUT', text: 'write the converted file here' }],
    env: [],
    examples: ['gatehouse config convert kong.yml --output kong-3.0.yml'],
  },
  {
    name: 'config export',
    args: '[--output FILE] [--config FILE]',
    summary: 'write the entities as a format 3.0 declarative file',
    details: [
      "DB mode: the stored entities. A DB-less node: its configuration file's own. Secrets as that file has them (basic-auth passwords as argon2id hashes). JSON when FILE ends in .json, else YAML.",
    ],
    options: [
      { flag: '--output', short: '-o', value: 'FILE', text: 'write here instead of stdout' },
      STORE_CONFIG,
    ],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse config export --config gatehouse.yaml --output entities.yaml'],
  },
  {
    name: 'config import',
    args: 'FILE [--dry-run] [--config FILE]',
    summary: "replace the stored entities with a declarative file's, all or nothing",
    options: [{ flag: '--dry-run', text: 'check and show the changes; write nothing' }, STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse config import entities.yaml --dry-run --config gatehouse.yaml'],
  },
  {
    name: 'migrate',
    args: '[--config FILE]',
    summary: "apply the store's pending schema migrations",
    details: [
      'The one way to change a PostgreSQL schema (nodes only check it at start); SQLite also migrates at every start. Safe to run from several places at once.',
    ],
    options: [STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse migrate --config gatehouse.yaml'],
  },
  {
    name: 'users add',
    args: 'USERNAME [--email E] [--role R]... [--claim NAME=VALUE]... [--config FILE]',
    summary: "add a user to the identity provider's store",
    details: [
      'The password is read from standard input (a terminal is asked twice with echo off; a pipe gives its first line), never from arguments, and stored as an argon2id hash.',
    ],
    options: [
      { flag: '--email', value: 'E', text: "the user's e-mail address" },
      { flag: '--role', value: 'R', repeat: true, text: 'a role' },
      { flag: '--claim', value: 'NAME=VALUE', repeat: true, text: 'an extra claim' },
      STORE_CONFIG,
    ],
    env: ['GATEHOUSE_CONFIG'],
    examples: [
      'echo "$PASSWORD" | gatehouse users add alice --email alice@example.com --role admin -c gatehouse.yaml',
    ],
  },
  {
    name: 'users list',
    args: '[--config FILE]',
    summary: 'list the users (never their password hashes)',
    options: [STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse users list --config gatehouse.yaml'],
  },
  ...(['disable', 'enable', 'passwd'] as const).map(
    (verb): CommandHelp => ({
      name: `users ${verb}`,
      args: 'USERNAME [--config FILE]',
      summary: {
        disable: 'stop a user from signing in (kept in the store)',
        enable: 'let a disabled user sign in again',
        passwd: "set a user's password (read from standard input)",
      }[verb],
      details: [USERNAME_NOTE],
      options: [STORE_CONFIG],
      env: ['GATEHOUSE_CONFIG'],
      examples: [`gatehouse users ${verb} alice --config gatehouse.yaml`],
    }),
  ),
  {
    name: 'users unlock',
    args: 'USERNAME [--config FILE]',
    summary: "clear a username's failed logins and lock",
    details: ['Allowed for every username, those the configuration file declares too: it changes no user.'],
    options: [STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse users unlock alice --config gatehouse.yaml'],
  },
  {
    name: 'users remove',
    args: 'USERNAME [--config FILE]',
    summary: 'delete a user',
    details: [USERNAME_NOTE],
    options: [STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse users remove alice --config gatehouse.yaml'],
  },
  {
    name: 'users mfa',
    args: 'list|reset|set USERNAME [off|optional|required|none] [--config FILE]',
    summary: "a user's second factors: list them (never a secret), reset them, set the user's own policy",
    details: [
      '`reset` removes every second factor and recovery code (a lost device); where a policy requires a second factor, the user sets one up again at the next sign-in.',
      "`set` gives the user a policy of their own (`none` removes it); the strictest of the user's, the client's `mfa` and `identity.mfa` applies.",
      'Allowed for every user, those the configuration file declares too.',
    ],
    options: [STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: [
      'gatehouse users mfa list alice --config gatehouse.yaml',
      'gatehouse users mfa reset alice --config gatehouse.yaml',
      'gatehouse users mfa set alice required --config gatehouse.yaml',
    ],
  },
  {
    name: 'users sessions',
    args: 'USERNAME [--config FILE]',
    summary: "list a user's sessions at the identity provider",
    details: ['Allowed for every user, those the configuration file declares too.'],
    options: [STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse users sessions alice --config gatehouse.yaml'],
  },
  {
    name: 'users signout',
    args: 'USERNAME [--reason TEXT] [--config FILE]',
    summary: 'sign a user out everywhere',
    details: [
      "Deletes every session, grant and token of the account from the store, and, when the configuration has a redis section, records a subject revocation there, so internal tokens and gateway sessions end on every node within a second. Without redis, use POST /identity/users/{user}/signout on each node's admin API for those.",
    ],
    options: [REASON, STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse users signout alice --reason "lost phone" --config gatehouse.yaml'],
  },
  {
    name: 'users links',
    args: 'USER [--config FILE]',
    summary: "list a user's links to external OpenID Connect providers",
    details: [
      'USER is an id or a username. Links are made by signing in with a provider (identity.external_providers).',
    ],
    options: [STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse users links alice --config gatehouse.yaml'],
  },
  {
    name: 'users unlink',
    args: 'USER PROVIDER [--config FILE]',
    summary: "remove a user's link to an external provider",
    details: [
      'That identity no longer signs in as the user; its next sign-in is treated as a first one. Allowed for every user, those the configuration file declares too.',
    ],
    options: [STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse users unlink alice google --config gatehouse.yaml'],
  },
  {
    name: 'clients add',
    args: 'CLIENT_ID [--redirect-uri URI]... [--post-logout-redirect-uri URI]... [--grant G]... [--scope S]... [--resource URI]... [--public] [--first-party] [--mfa off|optional|required] [--name NAME] [--config FILE]',
    summary: "add an OAuth client to the identity provider's store",
    details: [
      "A confidential client's secret is generated, printed once, and stored only as a hash keyed by identity.secret.",
    ],
    options: [
      { flag: '--redirect-uri', value: 'URI', repeat: true, text: 'an allowed redirect URI' },
      { flag: '--post-logout-redirect-uri', value: 'URI', repeat: true, text: 'an allowed post-logout URI' },
      {
        flag: '--grant',
        value: 'G',
        repeat: true,
        text: 'authorization_code | refresh_token | client_credentials',
      },
      { flag: '--scope', value: 'S', repeat: true, text: 'a scope the client may ask for' },
      { flag: '--resource', value: 'URI', repeat: true, text: 'a resource indicator (identity.resources)' },
      { flag: '--public', text: 'a public client (no secret, PKCE)' },
      { flag: '--first-party', text: 'skip the consent screen' },
      {
        flag: '--mfa',
        value: 'POLICY',
        text: 'second factor for its sign-ins: off, optional or required (the strictest of this, the user’s and identity.mfa applies)',
      },
      { flag: '--name', value: 'NAME', text: 'the name shown on the consent screen' },
      STORE_CONFIG,
    ],
    env: ['GATEHOUSE_CONFIG'],
    examples: [
      'gatehouse clients add shop-web --redirect-uri https://shop.example/callback -c gatehouse.yaml',
    ],
  },
  {
    name: 'clients list',
    args: '[--config FILE]',
    summary: 'list the OAuth clients (never their secrets)',
    options: [STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse clients list --config gatehouse.yaml'],
  },
  {
    name: 'clients remove',
    args: 'CLIENT_ID [--config FILE]',
    summary: 'delete an OAuth client the command line added',
    options: [STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse clients remove shop-web --config gatehouse.yaml'],
  },
  {
    name: 'keys list',
    args: '[--config FILE]',
    summary: "list the identity provider's signing keys: state and dates, never key material",
    options: [STORE_CONFIG],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse keys list --config gatehouse.yaml'],
  },
  {
    name: 'keys rotate',
    args: '[--alg ALG] [--config FILE]',
    summary: 'make the next signing key active now and retire the current one',
    details: ['Running nodes switch within a second.'],
    options: [
      { flag: '--alg', value: 'ALG', text: 'rotate only this algorithm (identity.keys.algorithms)' },
      STORE_CONFIG,
    ],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse keys rotate --alg ES256 --config gatehouse.yaml'],
  },
  {
    name: 'keys revoke',
    args: 'KID [--reason TEXT] [--ttl SECONDS] [--admin URL]... [--config FILE]',
    summary: 'withdraw a signing key at once (identity provider or internal-token key)',
    details: [
      "Through the store and the redis section when configured; without Redis an internal-token key is withdrawn through its node's admin API (--admin, else admin.listen).",
    ],
    options: [
      REASON,
      TTL,
      {
        flag: '--admin',
        value: 'URL',
        repeat: true,
        text: "a node's admin API (http://host:port or HOST:PORT)",
      },
      STORE_CONFIG,
    ],
    env: ['GATEHOUSE_CONFIG', 'GATEHOUSE_ADMIN_LISTEN', 'GATEHOUSE_ADMIN_TOKEN'],
    examples: ['gatehouse keys revoke 3f2a… --reason "key leaked" --config gatehouse.yaml'],
  },
  {
    name: 'identity start',
    args: '--config FILE [--listen HOST:PORT]',
    summary: 'run the identity provider alone, without the gateway',
    options: [
      CONFIG,
      { flag: '--listen', value: 'HOST:PORT', text: 'the listen address (or GATEHOUSE_PROXY_LISTEN)' },
    ],
    env: ['GATEHOUSE_CONFIG', 'GATEHOUSE_PROXY_LISTEN'],
    examples: ['gatehouse identity start --config idp.yaml --listen 127.0.0.1:9000'],
  },
  {
    name: 'revoke',
    args: '--subject SUB|--session ID|--grant ID|--profile SUB|--jwks ISSUER|--key KID [--reason TEXT] [--ttl SECONDS] [--config FILE]',
    summary: "revoke a subject, session, grant, cached profile, issuer's keys or key, on every node",
    details: [
      "Written to the configuration's redis section: every running node applies it within a second. Without Redis, use POST /revocations on each node's admin API.",
    ],
    options: [
      { flag: '--subject', value: 'SUB', text: 'every token and session issued to this subject until now' },
      { flag: '--session', value: 'ID', text: 'one session' },
      { flag: '--grant', value: 'ID', text: 'a refresh-token family of the built-in provider' },
      { flag: '--profile', value: 'SUB', text: 'a cached profile' },
      { flag: '--jwks', value: 'ISSUER', text: "an issuer's cached keys" },
      { flag: '--key', value: 'KID', text: 'a signing key by kid' },
      REASON,
      TTL,
      { ...CONFIG, text: 'the configuration file whose redis section is used (or GATEHOUSE_CONFIG)' },
    ],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse revoke --subject alice --reason "left the company" --config gatehouse.yaml'],
  },
  {
    name: 'audit list',
    args: '[--user USER|--client CLIENT_ID|--key KID|--revocation ID] [--action ACTION] [--limit N] [--before ID] [--json] [--config FILE]',
    summary: 'show the audit trail of identity changes, newest first',
    details: [
      'Every change to a user, client, signing key or revocation made with this command line or the admin API, by whom (the OS account and host, or the admin client address and node), and its facts: never a password, secret, token or code. USER is an id or a username, a removed user’s too.',
      'Kept in the store until pruned. GET /identity/audit on the admin API shows the same.',
    ],
    options: [
      { flag: '--user', value: 'USER', text: 'the events about this user (id or username)' },
      { flag: '--client', value: 'CLIENT_ID', text: 'the events about this client' },
      { flag: '--key', value: 'KID', text: 'the events about this signing key' },
      {
        flag: '--revocation',
        value: 'ID',
        text: 'the revocations of this subject, session, grant, issuer or kid',
      },
      { flag: '--action', value: 'ACTION', text: 'only this action (user.mfa_reset, client.added, ...)' },
      { flag: '--limit', value: 'N', text: 'at most N events (default 100)' },
      { flag: '--before', value: 'ID', text: 'only the events older than the event ID (the next page)' },
      { flag: '--json', text: 'one JSON object per event and line' },
      STORE_CONFIG,
    ],
    env: ['GATEHOUSE_CONFIG'],
    examples: [
      'gatehouse audit list --user alice --config gatehouse.yaml',
      'gatehouse audit list --action user.mfa_reset --json --config gatehouse.yaml',
    ],
  },
  {
    name: 'audit prune',
    args: '--before DATE [--config FILE]',
    summary: 'delete the audit events recorded before a date',
    details: [
      'DATE is a day (2025-01-31, midnight UTC) or an ISO 8601 time with its zone, not in the future. The prune is itself recorded in the trail.',
    ],
    options: [
      { flag: '--before', value: 'DATE', text: 'delete the events recorded before this day or time' },
      STORE_CONFIG,
    ],
    env: ['GATEHOUSE_CONFIG'],
    examples: ['gatehouse audit prune --before 2025-01-01 --config gatehouse.yaml'],
  },
]

/** The first words, in the table's order, and what each family does. */
export const FAMILIES: Readonly<Record<string, string>> = {
  start: 'run the gateway',
  config: 'check, convert, export or import declarative files',
  migrate: "apply the store's schema migrations",
  users: "manage the identity provider's users",
  clients: "manage the identity provider's OAuth clients",
  keys: "list, rotate or revoke the identity provider's signing keys",
  identity: 'run the identity provider alone',
  revoke: 'revoke a subject, session, grant or key on every node',
  audit: 'list or prune the audit trail of identity changes',
}

export function commandNamed(name: string): CommandHelp | undefined {
  return COMMANDS.find((c) => c.name === name)
}

/** The subcommands of a family (`users` → add, list, ...); empty for a command without any (`start`). */
export function subcommandsOf(family: string): string[] {
  return COMMANDS.filter((c) => c.name.startsWith(`${family} `)).map((c) => c.name.slice(family.length + 1))
}
