/** `gatehouse identity start`: the identity provider alone (identity/standalone.ts). */
import { parseArgs } from 'node:util'
import { listenAddress } from '../config/schema/typedefs.ts'
import { UsageError } from './lib/errors.ts'
import { splitSubcommand } from './lib/store-command.ts'

export async function identityCommand(args: string[]): Promise<number> {
  const [sub, rest] = splitSubcommand(args)
  if (sub !== 'start')
    throw new UsageError(
      sub === undefined
        ? 'identity needs a command (start)'
        : `unknown identity command '${sub}' (expected: start)`,
    )
  const { values, positionals } = parseArgs({
    args: rest,
    options: { config: { type: 'string', short: 'c' }, listen: { type: 'string' } },
    allowPositionals: true,
  })
  if (positionals.length > 0) throw new UsageError('identity start takes no arguments')
  const configFile = values.config || process.env.GATEHOUSE_CONFIG
  if (!configFile) throw new UsageError('identity start needs --config FILE (or GATEHOUSE_CONFIG)')
  const listen = values.listen ?? (process.env.GATEHOUSE_PROXY_LISTEN || undefined)
  if (listen !== undefined) {
    const checked = listenAddress.safeParse(listen)
    if (!checked.success)
      throw new UsageError(
        `--listen: invalid listen address '${listen}': ${checked.error.issues[0]?.message}`,
        false,
      )
  }
  const { startIdentityServer } = await import('../identity/standalone.ts')
  await startIdentityServer({ configFile, listen })
  return -1 // keep running
}
