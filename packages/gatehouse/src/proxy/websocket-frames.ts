/**
 * Just enough of RFC 6455's framing (§5.2) for a proxy that relays the bytes of a WebSocket untouched:
 * where each frame ends, so the gateway can put a close frame of its own between two frames (at shutdown
 * or idle timeout) without cutting one in half, and the close frame itself. Payloads are never read,
 * unmasked or buffered; a chunk is scanned in a few steps whatever its size.
 */
import { randomFillSync } from 'node:crypto'

/** Follows a stream of frames, one direction of a WebSocket, as its bytes go by. */
export class FrameCursor {
  /** Bytes of the current frame's payload still to come. */
  #payloadLeft = 0
  /** The current frame's head (2 to 14 bytes) as far as it has arrived; 0 between frames. */
  readonly #head = Buffer.alloc(14)
  #have = 0
  #need = 2

  /** Between two frames: nothing of the next one has gone by. */
  get atBoundary(): boolean {
    return this.#payloadLeft === 0 && this.#have === 0
  }

  /** Follows `chunk` whole. */
  advance(chunk: Buffer): void {
    this.#scan(chunk, false)
  }

  /**
   * Follows `chunk` up to the first frame boundary and returns its offset (0 when already at one), or -1
   * when the chunk ends inside a frame (then all of it was followed).
   */
  advanceToBoundary(chunk: Buffer): number {
    return this.#scan(chunk, true)
  }

  #scan(chunk: Buffer, stop: boolean): number {
    const n = chunk.length
    let i = 0
    while (i < n) {
      if (stop && this.atBoundary) return i
      if (this.#payloadLeft > 0) {
        const take = Math.min(this.#payloadLeft, n - i)
        this.#payloadLeft -= take
        i += take
        continue
      }
      this.#head[this.#have++] = chunk[i++]!
      if (this.#have === 2) this.#need = headLength(this.#head[1]!)
      if (this.#have === this.#need) {
        this.#payloadLeft = payloadLength(this.#head)
        this.#have = 0
        this.#need = 2
      }
    }
    return stop && this.atBoundary ? n : -1
  }
}

/** The head's length from its second byte: 2, plus the extended length (2 or 8), plus the mask (4). */
function headLength(second: number): number {
  const len7 = second & 0x7f
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (second & 0x80 ? 4 : 0)
}

function payloadLength(head: Buffer): number {
  const len7 = head[1]! & 0x7f
  if (len7 === 126) return head.readUInt16BE(2)
  // 2^53 bytes and more cannot be counted exactly; no peer sends a frame that large.
  if (len7 === 127) return Number(head.readBigUInt64BE(2))
  return len7
}

/** Close codes the gateway sends (RFC 6455 §7.4.1). */
export const GOING_AWAY = 1001

/**
 * A close frame with `code` and a short `reason` (at most 123 bytes of UTF-8). `masked`: frames to a
 * server (the upstream) must be masked by their sender (§5.3); frames to a client must not be.
 */
export function closeFrame(code: number, reason: string, masked: boolean): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, 123)
  const payload = Buffer.allocUnsafe(2 + text.length)
  payload.writeUInt16BE(code, 0)
  text.copy(payload, 2)
  if (!masked) return Buffer.concat([Buffer.from([0x88, payload.length]), payload])
  const mask = randomFillSync(Buffer.allocUnsafe(4))
  for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i & 3]!
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, payload])
}
