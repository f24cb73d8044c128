/**
 * Appending whole lines to one file without blocking the event loop: lines gathered during a turn of the
 * loop are written together by one asynchronous write (thread pool), one batch at a time per file.
 *
 * Lines stay whole with several writers (the workers of a node, or two plugin instances naming the same
 * file): the file is opened with O_APPEND and each write call carries whole lines only, and Linux
 * appends the bytes of one write(2) to a regular file as one piece (the inode is locked for the write),
 * so another process's write lands before or after it, never inside. (Not on NFS, where O_APPEND is
 * emulated: docs/plugins.md says so.)
 *
 * A file that cannot be opened or written is warned about once (its path and the error code; an entry
 * is never in the message) until a write succeeds again; its lines are dropped and counted. Memory is
 * bounded: past HELD_LIMIT characters waiting, new lines are dropped and counted.
 */
import { constants, type FileHandle, open } from 'node:fs/promises'
import { logShipping } from '../../observability/log-shipping.ts'
import type { Logger } from '../../observability/logger.ts'

/** Most characters held while a write is in flight (a stalled disk): 16 MiB, as the process's own log writer. */
const HELD_LIMIT = 16 * 1024 * 1024
/** Most characters in one write call, extended to the end of a line. */
const MAX_BATCH = 1024 * 1024
const FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND
const MODE = 0o644

export class FileAppender {
  readonly path: string
  readonly #reopen: boolean
  readonly #logger: Logger
  #handle: FileHandle | null = null
  /** Whole lines not yet handed to a write. */
  #text = ''
  #lines = 0
  /** The batch being written, or null when idle. */
  #writing: Promise<void> | null = null
  #scheduled = false
  /** Set while the file is failing: the warning was given, and is not repeated until a write succeeds. */
  #failing = false
  /** Released by its last user: a late line (a request that outlived its configuration) is still written, the file closed after. */
  #closed = false

  constructor(path: string, reopen: boolean, logger: Logger) {
    this.path = path
    this.#reopen = reopen
    this.#logger = logger
  }

  /** Queues one line (with its newline). Never throws, never waits. */
  append(line: string): void {
    if (this.#text.length + line.length > HELD_LIMIT) {
      logShipping.dropped('file-log', 'queue_full', 1)
      return
    }
    this.#text += line
    this.#lines++
    if (!this.#scheduled && this.#writing === null) {
      this.#scheduled = true
      // After this turn of the loop: the lines of every request finishing in it go in one write.
      setImmediate(() => {
        this.#scheduled = false
        this.#writing ??= this.#drain()
      })
    }
  }

  /** Writes what is held, then closes the file. */
  async close(): Promise<void> {
    this.#closed = true
    while (this.#writing !== null || this.#text !== '') {
      this.#writing ??= this.#drain()
      await this.#writing
    }
    await this.#closeHandle()
  }

  async #drain(): Promise<void> {
    try {
      while (this.#text !== '') {
        let text = this.#text
        let lines = this.#lines
        const end = text.length > MAX_BATCH ? text.indexOf('\n', MAX_BATCH - 1) + 1 : 0
        if (end > 0 && end < text.length) {
          text = text.slice(0, end)
          lines = countLines(text)
          this.#text = this.#text.slice(end)
          this.#lines -= lines
        } else {
          this.#text = ''
          this.#lines = 0
        }
        await this.#write(Buffer.from(text, 'utf8'), lines)
      }
    } finally {
      this.#writing = null
    }
  }

  async #write(bytes: Buffer, lines: number): Promise<void> {
    try {
      this.#handle ??= await open(this.path, FLAGS, MODE)
      let offset = 0
      // A regular file takes the whole write unless the disk is full; the loop is for that rare case.
      while (offset < bytes.length) {
        const { bytesWritten } = await this.#handle.write(bytes, offset, bytes.length - offset, null)
        offset += bytesWritten
      }
      logShipping.sent('file-log', lines)
      if (this.#failing) {
        this.#failing = false
        this.#logger.info({ path: this.path }, 'file-log: writing to the log file again')
      }
    } catch (err) {
      logShipping.dropped('file-log', 'unwritable', lines)
      if (!this.#failing) {
        this.#failing = true
        const code = (err as NodeJS.ErrnoException).code ?? 'unknown'
        this.#logger.warn(
          { path: this.path, code, dropped: lines },
          'file-log: cannot write the log file; entries are dropped (and counted) until it can',
        )
      }
      // Opened again for the next batch: the directory may be created, a permission fixed.
      await this.#closeHandle()
      return
    }
    if (this.#reopen || this.#closed) await this.#closeHandle()
  }

  async #closeHandle(): Promise<void> {
    const handle = this.#handle
    this.#handle = null
    await handle?.close().catch(() => {})
  }
}

function countLines(text: string): number {
  let n = 0
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++
  return n
}

/** One appender per file and mode in the process, shared by every instance naming it (and across reloads). */
const appenders = new Map<string, { appender: FileAppender; users: number }>()

export function acquireAppender(path: string, reopen: boolean, logger: Logger): FileAppender {
  const key = `${reopen ? 1 : 0}${path}`
  let shared = appenders.get(key)
  if (shared === undefined) {
    shared = { appender: new FileAppender(path, reopen, logger), users: 0 }
    appenders.set(key, shared)
  }
  shared.users++
  return shared.appender
}

/** Lets go of an appender; the last user writes what it holds and closes the file. */
export async function releaseAppender(appender: FileAppender, reopen: boolean): Promise<void> {
  const key = `${reopen ? 1 : 0}${appender.path}`
  const shared = appenders.get(key)
  if (shared === undefined || shared.appender !== appender) return
  if (--shared.users > 0) return
  appenders.delete(key)
  await appender.close()
}
