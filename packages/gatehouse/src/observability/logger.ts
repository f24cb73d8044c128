/**
 * Process logger: JSON lines on stdout through pino. Lines are buffered (up to 4 KiB, flushed at least
 * every 100 ms and at exit) and written asynchronously, so logging never blocks the event loop and a
 * busy proxy issues few write calls. Known secret-bearing keys are censored in operational logs as a
 * safety net; the access log has its own unredacted logger because its fields are chosen by us and
 * never include headers, cookies, query strings or bodies (redaction would cost a fifth of the
 * proxy's throughput there).
 */
import { pino } from 'pino'

export type Logger = pino.Logger
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

const SECRET_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'token',
  'secret',
  'password',
  'client_secret',
  'apikey',
]

export const REDACT_PATHS = [
  ...SECRET_KEYS.map((k) => `["${k}"]`),
  ...SECRET_KEYS.map((k) => `*["${k}"]`),
  ...SECRET_KEYS.map((k) => `*.headers["${k}"]`),
]

export interface CreateLoggerOptions {
  level: LogLevel
  /** File descriptor or path. Default: 1 (stdout). */
  destination?: number | string
}

export interface Loggers {
  /** Operational logs, with redaction. */
  logger: Logger
  /** The raw line stream, shared with the access log. */
  stream: { write(line: string): unknown }
  /** Writes out whatever is buffered, synchronously (at exit). */
  flush(): void
}

export function createLoggers(options: CreateLoggerOptions): Loggers {
  const destination = pino.destination({ dest: options.destination ?? 1, sync: false, minLength: 4096 })
  const timer = setInterval(() => destination.flush(), 100)
  timer.unref()
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    destination,
  )
  return {
    logger,
    stream: destination,
    flush: () => {
      try {
        destination.flushSync()
      } catch {
        // Nothing buffered, or the destination is gone; either way nothing more can be done.
      }
    },
  }
}
