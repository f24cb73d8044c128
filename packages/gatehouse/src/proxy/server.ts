/**
 * The proxy listener: plain node:http, tuned for a reverse proxy (no whole-request timeout, so long
 * uploads stream; a header timeout against slow-header clients; Nagle off). The HTTPS listener
 * (proxy/tls.ts) takes the same options and answers refused requests the same way.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http'
import type { AddressInfo, Server as NetServer } from 'node:net'
import type { Duplex } from 'node:stream'
import { listenAddress } from '../config/schema/typedefs.ts'
import { GatehouseError } from '../errors/errors.ts'
import { errorEnvelope } from '../errors/respond.ts'

export interface ProxyServerOptions {
  keepAliveTimeout: number
  headersTimeout: number
  maxHeaderSize: number
}

export function createProxyServer(
  options: ProxyServerOptions,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const server = createServer(http1Options(options), onRequest)
  answerClientErrors(server)
  return server
}

/** node:http's options for a proxy listener (HTTPS over HTTP/1.1 takes the same). */
export function http1Options(options: ProxyServerOptions) {
  return {
    keepAliveTimeout: options.keepAliveTimeout,
    headersTimeout: options.headersTimeout,
    // Bodies may legitimately take long (a 1 GB upload); write_timeout guards the upstream side.
    requestTimeout: 0,
    maxHeaderSize: options.maxHeaderSize,
    noDelay: true,
  }
}

/** Requests Node's parser refuses never reach the pipeline; answer them in the same envelope. */
export function answerClientErrors(server: NetServer): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) return
    const error =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? new GatehouseError('GH_ERR_REQUEST_HEADERS_TOO_LARGE', 'Request header fields too large')
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? new GatehouseError('GH_ERR_REQUEST_TIMEOUT', 'Request timeout')
          : new GatehouseError('GH_ERR_REQUEST_INVALID', 'Bad request')
    const body = JSON.stringify(errorEnvelope(error))
    socket.end(
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `connection: close\r\n\r\n${body}`,
    )
  })
}

/** Parses `HOST:PORT` (IPv6 in brackets), by the same rule the config schema applies to listen addresses. */
export function parseListen(address: string): { host: string; port: number } {
  const checked = listenAddress.safeParse(address)
  if (!checked.success)
    throw new TypeError(`invalid listen address '${address}': ${checked.error.issues[0]!.message}`)
  const colon = address.lastIndexOf(':')
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(colon + 1)) }
}

/** Listens and resolves with the address actually bound (port 0 picks a free port). */
export function listen(server: NetServer, address: string): Promise<string> {
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
