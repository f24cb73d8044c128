/**
 * `gatehouse keys ...`: the identity provider's signing keys in the store. `list` shows each key's
 * state and dates (never key material); `rotate` makes the next key active now and retires the current
 * one, for every configured algorithm or one; `revoke KID` withdraws a key of either kind at once
 * (keys-revoke.ts). Running nodes pick a change in the store up within a second.
 */
import { parseArgs } from 'node:util'
import { listKeys, rotateNow } from '../identity/keys/rotation.ts'
import { rotations } from '../identity/manage/audit.ts'
import { auditCli } from './lib/audit.ts'
import { CommandFailure, UsageError } from './lib/errors.ts'
import { printTable, say } from './lib/output.ts'
import { CONFIG_OPTION, configFileFrom, splitSubcommand, withStore } from './lib/store-command.ts'

const SUBCOMMANDS = 'list, rotate, revoke'

export async function keysCommand(args: string[]): Promise<number> {
  const [sub, rest] = splitSubcommand(args)
  switch (sub) {
    case 'list':
      return list(rest)
    case 'rotate':
      return rotate(rest)
    case 'revoke':
      return (await import('./keys-revoke.ts')).revokeKey(rest)
    default:
      throw new UsageError(
        sub === undefined
          ? `keys needs a command (${SUBCOMMANDS})`
          : `unknown keys command '${sub}' (expected: ${SUBCOMMANDS})`,
      )
  }
}

const time = (seconds: number | null) => (seconds === null ? '-' : new Date(seconds * 1000).toISOString())

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONFIG_OPTION, allowPositionals: true })
  if (positionals.length > 0) throw new UsageError('keys list takes no arguments')
  return withStore(configFileFrom(values.config, 'keys list'), async ({ store }) => {
    const keys = await listKeys(store)
    if (keys.length === 0) say('no signing keys (the identity provider creates them when it starts)')
    else
      printTable(
        ['KID', 'ALG', 'STATE', 'CREATED', 'ACTIVE FROM', 'RETIRED', 'DELETE AFTER'],
        keys.map((k) => [
          k.kid,
          k.alg,
          k.state,
          time(k.created_at),
          time(k.activate_at),
          time(k.retired_at),
          time(k.delete_after),
        ]),
      )
    return 0
  })
}

async function rotate(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...CONFIG_OPTION, alg: { type: 'string' } },
    allowPositionals: true,
  })
  if (positionals.length > 0) throw new UsageError('keys rotate takes no arguments')
  return withStore(configFileFrom(values.config, 'keys rotate'), async (ctx) => {
    const { config, store } = ctx
    const identity = config.settings.identity
    if (identity.secret === undefined)
      throw new CommandFailure('identity.secret is not set: new keys could not be encrypted')
    if (values.alg !== undefined && !(identity.keys.algorithms as readonly string[]).includes(values.alg))
      throw new UsageError(
        `--alg: '${values.alg}' is not in identity.keys.algorithms (${identity.keys.algorithms.join(', ')})`,
        false,
      )
    const events = await rotateNow(
      store,
      config.settings,
      values.alg !== undefined ? { alg: values.alg } : {},
    )
    for (const rotation of rotations(events)) await auditCli(ctx, rotation)
    for (const e of events) say(`${e.alg} ${e.kid} ${e.event === 'scheduled' ? 'created' : e.event}`)
    say('running nodes switch to the new keys within a second (they check the store every second)')
    return 0
  })
}
