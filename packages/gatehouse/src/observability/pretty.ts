/**
 * `logging.format: pretty`: the JSON lines, rewritten as one human line each for a terminal:
 *   `14:03:07.512 INFO  gatehouse started proxy=127.0.0.1:8000 store=/srv/gatehouse.db`
 *   `14:03:09.044 INFO  GET /orders/7 → 200 12.3ms route=orders-api service=orders consumer=alice`
 * It sits between the JSON producers (pino, AccessLog, the workers' relayed lines) and the LineWriter,
 * chosen once at start, so the default JSON path is not touched and pays nothing for it. Because it reads
 * the JSON lines after pino's redaction, it shows exactly the fields JSON shows: never a secret. Colour
 * only for a terminal without NO_COLOR (https://no-color.org): a file or pipe gets plain text.
 */

export interface PrettyOptions {
  readonly colour: boolean
}

/** Fields every line has, shown as its time, level and message rather than as key=value. */
const FRAME = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'type'])
/** An access line's fields that its `METHOD path → status latency` head already shows. */
const ACCESS_HEAD = new Set(['method', 'path', 'status', 'latency_ms'])
/** An access line's fields worth a glance, in this order; the others follow as they came. */
const ACCESS_FIRST = ['route', 'service', 'consumer', 'error_code', 'upstream_latency_ms', 'request_id']

const RESET = '\x1b[0m'
const DIM = '\x1b[2m'
const LEVEL_COLOUR: Readonly<Record<string, string>> = {
  fatal: '\x1b[41;97m',
  error: '\x1b[31m',
  warn: '\x1b[33m',
  info: '\x1b[32m',
  debug: '\x1b[36m',
  trace: '\x1b[90m',
}

/** Whether lines written to `fd` are for a person at a terminal who has not asked for no colour. */
export function wantsColour(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  return fd === 1 ? process.stdout.isTTY === true : fd === 2 ? process.stderr.isTTY === true : false
}

/** One JSON log line (without its newline) as a pretty line; a line that is not JSON is kept as it is. */
export function prettyLine(json: string, options: PrettyOptions): string {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json
  }
  if (record === null || typeof record !== 'object') return json
  const paint = (code: string, text: string) => (options.colour ? `${code}${text}${RESET}` : text)
  const level = typeof record.level === 'string' ? record.level : 'info'
  const head = `${paint(DIM, clock(record.time))} ${paint(LEVEL_COLOUR[level] ?? '', level.toUpperCase().padEnd(5))}`
  const access = record.type === 'access'
  const message = access ? accessHead(record, paint) : String(record.msg ?? '')
  const keys = Object.keys(record).filter((k) => !FRAME.has(k) && !(access && ACCESS_HEAD.has(k)))
  if (access) keys.sort((a, b) => rank(a) - rank(b))
  let line = `${head} ${message}`
  let stack = ''
  for (const key of keys) {
    const value = record[key]
    if (value === null || value === undefined) continue
    if (key === 'err' && typeof value === 'object') {
      const err = value as { message?: unknown; stack?: unknown }
      line += ` ${paint(DIM, 'err=')}${text(err.message ?? value)}`
      if (typeof err.stack === 'string')
        stack = `\n    ${err.stack.split('\n').slice(1).join('\n    ').trim()}`
      continue
    }
    line += ` ${paint(DIM, `${key}=`)}${text(value)}`
  }
  return line + stack
}

function rank(key: string): number {
  const i = ACCESS_FIRST.indexOf(key)
  return i === -1 ? ACCESS_FIRST.length : i
}

function accessHead(record: Record<string, unknown>, paint: (code: string, text: string) => string): string {
  const status = typeof record.status === 'number' ? record.status : 0
  const colour =
    status >= 500 ? '\x1b[31m' : status >= 400 ? '\x1b[33m' : status >= 300 ? '\x1b[36m' : '\x1b[32m'
  const latency = typeof record.latency_ms === 'number' ? `${record.latency_ms.toFixed(1)}ms` : '-'
  return `${record.method} ${record.path} → ${paint(colour, String(status))} ${latency}`
}

/** `HH:MM:SS.mmm` local time: a terminal reader wants the clock on the wall, not the date. */
function clock(time: unknown): string {
  const date = typeof time === 'string' || typeof time === 'number' ? new Date(time) : new Date()
  if (Number.isNaN(date.getTime())) return String(time)
  const two = (n: number) => String(n).padStart(2, '0')
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`
}

/** A value as key=value shows it: bare when it reads unambiguously, else as JSON. */
function text(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=\\\p{Cc}]+$/u.test(value) ? value : JSON.stringify(value)
  return typeof value === 'object' ? JSON.stringify(value) : String(value)
}

/**
 * The stream pino, the access log and the workers' relay write to when the format is pretty: whole
 * JSON lines in (possibly several per write, as the relay hands them), pretty lines out to `target`.
 */
export class PrettyStream {
  readonly #target: { write(line: string): unknown; readonly pendingBytes?: number }
  readonly #options: PrettyOptions

  constructor(
    target: { write(line: string): unknown; readonly pendingBytes?: number },
    options: PrettyOptions,
  ) {
    this.#target = target
    this.#options = options
  }

  /** What the target holds: the relay pauses the workers on it. */
  get pendingBytes(): number {
    return this.#target.pendingBytes ?? 0
  }

  write(lines: string): boolean {
    let out = ''
    let start = 0
    for (let end = lines.indexOf('\n'); end !== -1; end = lines.indexOf('\n', start)) {
      out += `${prettyLine(lines.slice(start, end), this.#options)}\n`
      start = end + 1
    }
    if (start < lines.length) out += `${prettyLine(lines.slice(start), this.#options)}\n`
    this.#target.write(out)
    return true
  }
}
