/**
 * file-log: Kong's plugin of that name. Every request on the route is appended to `path` as one JSON line
 * of Kong's log entry (../_shared/log-entry.ts, credentials redacted), through a shared appender per file
 * (appender.ts) that batches the lines and writes them asynchronously with O_APPEND.
 */
import { resolve } from 'node:path'
import { serializeLogEntry } from '../_shared/log-entry.ts'
import type { GatewayPlugin } from '../types.ts'
import { acquireAppender, releaseAppender } from './appender.ts'
import { type FileLogConfig, fileLogSchema } from './schema.ts'

/**
 * The `file-log` plugin (Kong's contract, priority 9).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: file-log
 *     config: { path: /var/log/gatehouse/requests.log, reopen: true }
 * ```
 */
export const plugin: GatewayPlugin<FileLogConfig> = {
  name: 'file-log',
  version: '1.0.0',
  priority: 9,
  band: 'logging',
  description:
    "Appends Kong's log entry of every request (credentials redacted) to a file, one JSON line each, without blocking the proxy.",
  schema: fileLogSchema,
  create(config, ctx) {
    const path = resolve(config.path)
    const appender = acquireAppender(path, config.reopen, ctx.logger)
    let released = false
    return {
      log(state) {
        if (state.dryRun !== null) return
        appender.append(`${serializeLogEntry(state)}\n`)
      },
      close() {
        if (released) return
        released = true
        return releaseAppender(appender, config.reopen)
      },
    }
  },
}
