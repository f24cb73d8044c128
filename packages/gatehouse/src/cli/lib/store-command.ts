/**
 * What the storage commands (migrate, users, clients) share: the configuration file from --config or
 * GATEHOUSE_CONFIG, loaded and checked as `gatehouse start` would (a ConfigError is printed the usual
 * way by index.ts), and the store it configures, closed when the command is done.
 */
import { loadConfigFile } from '../../config/load.ts'
import type { GatewayConfig } from '../../config/model.ts'
import { loadBundledPlugins } from '../../plugins/registry.ts'
import { type OpenStoreOptions, openStore } from '../../storage/open.ts'
import type { Store } from '../../storage/store.ts'
import { UsageError } from './errors.ts'

export interface StoreCommandContext {
  readonly configFile: string
  readonly config: GatewayConfig
  readonly store: Store
}

/** The `--config` option every storage command takes. */
export const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const

/**
 * A family's subcommand (`users list`), found after any `--config FILE` given before it
 * (`users --config FILE list`), and the arguments without it.
 */
export function splitSubcommand(args: readonly string[]): [string | undefined, string[]] {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === '--config' || arg === '-c') i++
    else if (!arg.startsWith('-')) return [arg, [...args.slice(0, i), ...args.slice(i + 1)]]
  }
  return [undefined, [...args]]
}

export function configFileFrom(flag: string | undefined, command: string): string {
  const file = flag || process.env.GATEHOUSE_CONFIG
  if (!file) throw new UsageError(`${command} needs --config FILE (or GATEHOUSE_CONFIG)`)
  return file
}

export async function withStore<T>(
  configFile: string,
  run: (ctx: StoreCommandContext) => Promise<T>,
  options: OpenStoreOptions = {},
): Promise<T> {
  const config = await loadConfigFile(configFile, { registry: await loadBundledPlugins() })
  const store = await openStore(config.settings.storage, options)
  try {
    return await run({ configFile, config, store })
  } finally {
    await store.close()
  }
}

/** The refusal for users and clients the configuration file manages. */
export function managedMessage(what: string, configFile: string): string {
  return `${what} is managed by ${configFile}; change it there`
}
