/**
 * `gatehouse clients ...`: the identity provider's OAuth clients in the store, checked by the same schema
 * and rules as `identity.clients` in the file. A confidential client's secret is generated here, printed
 * once, and stored only as a hash keyed by identity.secret; nothing prints a hash. The checks and the
 * writes are identity/manage/clients.ts, which the admin API uses too. Each change is audited
 * (cli/lib/audit.ts).
 */
import { parseArgs } from 'node:util'
import { identityClient } from '../config/schema/identity.ts'
import { clientDetail, clientTarget } from '../identity/manage/audit.ts'
import {
  changeableClient,
  clientProblems,
  createClient,
  newClientSecret,
  removeClient as removeStoredClient,
} from '../identity/manage/clients.ts'
import { IdentityChangeRefused } from '../identity/manage/refusal.ts'
import { auditCli } from './lib/audit.ts'
import { CommandFailure, UsageError } from './lib/errors.ts'
import { printTable, say } from './lib/output.ts'
import {
  CONFIG_OPTION,
  configFileFrom,
  managedMessage,
  splitSubcommand,
  withStore,
} from './lib/store-command.ts'

const SUBCOMMANDS = 'add, list, remove'

export async function clientsCommand(args: string[]): Promise<number> {
  const [sub, rest] = splitSubcommand(args)
  switch (sub) {
    case 'add':
      return addClient(rest)
    case 'list':
      return listClients(rest)
    case 'remove':
      return removeClient(rest)
    default:
      throw new UsageError(
        sub === undefined
          ? `clients needs a command (${SUBCOMMANDS})`
          : `unknown clients command '${sub}' (expected: ${SUBCOMMANDS})`,
      )
  }
}

async function addClient(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...CONFIG_OPTION,
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      grant: { type: 'string', multiple: true },
      scope: { type: 'string', multiple: true },
      resource: { type: 'string', multiple: true },
      public: { type: 'boolean' },
      'first-party': { type: 'boolean' },
      mfa: { type: 'string' },
      name: { type: 'string' },
    },
    allowPositionals: true,
  })
  if (positionals.length !== 1) throw new UsageError('clients add takes exactly one CLIENT_ID')
  const secret = values.public ? undefined : newClientSecret()
  const input: ClientInput = {
    client_id: positionals[0]!,
    ...(secret !== undefined && { client_secret: secret }),
    ...(values.name !== undefined && { client_name: values.name }),
    redirect_uris: values['redirect-uri'] ?? [],
    post_logout_redirect_uris: values['post-logout-redirect-uri'] ?? [],
    ...(values.grant !== undefined && { grant_types: values.grant }),
    ...(values.scope !== undefined && { scopes: values.scope }),
    resources: values.resource ?? [],
    first_party: values['first-party'] ?? false,
    ...(values.mfa !== undefined && { mfa: values.mfa }),
  }
  const parsed = identityClient.safeParse(input)
  if (!parsed.success)
    throw new UsageError(
      parsed.error.issues.map((i) => describeIssue(i.path.join('.'), i.message, input)).join('; '),
      false,
    )
  const client = parsed.data
  const configFile = configFileFrom(values.config, 'clients add')

  return withStore(configFile, async (ctx) => {
    const { config, store } = ctx
    const problems = clientProblems(client, config.settings.identity)
    if (problems.length > 0)
      throw new UsageError(problems.map((p) => describeIssue(p.path, p.message, input)).join('; '), false)
    const added = await refusedAsFailure(configFile, () =>
      createClient(store, config.settings.identity, client),
    )
    await auditCli(ctx, { action: 'client.added', target: clientTarget(added), detail: clientDetail(added) })
    say(`client '${client.client_id}' added (${secret === undefined ? 'public' : 'confidential'})`)
    if (secret !== undefined) {
      say(`client_secret: ${secret}`)
      say('Keep it now: it is shown only this once, and Gatehouse stores only a keyed hash of it.')
    }
    return 0
  })
}

