/**
 * The proxy listener: plain node:http, tuned for a reverse proxy (no whole-request timeout, so long
 * uploads stream; a header timeout against slow-header clients; Nagle off).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ProxyServerOptions {
  keepAliveTimeout: number
  headersTimeout: number
  maxHeaderSize: number
}

export function createProxyServer(
  options: ProxyServerOptions,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const server = createServer(
    {
      keepAliveTimeout: options.keepAliveTimeout,
      headersTimeout: options.headersTimeout,
      // Bodies may legitimately take long (a 1 GB upload); write_timeout guards the upstream side.
      requestTimeout: 0,
      maxHeaderSize: options.maxHeaderSize,
      noDelay: true,
    },
    onRequest,
  )
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return
    const status =
      err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
    const body = JSON.stringify({
      message:
        status === 431
          ? 'Request header fields too large'
          : status === 408
            ? 'Request timeout'
            : 'Bad request',
      code: 'GH_ERR_REQUEST_INVALID',
      statusCode: status,
    })
    socket.end(
      `HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    )
  })
  return server
}

/** Parses `HOST:PORT` (IPv6 in brackets). */
export function parseListen(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d{1,5})$/.exec(address)
  if (!m) throw new TypeError(`invalid listen address '${address}': expected HOST:PORT`)
  const port = Number(m[2])
  if (port > 65_535) throw new TypeError(`invalid listen address '${address}': port must be 0..65535`)
  return { host: m[1]!, port }
}

/** Listens and resolves with the address actually bound (port 0 picks a free port). */
export function listen(server: Server, address: string): Promise<string> {
  const { host, port } = parseListen(address)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, backlog: 2048 }, () => {
      server.off('error', reject)
      const bound = server.address() as AddressInfo
      resolve(bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`)
    })
  })
}
