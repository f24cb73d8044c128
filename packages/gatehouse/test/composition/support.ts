/**
 * Part services for the composition tests: real node:http servers on port 0 that record what each
 * request carried and when it arrived, plus servers that misbehave in the ways a composition must
 * survive (never answering, stalling mid-body).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer as createTcpServer, type Socket } from 'node:net'
import { trackServer } from '../harness/resources.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

export interface Arrival {
  readonly url: string
  readonly headers: IncomingMessage['headers']
  /** performance.now() when the request arrived, and when its answer was sent (0 while unanswered). */
  readonly arrivedAt: number
  answeredAt: number
}

export interface PartService extends Upstream {
  readonly arrivals: Arrival[]
}

export type PartHandler = (req: IncomingMessage, res: ServerResponse, arrival: Arrival) => void

/** Answers `{ "service": name, "url": … }` as JSON unless `handler` is given. */
export async function startPartService(name: string, handler?: PartHandler): Promise<PartService> {
  const arrivals: Arrival[] = []
  const upstream = await startUpstream((req, res) => {
    const arrival: Arrival = {
      url: req.url ?? '',
      headers: req.headers,
      arrivedAt: performance.now(),
      answeredAt: 0,
    }
    arrivals.push(arrival)
    res.once('finish', () => {
      arrival.answeredAt = performance.now()
    })
    if (handler) handler(req, res, arrival)
    else json(res, 200, { service: name, url: req.url })
  })
  return { ...upstream, arrivals }
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

/**
 * Holds each answer until `count` requests are waiting, then releases them all: a gateway that called
 * the parts one after another would never get the first answer (and would time out), one that calls
 * them in parallel gets every one.
 */
export function rendezvous(count: number): (release: () => void) => void {
  const waiting: (() => void)[] = []
  return (release) => {
    waiting.push(release)
    if (waiting.length === count) for (const r of waiting.splice(0)) r()
  }
}

/** A TCP server that accepts connections and never writes a byte: requests to it get no answer at all. */
export async function startBlackhole(): Promise<{
  url: string
  connections: () => number
  close(): Promise<void>
}> {
  const sockets = new Set<Socket>()
  let total = 0
  const server = createTcpServer((s) => {
    total++
    sockets.add(s)
    s.on('data', () => {})
    s.once('close', () => sockets.delete(s))
  })
  trackServer('blackhole', server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => total,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
