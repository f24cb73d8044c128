/**
 * Messages between the primary and one worker over node:cluster's IPC channel (`serialization:
 * 'advanced'`, so Maps, typed arrays and `undefined` arrive as sent). Three shapes:
 *   { t: 'call', id, op, args }   a question; the other side answers with one 'reply' of the same id
 *   { t: 'reply', id, ok, value | error }
 *   { t: 'event', op, args }      one-way news (a revocation, new keys)
 * A call the other side never answers (it exited) is rejected when the channel closes, so no caller
 * waits forever on a dead worker.
 */
export type Handler = (args: unknown) => unknown

interface Endpoint {
  send(message: unknown, callback: (error: Error | null) => void): unknown
  on(event: 'message', listener: (message: unknown) => void): unknown
}

type Message =
  | { t: 'call'; id: number; op: string; args: unknown }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; error: string }
  | { t: 'event'; op: string; args: unknown }

export class ChannelClosed extends Error {
  override name = 'ChannelClosed'
}

export class Channel {
  readonly #endpoint: Endpoint
  readonly #handlers = new Map<string, Handler>()
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  #nextId = 1
  #closed = false

  constructor(endpoint: Endpoint) {
    this.#endpoint = endpoint
    endpoint.on('message', (message) => this.#receive(message as Message))
  }

  /** Answers calls and events named `op` (one handler per op; a later one replaces it). */
  handle(op: string, handler: Handler): this {
    this.#handlers.set(op, handler)
    return this
  }

  call<T>(op: string, args?: unknown): Promise<T> {
    if (this.#closed) return Promise.reject(new ChannelClosed(`channel closed (${op})`))
    const id = this.#nextId++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.#send({ t: 'call', id, op, args })
    })
  }

  event(op: string, args?: unknown): void {
    if (!this.#closed) this.#send({ t: 'event', op, args })
  }

  /** The other side is gone: every unanswered call is rejected. */
  close(): void {
    this.#closed = true
    for (const { reject } of this.#pending.values()) reject(new ChannelClosed('the other process exited'))
    this.#pending.clear()
  }

  #send(message: Message): void {
    // With a callback, a send to a process that just went away fails here (not as an 'error' event
    // nobody listens to): a call is rejected at once, the rest is dropped.
    const failed = (error: Error | null) => {
      if (error === null || message.t !== 'call') return
      const pending = this.#pending.get(message.id)
      this.#pending.delete(message.id)
      pending?.reject(new ChannelClosed(`the other process is gone (${message.op})`))
    }
    try {
      this.#endpoint.send(message, failed)
    } catch (error) {
      failed(error as Error)
    }
  }

  #receive(message: Message): void {
    if (message === null || typeof message !== 'object' || !('t' in message)) return
    if (message.t === 'reply') {
      const pending = this.#pending.get(message.id)
      if (pending === undefined) return
      this.#pending.delete(message.id)
      if (message.ok) pending.resolve(message.value)
      else pending.reject(new Error(message.error))
      return
    }
    const handler = this.#handlers.get(message.op)
    if (message.t === 'event') {
      // News that cannot be taken (a malformed message, a failing handler) must not end the process.
      Promise.resolve()
        .then(() => handler?.(message.args))
        .catch(() => {})
      return
    }
    const id = message.id
    if (handler === undefined) {
      this.#send({ t: 'reply', id, ok: false, error: `no handler for '${message.op}'` })
      return
    }
    Promise.resolve()
      .then(() => handler(message.args))
      .then(
        (value) => this.#send({ t: 'reply', id, ok: true, value }),
        (err: unknown) =>
          this.#send({ t: 'reply', id, ok: false, error: (err as Error)?.message ?? String(err) }),
      )
  }
}
