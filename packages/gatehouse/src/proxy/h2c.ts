/**
 * HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3) on the plain listener, beside HTTP/1.1: gRPC clients
 * open a cleartext connection with HTTP/2's connection preface and no Upgrade. Each new connection's
 * first bytes are looked at once: the preface hands the socket to an HTTP/2 server (the same
 * compatibility objects as the HTTPS listener, http2-compat.ts), anything else to node:http as if it
 * had just connected. Nothing is done per request, so HTTP/1.1 pays one `data` listener per connection.
 *
 * node:http's own 'connection' listener is taken off and called after the look; until then the
 * connection has headers_timeout to send its first byte (node:http's header timer starts only once it
 * has the socket).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer as createHttp2Server, type Http2Server, type ServerHttp2Session } from 'node:http2'
import type { Socket } from 'node:net'
import { GatewayHttp2Request, GatewayHttp2Response } from './http2-compat.ts'

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')

const sessionsOf = new WeakMap<Server, Http2Server>()

export function acceptPriorKnowledge(
  server: Server,
  options: { headersTimeout: number; keepAliveTimeout: number; maxHeaderSize: number },
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  const h2 = createHttp2Server(
    {
      settings: { maxHeaderListSize: options.maxHeaderSize },
      Http2ServerRequest: GatewayHttp2Request,
      Http2ServerResponse: GatewayHttp2Response,
    },
    handler as never,
  )
  closeIdleSessions(h2, options.keepAliveTimeout)
  sessionsOf.set(server, h2)
  const http1 = server.listeners('connection') as ((socket: Socket) => void)[]
  server.removeAllListeners('connection')
  server.on('connection', (socket: Socket) => {
    let seen: Buffer | null = null
    const timer = setTimeout(() => socket.destroy(), options.headersTimeout)
    const onData = (chunk: Buffer) => {
      seen = seen === null ? chunk : Buffer.concat([seen, chunk])
      const n = Math.min(seen.length, PREFACE.length)
      const prefaceSoFar = seen.subarray(0, n).equals(PREFACE.subarray(0, n))
      // A split preface (rare: it is 24 bytes) waits for more; a mismatch is decided at once.
      if (prefaceSoFar && n < PREFACE.length) return
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.off('end', onEnd)
      clearTimeout(timer)
      socket.pause()
      socket.unshift(seen)
      if (prefaceSoFar) h2.emit('connection', socket)
      else {
        for (const listener of http1) listener.call(server, socket)
        socket.resume()
      }
    }
    const onClose = () => clearTimeout(timer)
    // The server socket is half-open capable (node:http's choice), and node:http, which would end it on
    // the client's FIN, has not seen it yet: a client that leaves before its first byte is closed here.
    const onEnd = () => socket.destroy()
    socket.on('data', onData)
    socket.once('close', onClose)
    socket.once('end', onEnd)
  })
}

/** HTTP/2 sessions of the plain listener get a GOAWAY (a graceful close: open streams finish). */
export function closePriorKnowledgeSessions(server: Server): void {
  const h2 = sessionsOf.get(server)
  if (h2 === undefined) return
  h2.emit('gatehouse:close-sessions')
}

/** As on the HTTPS listener (tls.ts): a session with no open stream for keepalive_timeout is closed. */
function closeIdleSessions(server: Http2Server, idleMs: number): void {
  const open = new Set<ServerHttp2Session>()
  server.on('gatehouse:close-sessions', () => {
    for (const session of open) session.close()
  })
  server.on('session', (session: ServerHttp2Session) => {
    open.add(session)
    let streams = 0
    const timer = setTimeout(() => {
      if (streams === 0) session.close()
    }, idleMs).unref()
    session.on('stream', (stream) => {
      streams++
      stream.once('close', () => {
        if (--streams === 0 && !session.closed) timer.refresh()
      })
    })
    session.once('close', () => {
      clearTimeout(timer)
      open.delete(session)
    })
  })
}
