/**
 * The proxy listener: plain node:http, tuned for a reverse proxy (no whole-request timeout, so long
 * uploads stream; a header timeout against slow-header clients; Nagle off) and held to RFC 9112's
 * parsing rules whatever flags Node runs with. The HTTPS listener (proxy/tls.ts) takes the same options
 * and answers refused requests the same way (client-errors.ts); the pipeline checks what Node's parser
 * lets through (pipeline/request-head.ts).
 */
import { createServer, type IncomingMessage, type Server, ServerResponse } from 'node:http'
import type { AddressInfo, Server as NetServer, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { MAX_HEADER_COUNT_LIMIT } from '../config/schema/settings.ts'
import { listenAddress } from '../config/schema/typedefs.ts'
import { answerClientErrors, trackResponses } from './client-errors.ts'
import { deferContinue } from './expect-continue.ts'
import { acceptPriorKnowledge } from './h2c.ts'

export interface ProxyServerOptions {
  keepAliveTimeout: number
  headersTimeout: number
  maxHeaderSize: number
  /** Also serve HTTP/2 with prior knowledge (h2c.ts); the plain listener only. */
  h2c?: boolean
}

export function createProxyServer(
  options: ProxyServerOptions,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): Server {
  const handler = trackResponses(onRequest)
  const server = createServer(http1Options(options), handler)
  deferContinue(server, handler)
  limitHeaderCount(server)
  answerClientErrors(server)
  acceptUpgrades(server, handler)
  if (options.h2c === true) acceptPriorKnowledge(server, options, handler)
  return server
}

/**
 * Requests that ask to switch protocols (`Connection: upgrade` + `Upgrade`) go through the pipeline
 * like any other, with a response bound to their socket: a refusal is an ordinary HTTP answer (then the
 * connection closes), and a WebSocket handshake the upstream accepts takes the socket over
 * (pipeline/websocket.ts). Without this, node:http would hand them to the request handler as plain
 * requests and the upstream's 101 could never reach the client.
 */
export function acceptUpgrades(
  server: NetServer,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Bytes the client sent after the handshake (its first frames) are read again by the tunnel.
    if (head.length > 0) socket.unshift(head)
    const res = new ServerResponse(req)
    res.shouldKeepAlive = false
    res.assignSocket(socket as Socket)
    res.once('finish', () => {
      // Answered without switching (a refusal, or the upstream's own answer): the connection ends.
      const net = socket as Partial<Pick<Socket, 'destroySoon'>>
      if (typeof net.destroySoon === 'function') net.destroySoon()
      else socket.destroy()
    })
    handler(req, res)
  })
}

/**
 * Node keeps the first 2000 header lines of a request and drops the rest without a word; told one more
 * than proxy.max_header_count can ever be, it keeps them all and the pipeline refuses the request (431).
 */
export function limitHeaderCount(server: { maxHeadersCount: number | null }): void {
  server.maxHeadersCount = MAX_HEADER_COUNT_LIMIT + 1
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
    // Explicit, so NODE_OPTIONS=--insecure-http-parser cannot loosen the parser that guards upstreams
    // against request smuggling.
    insecureHTTPParser: false,
    // The pipeline answers a missing Host itself, in the gateway's envelope (Node's 400 has no body).
    requireHostHeader: false,
    shouldUpgradeCallback: takesUpgrade,
  }
}

/**
 * Which upgrade requests go the upgrade way (acceptUpgrades): all but an offer of h2c alone. h2c is an
 * option a client offers while speaking HTTP/1.1 (`curl --http2` on http://); RFC 9110 §7.8 lets a server
 * ignore it, and RFC 9113 withdrew it, so it is answered as the plain request it also is (Upgrade and
 * HTTP2-Settings are hop-by-hop and never reach the upstream). Anything else that asks to switch (a
 * WebSocket handshake, or a protocol the gateway cannot speak, which is refused) is an upgrade. Node < 24.9
 * ignores the option: there an h2c offer is refused as an unsupported upgrade.
 */
export function takesUpgrade(req: IncomingMessage): boolean {
  const offered = req.headers.upgrade
  if (offered === undefined) return true
  return !offered.split(',').every((token) => token.trim().toLowerCase() === 'h2c')
}

/** Parses `HOST:PORT` (IPv6 in brackets), by the same rule the config schema applies to listen addresses. */
export function parseListen(address: string): { host: string; port: number } {
  const checked = listenAddress.safeParse(address)
  if (!checked.success)
    throw new TypeError(`invalid listen address '${address}': ${checked.error.issues[0]!.message}`)
  const colon = address.lastIndexOf(':')
  return { host: address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(colon + 1)) }
}

/**
 * Listens and resolves with the address actually bound (port 0 picks a free port). `reusePort`: a
 * socket of this process's own (not node:cluster's shared one) in the port's SO_REUSEPORT group, for
 * the workers of a node (cluster/ports.ts).
 */
export function listen(
  server: NetServer,
  address: string,
  options: { reusePort?: boolean } = {},
): Promise<string> {
  const { host, port } = parseListen(address)
  const reusePort = options.reusePort === true
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, backlog: 2048, ...(reusePort ? { reusePort, exclusive: true } : {}) }, () => {
      server.off('error', reject)
      const bound = server.address() as AddressInfo
      resolve(bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`)
    })
  })
}
