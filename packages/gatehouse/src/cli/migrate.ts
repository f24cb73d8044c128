/**
 * `gatehouse migrate`: applies the configured store's pending schema migrations and says which. The one
 * way to change a PostgreSQL schema (nodes only check it at start); SQLite also migrates at every start.
 * Safe to run from several places at once: the migrations take a lock and each applies once.
 */
import { parseArgs } from 'node:util'
import { storageLocation } from '../config/schema/storage.ts'
import { UsageError } from './lib/errors.ts'
import { plural, say } from './lib/output.ts'
import { CONFIG_OPTION, configFileFrom, withStore } from './lib/store-command.ts'

export async function migrateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: CONFIG_OPTION, allowPositionals: true })
  if (positionals.length > 0) throw new UsageError('migrate takes no arguments')
  const configFile = configFileFrom(values.config, 'migrate')
  return withStore(
    configFile,
    async ({ config, store }) => {
      const database = storageLocation(config.settings.storage)
      const applied = await store.migrate()
      for (const name of applied) say(`applied ${name}`)
      say(
        applied.length > 0
          ? `${database}: schema up to date (${plural(applied.length, 'migration')} applied)`
          : `${database}: schema already up to date`,
      )
      return 0
    },
    { migrate: false },
  )
}
