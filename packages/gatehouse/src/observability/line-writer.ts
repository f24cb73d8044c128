/**
 * The one writer of log lines (operational and access) to stdout or a file. Lines are appended to a
 * string buffer and written with one `fs.write` when 64 KiB have gathered, or every 100 ms, never more
 * than one write in flight, so a busy proxy makes a few write calls a second instead of one per line and
 * never blocks on a slow consumer. If the consumer stops reading and 16 MiB pile up, further lines are
 * dropped and counted (reported once writing resumes) rather than exhausting memory. One writer for
 * both kinds of line keeps them whole: two buffers sharing a pipe could interleave halves of lines.
 */
import { write, writeSync } from 'node:fs'

const BATCH = 64 * 1024
const LIMIT = 16 * 1024 * 1024
const INTERVAL_MS = 100

export class LineWriter {
  readonly #fd: number
  #buffer = ''
  #writing = false
  #dropped = 0
  readonly #timer: NodeJS.Timeout

  constructor(fd: number) {
    this.#fd = fd
    this.#timer = setInterval(() => this.#flush(), INTERVAL_MS)
    this.#timer.unref()
  }

  /** Appends one line (with its newline). Never throws, never blocks. */
  write(line: string): boolean {
    if (this.#buffer.length > LIMIT) {
      this.#dropped++
      return false
    }
    this.#buffer += line
    if (this.#buffer.length >= BATCH) this.#flush()
    return true
  }

  /** Writes everything buffered, synchronously: for exit paths. */
  flushSync(): void {
    const text = this.#take()
    if (text === '') return
    try {
      writeSync(this.#fd, text)
    } catch {
      // stdout is gone (a closed pipe); nothing left to tell.
    }
  }

  #take(): string {
    let text = this.#buffer
    this.#buffer = ''
    if (this.#dropped > 0) {
      text += `${JSON.stringify({ level: 'warn', time: new Date().toISOString(), pid: process.pid, msg: 'log lines dropped: output was not being read', dropped: this.#dropped })}\n`
      this.#dropped = 0
    }
    return text
  }

  #flush(): void {
    if (this.#writing || (this.#buffer === '' && this.#dropped === 0)) return
    const text = this.#take()
    this.#writing = true
    write(this.#fd, text, null, 'utf8', (err, written) => {
      this.#writing = false
      // A partial write (a full pipe) puts the rest back in front; an error (a closed pipe) drops it.
      if (!err && written < Buffer.byteLength(text))
        this.#buffer = Buffer.from(text).subarray(written).toString() + this.#buffer
      if (this.#buffer.length >= BATCH) this.#flush()
    })
  }
}
