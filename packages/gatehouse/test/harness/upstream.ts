/**
 * Real HTTP upstreams on 127.0.0.1 port 0 for end-to-end tests. The default handler echoes what it
 * received (method, url, headers, body size) as JSON, so tests assert on what the gateway forwarded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { trackServer } from './resources.ts'

export interface EchoBody {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  rawHeaders: string[]
  bodyBytes: number
}

export interface Upstream {
  readonly server: Server
  readonly url: string
  readonly port: number
  /** Requests received so far. */
  readonly requests: EchoBody[]
  close(): Promise<void>
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** Echoes each request back as JSON after reading the whole body. */
export const echoHandler: Handler = (req, res) => {
  let bytes = 0
  req.on('data', (c: Buffer) => {
    bytes += c.length
  })
  req.on('end', () => {
    const body = JSON.stringify({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyBytes: bytes,
    } satisfies EchoBody)
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
}

export async function startUpstream(handler: Handler = echoHandler): Promise<Upstream> {
  const requests: EchoBody[] = []
  const sockets = new Set<Socket>()
  const server = createServer((req, res) => {
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      bodyBytes: 0,
    })
    handler(req, res)
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  trackServer('upstream', server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A port with nothing listening (bound then released). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** A declarative config with one service in front of `url` and the given routes. */
export function serviceConfig(
  url: string,
  routes: object[] = [{ name: 'all', paths: ['/'] }],
  extra: object = {},
): object {
  return { _format_version: '3.0', services: [{ name: 'svc', url, routes }], ...extra }
}
