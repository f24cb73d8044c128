/**
 * Process logger: JSON lines on stdout through pino, handed to the LineWriter (batched, never blocking,
 * shared with the access log). Known secret-bearing keys are censored wherever they appear in
 * operational logs, as a safety net. Access-log lines do not go through pino: their fields are chosen
 * by us and never include headers, cookies, query strings or bodies, and pino's generic path
 * (redaction included) cost a fifth of the proxy's throughput there.
 */
import { pino } from 'pino'
import { LineWriter } from './line-writer.ts'
import { PrettyStream, wantsColour } from './pretty.ts'

export type Logger = pino.Logger
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]
export const LOG_FORMATS = ['json', 'pretty'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]

const SECRET_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'token',
  'secret',
  'password',
  'client_secret',
  'apikey',
  'x-api-key',
  'proxy-authorization',
  'kong-admin-token',
]

export const REDACT_PATHS = [
  ...SECRET_KEYS.map((k) => `["${k}"]`),
  ...SECRET_KEYS.map((k) => `*["${k}"]`),
  ...SECRET_KEYS.map((k) => `*.headers["${k}"]`),
]

export interface CreateLoggerOptions {
  level: LogLevel
  /** File descriptor. Default: 1 (stdout). */
  destination?: number
  /** `pretty`: human lines (pretty.ts) instead of JSON. Default: json. */
  format?: LogFormat
}

export interface Loggers {
  /** Operational logs, with redaction. */
  logger: Logger
  /**
   * The raw line stream, shared with the access log and the workers' relay: the writer itself, or for
   * the pretty format the PrettyStream in front of it.
   */
  stream: { write(line: string): unknown; readonly pendingBytes?: number }
  /** The writer behind both: its pending bytes (the workers' log relay), its drop count (metrics). */
  writer: LineWriter
  /** Writes out whatever is buffered, synchronously (at exit). */
  flush(): void
}

export function createLoggers(options: CreateLoggerOptions): Loggers {
  const fd = options.destination ?? 1
  const destination = new LineWriter(fd)
  const stream =
    options.format === 'pretty' ? new PrettyStream(destination, { colour: wantsColour(fd) }) : destination
  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    stream,
  )
  return {
    logger,
    stream,
    writer: destination,
    flush: () => destination.flushSync(),
  }
}
