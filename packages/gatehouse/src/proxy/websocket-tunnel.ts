/**
 * An open WebSocket: the client's socket and the upstream's, piped both ways byte for byte (no frame is
 * decoded, so extensions such as permessage-deflate and subprotocols pass untouched) with backpressure:
 * a side whose socket is full pauses the other until it drains. The gateway closes a tunnel itself in two
 * cases, with a close frame 1001 (Going Away) to each side put between two frames (websocket-frames.ts):
 * the service's read_timeout passed with no byte in either direction (idle), or the gateway is shutting
 * down. Each side then has CLOSE_GRACE_MS to answer and hang up before its socket is destroyed.
 */
import type { Duplex } from 'node:stream'
import { closeFrame, FrameCursor, GOING_AWAY } from './websocket-frames.ts'

/** How long a side may take to answer the gateway's close frame and close its connection. */
export const CLOSE_GRACE_MS = 2000

export type TunnelEnd = 'closed' | 'idle' | 'shutdown' | 'error'

export interface TunnelTotals {
  /** Bytes relayed from the upstream to the client, and from the client to the upstream. */
  readonly toClient: number
  readonly toUpstream: number
  /** Who ended it: one side closed (`closed`), a socket failed (`error`), or the gateway (`idle`, `shutdown`). */
  readonly end: TunnelEnd
}

export class Tunnel {
  readonly #client: Duplex
  readonly #upstream: Duplex
  readonly #toClient: Relay
  readonly #toUpstream: Relay
  readonly #idle: NodeJS.Timeout | null
  readonly #onClosed: (totals: TunnelTotals) => void
  #open = 2
  #end: TunnelEnd | null = null
  #grace: NodeJS.Timeout | null = null

  /** `idleMs` 0: no idle timeout. `onClosed` runs once, when both sockets have closed. */
  constructor(client: Duplex, upstream: Duplex, idleMs: number, onClosed: (totals: TunnelTotals) => void) {
    this.#client = client
    this.#upstream = upstream
    this.#onClosed = onClosed
    const idle = idleMs > 0 ? setTimeout(() => this.close('idle', 'idle timeout'), idleMs) : null
    this.#idle = idle
    const touch = idle === null ? noop : () => idle.refresh()
    this.#toClient = new Relay(upstream, client, touch)
    this.#toUpstream = new Relay(client, upstream, touch)
    for (const socket of [client, upstream]) {
      socket.on('error', this.#onError)
      socket.once('close', this.#onSocketClose)
    }
    this.#toClient.start()
    this.#toUpstream.start()
  }

  /**
   * Sends each side a close frame 1001 with `reason` (between frames), stops relaying, and ends both
   * connections; destroys them if they are still open CLOSE_GRACE_MS later.
   */
  close(end: 'idle' | 'shutdown', reason: string): void {
    if (this.#end !== null || this.#open === 0) return
    this.#end = end
    if (this.#idle !== null) clearTimeout(this.#idle)
    this.#toClient.finishWith(closeFrame(GOING_AWAY, reason, false))
    this.#toUpstream.finishWith(closeFrame(GOING_AWAY, reason, true))
    this.#grace = setTimeout(() => this.destroy(), CLOSE_GRACE_MS)
  }

  /** Cuts both connections now. */
  destroy(): void {
    this.#client.destroy()
    this.#upstream.destroy()
  }

  readonly #onError = (): void => {
    this.#end ??= 'error'
    this.destroy()
  }

  readonly #onSocketClose = (): void => {
    // One side gone: the other is told by its connection's end (a WebSocket without its peer is over).
    this.#end ??= 'closed'
    if (--this.#open > 0) {
      this.#client.end()
      this.#upstream.end()
      this.#grace ??= setTimeout(() => this.destroy(), CLOSE_GRACE_MS)
      return
    }
    if (this.#idle !== null) clearTimeout(this.#idle)
    if (this.#grace !== null) clearTimeout(this.#grace)
    this.#onClosed({ toClient: this.#toClient.bytes, toUpstream: this.#toUpstream.bytes, end: this.#end })
  }
}

/** One direction: `from`'s bytes written to `to`, `from` paused while `to` is full. */
class Relay {
  readonly #from: Duplex
  readonly #to: Duplex
  readonly #cursor = new FrameCursor()
  readonly #touch: () => void
  /** The close frame to send once the frame in flight has gone through; null when not closing. */
  #closing: Buffer | null = null
  #stopped = false
  bytes = 0

  constructor(from: Duplex, to: Duplex, touch: () => void) {
    this.#from = from
    this.#to = to
    this.#touch = touch
  }

  start(): void {
    this.#from.on('data', this.#onData)
    this.#from.once('end', this.#onEnd)
    this.#from.resume()
  }

  /** Sends `frame` as soon as no frame is half-relayed, then ends `to` and drops what `from` sends after. */
  finishWith(frame: Buffer): void {
    if (this.#stopped) return
    if (this.#cursor.atBoundary) this.#stop(frame)
    else this.#closing = frame
  }

  #stop(frame: Buffer): void {
    this.#stopped = true
    this.#closing = null
    // Whatever the peer sends now (its own close frame, say) is read and dropped, so it is never held up.
    this.#from.resume()
    if (this.#to.writable) this.#to.end(frame)
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#stopped) return
    const closing = this.#closing
    if (closing !== null) {
      const boundary = this.#cursor.advanceToBoundary(chunk)
      const part = boundary === -1 ? chunk : chunk.subarray(0, boundary)
      this.bytes += part.length
      if (part.length > 0) this.#to.write(part)
      if (boundary !== -1) this.#stop(closing)
      return
    }
    this.#cursor.advance(chunk)
    this.bytes += chunk.length
    this.#touch()
    if (!this.#to.write(chunk)) {
      this.#from.pause()
      this.#to.once('drain', this.#onDrain)
    }
  }

  readonly #onDrain = (): void => {
    this.#from.resume()
  }

  readonly #onEnd = (): void => {
    if (!this.#stopped && this.#to.writable) this.#to.end()
  }
}

function noop(): void {}

/** The node's open tunnels, so that a shutdown can close them all (and one opening during it at once). */
export class TunnelSet {
  readonly #open = new Set<Tunnel>()
  #shutdownReason: string | null = null

  get size(): number {
    return this.#open.size
  }

  add(tunnel: Tunnel): void {
    if (this.#shutdownReason !== null) tunnel.close('shutdown', this.#shutdownReason)
    else this.#open.add(tunnel)
  }

  delete(tunnel: Tunnel): void {
    this.#open.delete(tunnel)
  }

  /** Closes every open tunnel with 1001 and `reason`, and every one opened from now on. */
  closeAll(reason: string): void {
    this.#shutdownReason = reason
    for (const tunnel of this.#open) tunnel.close('shutdown', reason)
  }
}
