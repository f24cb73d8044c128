/**
 * One access log per node: each worker writes its lines (access and operational) to its stdout, a
 * pipe to the primary, and the primary hands them to its own line writer, the node's only writer of
 * stdout. Lines reach the writer whole: a chunk from a worker is cut after its last newline and the rest
 * waits for the next chunk of the same worker, so two workers' lines never interleave inside a line
 * (which shared writes to one pipe would allow past PIPE_BUF). When the primary's writer is backed up,
 * reading from the workers pauses, their pipes fill and their own writers wait (they drop, and count,
 * only past their bound): the pressure reaches the workers instead of growing the primary's memory.
 */
import type { Readable } from 'node:stream'

export interface RelayTarget {
  write(line: string): unknown
  /** Bytes waiting to be written; reading pauses above `highWater`. */
  readonly pendingBytes?: number
}

const HIGH_WATER = 4 * 1024 * 1024
const CHECK_MS = 20

export class LogRelay {
  readonly #target: RelayTarget
  readonly #sources = new Set<Readable>()
  #paused = false
  #timer: NodeJS.Timeout | null = null

  constructor(target: RelayTarget) {
    this.#target = target
  }

  /** Relays `stream` (a worker's stdout) line by line until it ends. */
  add(stream: Readable): void {
    let rest: Buffer | null = null
    this.#sources.add(stream)
    stream.on('data', (chunk: Buffer) => {
      const end = chunk.lastIndexOf(10)
      if (end === -1) {
        rest = rest === null ? chunk : Buffer.concat([rest, chunk])
        return
      }
      const whole =
        rest === null ? chunk.subarray(0, end + 1) : Buffer.concat([rest, chunk.subarray(0, end + 1)])
      rest = end + 1 < chunk.length ? Buffer.from(chunk.subarray(end + 1)) : null
      // A newline byte never occurs inside a UTF-8 sequence: cutting there keeps every character whole.
      this.#target.write(whole.toString('utf8'))
      this.#pressure()
    })
    stream.once('close', () => {
      this.#sources.delete(stream)
      // A worker that died mid-line leaves half a JSON line: dropped, since a log reader must only
      // ever meet whole lines (the worker's exit is logged by the primary).
      rest = null
    })
  }

  #pressure(): void {
    const pending = this.#target.pendingBytes
    if (pending === undefined || this.#paused || pending < HIGH_WATER) return
    this.#paused = true
    for (const source of this.#sources) source.pause()
    this.#timer = setInterval(() => {
      if ((this.#target.pendingBytes ?? 0) >= HIGH_WATER / 2) return
      clearInterval(this.#timer!)
      this.#timer = null
      this.#paused = false
      for (const source of this.#sources) source.resume()
    }, CHECK_MS)
    this.#timer.unref()
  }
}
