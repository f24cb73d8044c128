/**
 * The client's streamed request body as one upstream attempt reads it. undici reads the stream it is
 * given and destroys it when the attempt fails, so an attempt never gets the client's request itself:
 * it gets this view over it, and a failed attempt leaves the client's connection and the unread rest of
 * its body intact for the next one (issue 10, section 5).
 *
 * A replay must send the same bytes, so the chunks an attempt took from the client are kept until the
 * exchange reports that something of the request was written upstream (`sent`); an attempt that wrote
 * nothing hands them to the next (`next`). Nothing is read ahead of what undici asks for, and nothing is
 * kept once a byte went out (the request may then have been delivered, and a body that may have been
 * delivered is never replayed), so a retry costs at most the chunk undici pulled before its first write.
 *
 * With a bound (`state.bodyLimit`, body-limit.ts) the bytes taken from the client are counted, across
 * attempts, and the chunk that crosses it is not passed on: the stream fails with BodyLimitExceededError
 * instead, which aborts the upstream request before its body is complete.
 */
import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { BodyLimitExceededError } from './body-limit.ts'

export class AttemptBody extends Readable {
  readonly #source: IncomingMessage
  /** Chunks of a previous attempt that wrote nothing; sent before anything new is read from the client. */
  readonly #carried: Buffer[]
  /**
   * The body so far, as the next attempt would need it (the carried chunks, then what this one read from
   * the client) while nothing was written; null once something was.
   */
  #taken: Buffer[] | null
  #sourceEnded: boolean
  #listening = false
  /** Most body bytes allowed (-1: no bound), and how many were taken from the client so far. */
  readonly #limit: number
  #received: number

  constructor(source: IncomingMessage, carried: Buffer[] = [], sourceEnded = false, limit = -1) {
    super()
    this.#source = source
    this.#carried = [...carried]
    this.#taken = carried
    this.#sourceEnded = sourceEnded
    this.#limit = limit
    // Everything taken before was carried here: a body is only handed on while nothing went out.
    let received = 0
    for (const chunk of carried) received += chunk.length
    this.#received = received
    // undici listens for errors only while it streams this body; the client can leave before (a bad
    // chunk refused by the parser destroys the request) or after. An 'error' with no listener would end
    // the process: the exchange hears of the client leaving from the pipeline (ClientGoneError) instead.
    this.on('error', ignore)
  }

  /** The exchange wrote part of the request (undici's onBodySent or onRequestSent). */
  sent(): void {
    this.#taken = null
  }

  /** The same body for the next attempt; only for an attempt that wrote nothing (no `sent`). */
  next(): AttemptBody {
    const taken = this.#taken
    if (taken === null) throw new TypeError('a body that may have been delivered is not replayed')
    this.destroy()
    return new AttemptBody(this.#source, taken, this.#sourceEnded, this.#limit)
  }

  /**
   * The upstream is not taking the body: undici paused this stream, or chunks wait here or in the
   * client's request unread. False while everything was passed on and the client sends nothing more.
   */
  get upstreamStalled(): boolean {
    return this.isPaused() || this.readableLength > 0 || this.#source.readableLength > 0
  }

  override _read(): void {
    while (this.#carried.length > 0) {
      if (!this.push(this.#carried.shift()!)) return
    }
    if (this.#sourceEnded) {
      this.push(null)
      return
    }
    if (this.#source.destroyed) {
      // The client left while an earlier attempt was failing: there is no rest of the body to send.
      this.destroy(clientGone())
      return
    }
    if (!this.#listening) {
      this.#listening = true
      this.#source
        .on('data', this.#onData)
        .once('end', this.#onEnd)
        .once('error', this.#onError)
        .once('close', this.#onClose)
    }
    this.#source.resume()
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    if (this.#listening) {
      this.#listening = false
      // Paused first: with no 'data' listener left, a flowing request would drop what arrives next.
      this.#source.pause()
      this.#source
        .off('data', this.#onData)
        .off('end', this.#onEnd)
        .off('error', this.#onError)
        .off('close', this.#onClose)
    }
    callback(err)
  }

  readonly #onData = (chunk: Buffer): void => {
    this.#received += chunk.length
    if (this.#limit >= 0 && this.#received > this.#limit) {
      this.destroy(new BodyLimitExceededError(`request body is larger than ${this.#limit} bytes`))
      return
    }
    this.#taken?.push(chunk)
    if (!this.push(chunk)) this.#source.pause()
  }

  readonly #onEnd = (): void => {
    this.#sourceEnded = true
    this.push(null)
  }

  readonly #onError = (): void => {
    this.destroy(clientGone())
  }

  readonly #onClose = (): void => {
    if (!this.#sourceEnded) this.destroy(clientGone())
  }
}

function ignore(): void {}

/**
 * The client went away in the middle of its body. Its own error (ECONNRESET "aborted") must not pass
 * for an upstream connection failure: this code makes forward.ts treat it as the client leaving.
 */
function clientGone(): Error {
  return Object.assign(new Error('client closed the connection while sending the body'), {
    code: 'GH_CLIENT_GONE',
  })
}
