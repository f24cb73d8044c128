/**
 * The one writer of log lines (operational and access) to stdout or a file (issue 11, item 5). Lines are
 * appended to a string and written when 64 KiB have gathered, or every 100 ms, so a busy proxy makes a few
 * write calls a second instead of one per line. One writer for both kinds of line keeps them whole: two
 * buffers sharing a pipe could interleave halves of lines.
 *
 * Nothing is lost to a slow reader. Writes are synchronous calls on a non-blocking descriptor: they never
 * wait, and a full pipe answers EAGAIN, which keeps the data and retries on a timer. They are not
 * `fs.write` in the thread pool, because a write still in flight there cannot be accounted for by
 * `flushSync` at exit: writing its bytes again could duplicate them, skipping them could lose or split a
 * line. A partial write keeps the unwritten bytes (never re-encoded text, which could split a UTF-8
 * character) and writes them before anything else, so every write call starts and ends at a line boundary
 * but for that remainder: lines stay whole even on a pipe shared with other writers.
 *
 * Memory is bounded: past `limit` (16 MiB by default) new lines are dropped whole and counted, and a
 * warning line says how many once writing resumes. A closed output (EPIPE, EBADF) stops the writer for
 * good; what it still held counts as dropped. `droppedTotal` feeds `gatehouse_log_lines_dropped_total`.
 */
import { writeSync } from 'node:fs'

/** Characters gathered before they are written rather than left for the timer. */
const BATCH = 64 * 1024
/** Characters handed to one write call at most, extended to the end of a line: bounds the copy to bytes. */
const MAX_WRITE = 1024 * 1024
const LIMIT = 16 * 1024 * 1024
const INTERVAL_MS = 100
/**
 * Retries after EAGAIN: 1 ms first, as a reader that is reading drains a pipe within a millisecond, then
 * doubling to 50 ms, so a stopped reader costs at most 20 wake-ups a second and a returning one waits less
 * than the flush interval.
 */
const RETRY_FIRST_MS = 1
const RETRY_MAX_MS = 50
/**
 * How long flushSync waits in all for an output that takes nothing: exit paths cannot wait forever, and a
 * reader that is reading takes even a full 16 MiB buffer well within it.
 */
const EXIT_WAIT_MS = 2000
/** Errors that mean the output is gone; any other (EAGAIN, EWOULDBLOCK, EINTR, ENOSPC...) is retried. */
const CLOSED = new Set(['EPIPE', 'EBADF', 'ECONNRESET', 'ENOTCONN'])

export interface LineWriterOptions {
  /**
   * Most lines held while the output does not take them, in UTF-16 code units of lines not yet written
   * plus bytes of the batch being written (about 1 MiB at most). Default: 16 MiB.
   */
  readonly limit?: number
}

/** What one write call did. */
type Step = 'empty' | 'all' | 'part' | 'wait' | 'closed'

const sleeper = new Int32Array(new SharedArrayBuffer(4))

export class LineWriter {
  readonly #fd: number
  readonly #limit: number
  /** Whole lines not yet written. */
  #text = ''
  /** The bytes of the batch being written that no write took yet; written before any of `#text`. */
  #pending: Buffer | null = null
  #pendingBytes = 0
  /** Dropped since the last warning line. */
  #dropped = 0
  #droppedTotal = 0
  #closed = false
  #retry: NodeJS.Timeout | null = null
  #delay = RETRY_FIRST_MS
  readonly #timer: NodeJS.Timeout

  constructor(fd: number, options: LineWriterOptions = {}) {
    this.#fd = fd
    this.#limit = options.limit ?? LIMIT
    // Node has no fcntl: libuv sets O_NONBLOCK on a pipe or socket when it opens stdout's stream, which
    // keeps a stalled reader from blocking writeSync (and the event loop). Files and terminals take writes
    // at once anyway.
    if (fd === 1) void process.stdout
    this.#timer = setInterval(() => this.#flush(), INTERVAL_MS)
    this.#timer.unref()
  }

  /** Lines dropped since the start: at the memory bound, or held when the output closed. */
  get droppedTotal(): number {
    return this.#droppedTotal
  }

  /** What is held and not yet written (characters of whole lines plus bytes of a partial write). */
  get pendingBytes(): number {
    return this.#text.length + this.#pendingBytes
  }

