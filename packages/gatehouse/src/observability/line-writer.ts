/**
 * The one writer of log lines (operational and access) to stdout or a file (issue 11, item 5). Lines are
 * encoded into a byte slab as they come and written when 64 KiB have gathered, or every 100 ms, so a busy
 * proxy makes a few write calls a second instead of one per line. Encoding each line at once, rather than
 * joining lines into one string to encode per batch, lets each line's string die young: a batch-long rope
 * of strings outlived the young generation, and flattening it cost more than building the lines (issue
 * 11's profile: 2.3 µs a request). One writer for both kinds of line keeps them whole: two
 * buffers sharing a pipe could interleave halves of lines.
 *
 * Nothing is lost to a slow reader. Writes are synchronous calls on a non-blocking descriptor: they never
 * wait, and a full pipe answers EAGAIN, which keeps the data and retries on a timer. They are not
 * `fs.write` in the thread pool, because a write still in flight there cannot be accounted for by
 * `flushSync` at exit: writing its bytes again could duplicate them, skipping them could lose or split a
 * line. A partial write keeps the unwritten bytes and writes them before anything else, so every write call starts and ends at a line boundary
 * but for that remainder: lines stay whole even on a pipe shared with other writers.
 *
 * Memory is bounded: past `limit` (16 MiB by default) held, new lines are dropped whole and counted, and a
 * warning line says how many once writing resumes. A closed output (EPIPE, EBADF) stops the writer for
 * good; what it still held counts as dropped. `droppedTotal` feeds `gatehouse_log_lines_dropped_total`.
 */
import { writeSync } from 'node:fs'

/** Bytes gathered before they are written rather than left for the timer. */
const BATCH = 64 * 1024
/**
 * The slab lines are encoded into: room past BATCH for any line up to a third of the rest (UTF-8 takes
 * at most 3 bytes per UTF-16 code unit), so the line that crosses BATCH still fits. A longer line gets
 * a buffer of its own.
 */
const SLAB = 160 * 1024
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
  /** Most bytes held while the output does not take them. Default: 16 MiB. */
  readonly limit?: number
}

/** What one write call did. */
type Step = 'empty' | 'all' | 'part' | 'wait' | 'closed'

const sleeper = new Int32Array(new SharedArrayBuffer(4))

export class LineWriter {
  readonly #fd: number
  readonly #limit: number
  /**
   * Bytes waiting behind a write the output did not take whole, oldest first: each ends at the end of a
   * line, and only the first may begin inside one (the rest of a partial write). Written before the slab.
   */
  readonly #held: Buffer[] = []
  #heldBytes = 0
  /** Whole lines not yet written, encoded: `#slab[0, #used)`. */
  readonly #slab = Buffer.allocUnsafeSlow(SLAB)
  #used = 0
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

  /** The bytes held and not yet written. */
  get pendingBytes(): number {
    return this.#heldBytes + this.#used
  }

  /** Appends one line (with its newline). Never throws, never blocks; false when the line was dropped. */
  write(line: string): boolean {
    // The line's length in characters is at most its length in bytes: the bound is checked without
    // encoding, and may be passed by the last line's multi-byte characters only.
    if (this.#closed || this.#heldBytes + this.#used + line.length > this.#limit) {
      this.#dropped++
      this.#droppedTotal++
      return false
    }
    if (this.#dropped !== 0) this.#warnDropped()
    this.#append(line)
    if (this.#used >= BATCH) {
      if (this.#retry === null) this.#flush()
      // The output is not taking lines: the slab joins what waits, and a new one takes what comes.
      else this.#seal()
    }
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

  #append(line: string): void {
    if (line.length * 3 > SLAB - this.#used) {
      this.#seal()
      if (line.length * 3 > SLAB) {
        const bytes = Buffer.from(line, 'utf8')
        this.#held.push(bytes)
        this.#heldBytes += bytes.length
        return
      }
    }
    this.#used += this.#slab.write(line, this.#used)
  }

  /** The slab's lines join the held bytes, and the slab takes the next ones. */
  #seal(): void {
    if (this.#used === 0) return
    this.#hold(this.#slab.subarray(0, this.#used))
    this.#used = 0
  }

  /**
   * Holds a copy of `bytes` from the slab: a view would keep the whole slab (2.5 times the bytes) alive
   * for as long as the output is slow, and the bound counts bytes held. Only a slow output gets here.
   */
  #hold(bytes: Buffer): void {
    this.#held.push(Buffer.from(bytes))
    this.#heldBytes += bytes.length
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

  /**
   * One write call: the oldest held bytes, else the slab. The slab is used again either way: the rest of
   * one written in part is held as a copy.
   */
  #step(): Step {
    const fromHeld = this.#held.length > 0
    // What was held is out, so writing has resumed: now is when to say what was dropped.
    if (!fromHeld && this.#dropped !== 0) this.#warnDropped()
    if (!fromHeld && this.#used === 0) return 'empty'
    const batch = fromHeld ? this.#held[0]! : this.#slab.subarray(0, this.#used)
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
    if (fromHeld) {
      this.#heldBytes -= written
      if (written === batch.length) this.#held.shift()
      else this.#held[0] = batch.subarray(written)
    } else {
      if (written !== batch.length) this.#hold(batch.subarray(written))
      this.#used = 0
    }
    return written === batch.length ? 'all' : 'part'
  }

  #warnDropped(): void {
    const dropped = this.#dropped
    this.#dropped = 0
    this.#append(
      `${JSON.stringify({ level: 'warn', time: new Date().toISOString(), pid: process.pid, msg: 'log lines dropped: the output was not taking them', dropped })}\n`,
    )
  }

  #close(): void {
    this.#closed = true
    clearInterval(this.#timer)
    if (this.#retry !== null) clearTimeout(this.#retry)
    this.#retry = null
    for (const bytes of this.#held) this.#droppedTotal += lineCount(bytes)
    this.#droppedTotal += lineCount(this.#slab.subarray(0, this.#used))
    this.#held.length = 0
    this.#heldBytes = 0
    this.#used = 0
  }
}

/** Lines in `data`; the unwritten end of a line counts as one. */
function lineCount(data: Buffer): number {
  let n = 0
  for (let i = data.indexOf('\n'); i !== -1; i = data.indexOf('\n', i + 1)) n++
  return n
}
