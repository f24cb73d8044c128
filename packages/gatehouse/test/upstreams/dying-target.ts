/**
 * A real HTTP target on 127.0.0.1 that records every request whose whole body it received (by the
 * `x-test-id` header, checking the body carries the same id, so a replayed body must be the same bytes)
 * and can go away the ways a target does: shut down (the listener closes, so the port refuses, and each
 * keep-alive connection closes once it has answered), have its connections cut under requests that had
 * sent it nothing yet, or read a request and then drop the connection without answering.
 *
 * The listener is a net.Server handing sockets to the HTTP server, so that closing the listener leaves
 * the connections to this target's own decision (http.Server.close would also cut idle ones at once).
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createNetServer, type Server, type Socket } from 'node:net'
import { trackServer } from '../harness/resources.ts'

export interface Received {
  readonly id: string
  readonly method: string
  /** The target was shutting down when the request arrived (it answered, then closed the connection). */
  readonly whileClosing: boolean
}

/** What a request's body must be: its id, padded, so that a truncated or mixed-up body shows. */
export function bodyFor(id: string, size: number): string {
  return JSON.stringify({ id, pad: 'x'.repeat(size) })
}

export class DyingTarget {
  readonly name: string
  port = 0
  readonly received: Received[] = []
  /** Requests whose body did not carry their id: never expected. */
  readonly corrupt: string[] = []
  /** Bytes each cut connection had received from the gateway, in the order they were cut. */
  readonly cutBytes: number[] = []
  /** Paths starting with this read the whole request, record it, and drop the connection unanswered. */
  dropAfterReading = '/drop'
  readonly #http = createHttpServer((req, res) => this.#handle(req, res))
  #listener: Server | null = null
  readonly #sockets = new Set<Socket>()
  #closing = false

  constructor(name: string) {
    this.name = name
  }

  get address(): string {
    return `127.0.0.1:${this.port}`
  }

  /** Open connections from the gateway. */
  get connections(): number {
    return this.#sockets.size
  }

  async start(): Promise<this> {
    const listener = createNetServer((socket) => {
      this.#sockets.add(socket)
      socket.once('close', () => this.#sockets.delete(socket))
      this.#http.emit('connection', socket)
    })
    trackServer(`target ${this.name}`, listener)
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
    this.port = (listener.address() as { port: number }).port
    this.#listener = listener
    return this
  }

  /**
   * Stops taking connections (the port refuses from now on) and closes every keep-alive connection
   * once it has answered the request it has or gets next (`Connection: close`), never one that may hold
   * a request it did not read: a request cut that way may have been delivered for all the gateway can
   * tell, and is rightly not replayed, which is a different test.
   */
  shutDown(): void {
    this.#closing = true
    this.#listener?.close()
    this.#listener = null
  }

  /** Cuts every connection at once, recording what each had received; `refuse` closes the listener too. */
  cutConnections(refuse: boolean): void {
    if (refuse) {
      this.#listener?.close()
      this.#listener = null
    }
    for (const socket of this.#sockets) {
      this.cutBytes.push(socket.bytesRead)
      socket.destroy()
    }
  }

  async stop(): Promise<void> {
    this.#listener?.close()
    this.#listener = null
    for (const socket of this.#sockets) socket.destroy()
    this.#http.close()
  }

  ids(): string[] {
    return this.received.map((r) => r.id)
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const whileClosing = this.#closing
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const id = String(req.headers['x-test-id'] ?? '')
      const body = Buffer.concat(chunks).toString('utf8')
      if (body !== '' && idOf(body) !== id) this.corrupt.push(id)
      this.received.push({ id, method: req.method ?? '', whileClosing })
      if (req.url?.startsWith(this.dropAfterReading)) {
        req.socket.destroy()
        return
      }
      const answer = JSON.stringify({ target: this.name, id })
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(answer),
      }
      if (this.#closing) headers.connection = 'close'
      res.writeHead(200, headers).end(answer)
    })
  }
}

function idOf(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { id?: string }).id
  } catch {
    return undefined
  }
}