  /** Appends one line (with its newline). Never throws, never blocks; false when the line was dropped. */
  write(line: string): boolean {
    if (this.#closed || this.#text.length + this.#pendingBytes + line.length > this.#limit) {
      this.#dropped++
      this.#droppedTotal++
      return false
    }
    if (this.#dropped !== 0) this.#warnDropped()
    this.#text += line
    if (this.#text.length >= BATCH) this.#flush()
    return true
  }

  /**
   * Writes everything held, synchronously: for exit paths. Waits for a full output for EXIT_WAIT_MS at
   * most; what is left then stays held, for the timer to write if the process goes on.
   */
  flushSync(): void {
    if (this.#closed) return
    if (this.#retry !== null) clearTimeout(this.#retry)
    this.#retry = null
    const deadline = performance.now() + EXIT_WAIT_MS
    let delay = RETRY_FIRST_MS
    for (;;) {
      const step = this.#step()
      if (step === 'empty' || step === 'closed') return
      if (step === 'wait') {
        const left = deadline - performance.now()
        if (left <= 0) {
          this.#retryLater()
          return
        }
        Atomics.wait(sleeper, 0, 0, Math.min(delay, left))
        delay = Math.min(delay * 2, RETRY_MAX_MS)
      } else delay = RETRY_FIRST_MS
    }
  }

  #flush(): void {
    if (this.#retry !== null || this.#closed) return
    for (;;) {
      const step = this.#step()
      if (step === 'all') continue
      // After a partial write the output is full: asking again at once would only get EAGAIN.
      if (step === 'part' || step === 'wait') this.#retryLater()
      return
    }
  }

  #retryLater(): void {
    this.#retry = setTimeout(() => {
      this.#retry = null
      this.#flush()
    }, this.#delay)
    this.#retry.unref()
    this.#delay = Math.min(this.#delay * 2, RETRY_MAX_MS)
  }

  /** One write call: the rest of the batch being written, else the next whole lines. */
  #step(): Step {
    const batch = this.#pending ?? this.#nextBatch()
    if (batch === null) return 'empty'
    let written: number
    try {
      written = writeSync(this.#fd, batch)
    } catch (err) {
      if (!CLOSED.has((err as NodeJS.ErrnoException).code ?? '')) return 'wait'
      this.#close()
      return 'closed'
    }
    if (written === 0) return 'wait'
    this.#delay = RETRY_FIRST_MS
    if (written === batch.length) {
      this.#setPending(null)
      return 'all'
    }
    this.#setPending(batch.subarray(written))
    return 'part'
  }

  /** The next lines as bytes (one conversion per batch, never per line), or null when none are held. */
  #nextBatch(): Buffer | null {
    // The previous batch is out: writing has resumed, so now is when to say what was dropped.
    if (this.#dropped !== 0) this.#warnDropped()
    if (this.#text === '') return null
    let text = this.#text
    const end = text.length > MAX_WRITE ? text.indexOf('\n', MAX_WRITE - 1) + 1 : 0
    if (end > 0 && end < text.length) {
      this.#text = text.slice(end)
      text = text.slice(0, end)
    } else this.#text = ''
    this.#setPending(Buffer.from(text, 'utf8'))
    return this.#pending
  }

  #setPending(bytes: Buffer | null): void {
    this.#pending = bytes
    this.#pendingBytes = bytes === null ? 0 : bytes.length
  }

  #warnDropped(): void {
    this.#text += `${JSON.stringify({ level: 'warn', time: new Date().toISOString(), pid: process.pid, msg: 'log lines dropped: the output was not taking them', dropped: this.#dropped })}\n`
    this.#dropped = 0
  }

  #close(): void {
    this.#closed = true
    clearInterval(this.#timer)
    if (this.#retry !== null) clearTimeout(this.#retry)
    this.#retry = null
    this.#droppedTotal += lineCount(this.#text) + (this.#pending === null ? 0 : lineCount(this.#pending))
    this.#text = ''
    this.#setPending(null)
  }
}

/** Lines in `data`; the unwritten end of a line counts as one. */
function lineCount(data: string | Buffer): number {
  let n = 0
  for (let i = data.indexOf('\n'); i !== -1; i = data.indexOf('\n', i + 1)) n++
  return n
}
