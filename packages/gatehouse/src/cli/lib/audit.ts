/**
 * How a command records the identity change it made (identity/manage/audit.ts), after it succeeded: a
 * row in the store, and the event as a log line on standard error, so that what the command prints for
 * people on standard output stays as it was. The line follows the configuration's `logging` settings
 * (GATEHOUSE_LOG_LEVEL and GATEHOUSE_LOG_FORMAT win, as for `start`), redaction included, and is written
 * out before the command exits. On a terminal the line is the pretty one, as a person reads it there, unless
 * GATEHOUSE_LOG_FORMAT asks otherwise; piped or redirected, it is the configured format.
 */
import type { GatewayConfig } from '../../config/model.ts'
import { type AuditAction, type AuditEvent, cliActor, recordAudit } from '../../identity/manage/audit.ts'
import {
  createLoggers,
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type Loggers,
  type LogLevel,
} from '../../observability/logger.ts'
import { openStore } from '../../storage/open.ts'
import type { Store } from '../../storage/store.ts'

/** One logger for the command's process: a command records one event or a few. */
let loggers: Loggers | null = null

function stderrLoggers(config: GatewayConfig): Loggers {
  if (loggers !== null) return loggers
  const { logging } = config.settings
  // An unusable variable is not worth failing for after the change was made: the file's setting applies.
  const envLevel = process.env.GATEHOUSE_LOG_LEVEL as LogLevel | undefined
  const envFormat = process.env.GATEHOUSE_LOG_FORMAT as LogFormat | undefined
  loggers = createLoggers({
    level: envLevel !== undefined && LOG_LEVELS.includes(envLevel) ? envLevel : logging.level,
    // A person at a terminal reads the line, as the command's own output: pretty there, unless asked.
    format:
      envFormat !== undefined && LOG_FORMATS.includes(envFormat)
        ? envFormat
        : process.stderr.isTTY === true
          ? 'pretty'
          : logging.format,
    destination: 2,
  })
  return loggers
}

/**
 * Records a change this command made. `store` null: a command that made no change in the store and runs
 * without the identity provider's (a revocation with `identity` off), the line only.
 */
export async function auditCli<A extends AuditAction>(
  ctx: { readonly config: GatewayConfig; readonly store: Store | null },
  event: Omit<AuditEvent<A>, 'actor'>,
): Promise<void> {
  const { logger, flush } = stderrLoggers(ctx.config)
  await recordAudit(ctx.store, logger, { ...event, actor: cliActor() } as AuditEvent<A>)
  flush()
}

/**
 * As auditCli, for a command that made its change elsewhere (Redis): the row goes to the identity
 * provider's store, opened for it, when the configuration enables the provider. A store that cannot be
 * opened costs the row only: the change stands, and the warning carries the event.
 */
export async function auditCliOpening<A extends AuditAction>(
  config: GatewayConfig,
  event: Omit<AuditEvent<A>, 'actor'>,
): Promise<void> {
  if (!config.settings.identity.enabled) return auditCli({ config, store: null }, event)
  let store: Store
  try {
    store = await openStore(config.settings.storage)
  } catch (err) {
    const { logger, flush } = stderrLoggers(config)
    await recordAudit(null, logger, { ...event, actor: cliActor() } as AuditEvent<A>)
    logger.warn(
      { audit: { ...event, actor: cliActor() }, err: (err as Error)?.message ?? String(err) },
      'audit event not recorded in the store',
    )
    flush()
    return
  }
  try {
    await auditCli({ config, store }, event)
  } finally {
    await store.close()
  }
}