async function listClients(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONFIG_OPTION, allowPositionals: true })
  if (positionals.length > 0) throw new UsageError('clients list takes no arguments')
  return withStore(configFileFrom(values.config, 'clients list'), async ({ store }) => {
    const clients = await store.clients.list()
    if (clients.length === 0) say('no clients')
    else
      printTable(
        ['CLIENT_ID', 'NAME', 'TYPE', 'GRANTS', 'REDIRECT_URIS', 'SOURCE'],
        clients.map((c) => [
          c.client_id,
          c.client_name ?? '-',
          c.secret_hash === null ? 'public' : 'confidential',
          c.grant_types.join(','),
          c.redirect_uris.join(',') || '-',
          c.source,
        ]),
      )
    return 0
  })
}

async function removeClient(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONFIG_OPTION, allowPositionals: true })
  if (positionals.length !== 1) throw new UsageError('clients remove takes exactly one CLIENT_ID')
  const clientId = positionals[0]!
  const configFile = configFileFrom(values.config, 'clients remove')
  return withStore(configFile, async (ctx) => {
    const { config, store } = ctx
    const removed = await refusedAsFailure(configFile, async () => {
      const client = await changeableClient(store, config.settings.identity, clientId)
      await removeStoredClient(store, client)
      return client
    })
    await auditCli(ctx, { action: 'client.removed', target: clientTarget(removed), detail: {} })
    say(`client '${clientId}' removed`)
    return 0
  })
}

/** The shared checks' refusals as this command's failures, naming the file where that helps. */
async function refusedAsFailure<T>(configFile: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (!(err instanceof IdentityChangeRefused)) throw err
    if (err.kind === 'managed') throw new CommandFailure(managedMessage(err.what, configFile))
    if (err.kind === 'unconfigured')
      throw new CommandFailure(
        `identity.secret is not set in ${configFile}: a confidential client's secret is stored as a hash keyed by it ` +
          '(set it, e.g. to {vault://env/GATEHOUSE_IDENTITY_SECRET}, or add a --public client)',
      )
    throw new CommandFailure(err.message)
  }
}

interface ClientInput {
  readonly client_id: string
  readonly client_name?: string
  readonly redirect_uris: readonly string[]
  readonly post_logout_redirect_uris: readonly string[]
  readonly grant_types?: readonly string[]
  readonly scopes?: readonly string[]
  readonly resources: readonly string[]
  readonly first_party: boolean
  readonly mfa?: string
  readonly client_secret?: string
}

/** The option each client field comes from. */
const FLAGS: Readonly<Record<string, string>> = {
  client_id: 'CLIENT_ID',
  client_name: '--name',
  redirect_uris: '--redirect-uri',
  post_logout_redirect_uris: '--post-logout-redirect-uri',
  grant_types: '--grant',
  scopes: '--scope',
  resources: '--resource',
  first_party: '--first-party',
  mfa: '--mfa',
}

/**
 * A schema or rule problem named by its option and value (`--redirect-uri 'http://x/': ...`). The only
 * secret problem possible is a public client asking for client_credentials (the generated secret always
 * fits), so it is said that way, and the secret itself is never quoted.
 */
function describeIssue(path: string, message: string, input: ClientInput): string {
  if (path === 'client_secret') return '--public: a public client cannot use the client_credentials grant'
  const [, field = path, index] = /^(\w+)(?:[.[](\d+)\]?)?$/.exec(path) ?? []
  const flag = FLAGS[field] ?? field
  const fieldValue = (input as unknown as Record<string, unknown>)[field]
  const value =
    index !== undefined && Array.isArray(fieldValue)
      ? (fieldValue[Number(index)] as string)
      : typeof fieldValue === 'string'
        ? fieldValue
        : undefined
  return value === undefined ? `${flag}: ${message}` : `${flag} '${value}': ${message}`
}
