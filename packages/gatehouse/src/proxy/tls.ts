/**
 * The HTTPS listener: TLS terminated here, then the same pipeline as plain HTTP. With `http2` it is
 * node:http2's secure server with `allowHTTP1`, so ALPN picks HTTP/2 for clients that offer `h2` and
 * HTTP/1.1 for the rest; without, node:https.
 *
 * Certificates are chosen per handshake: SNICallback reads the current CertificateSet, and clients
 * without SNI get the server's own context (the default certificate). A reload swaps both, so new
 * handshakes get the new certificates while connections already open keep theirs and are not dropped.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2'
import { createServer as createHttpsServer } from 'node:https'
import type { SecureContext, Server as TlsServer } from 'node:tls'
import type { GatewayConfig } from '../config/model.ts'
import { type CertificateSet, loadCertificates } from './certificates.ts'
import { answerClientErrors, trackResponses } from './client-errors.ts'
import { deferContinue } from './expect-continue.ts'
import { GatewayHttp2Request, GatewayHttp2Response } from './http2-compat.ts'
import { acceptUpgrades, http1Options, limitHeaderCount, type ProxyServerOptions } from './server.ts'

export interface TlsProxyOptions extends ProxyServerOptions {
  readonly http2: boolean
}

export class TlsProxyListener {
  readonly server: TlsServer
  #certificates: CertificateSet

  constructor(
    options: TlsProxyOptions,
    certificates: CertificateSet,
    onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  ) {
    this.#certificates = certificates
    const handler = trackResponses(onRequest)
    const secure = {
      ...certificates.defaultOptions,
      SNICallback: (servername: string, done: (err: Error | null, ctx?: SecureContext) => void) =>
        done(null, this.#certificates.contextFor(servername)),
    }
    if (options.http2) {
      const server = createSecureServer(
        {
          ...secure,
          ...http1Options(options),
          allowHTTP1: true,
          settings: { maxHeaderListSize: options.maxHeaderSize },
          Http2ServerRequest: GatewayHttp2Request,
          Http2ServerResponse: GatewayHttp2Response,
        },
        // The compatibility API's objects stand in for node:http's (http2-compat.ts says where they differ).
        handler as never,
      )
      closeIdleSessions(server, options.keepAliveTimeout)
      this.server = server
    } else {
      this.server = createHttpsServer({ ...secure, ...http1Options(options) }, handler)
    }
    // HTTP/1.1 over TLS is parsed by node:http's code in both cases, with these properties.
    deferContinue(this.server as never, handler)
    limitHeaderCount(this.server as TlsServer & { maxHeadersCount: number | null })
    answerClientErrors(this.server)
    acceptUpgrades(this.server, handler)
  }

  /** New handshakes get `certificates`; connections already open keep what they negotiated. */
  setCertificates(certificates: CertificateSet): void {
    this.#certificates = certificates
    this.server.setSecureContext(certificates.defaultOptions)
  }

  /** Closes HTTP/1.1 connections between requests (HTTP/2 sessions are closed by `server.close()`). */
  closeIdleConnections(): void {
    ;(this.server as TlsServer & { closeIdleConnections(): void }).closeIdleConnections()
  }
}

/**
 * An HTTP/2 session with no stream open for `idleMs` is closed (GOAWAY), as keepalive_timeout closes an
 * idle HTTP/1.1 connection. Node's own session timeout would also cut a stream waiting on a slow upstream.
 */
function closeIdleSessions(server: Http2SecureServer, idleMs: number): void {
  server.on('session', (session: ServerHttp2Session) => {
    let open = 0
    const timer = setTimeout(() => {
      if (open === 0) session.close()
    }, idleMs).unref()
    session.on('stream', (stream) => {
      open++
      stream.once('close', () => {
        if (--open === 0 && !session.closed) timer.refresh()
      })
    })
    session.once('close', () => clearTimeout(timer))
  })
}

/**
 * The HTTPS listener `proxy.tls` asks for, its certificates loaded (a ConfigError when they cannot be),
 * with the warnings they carry; null when the configuration has no `proxy.tls`.
 */
export function tlsListenerFor(
  config: GatewayConfig,
  baseDir: string,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): { listener: TlsProxyListener; notices: readonly string[] } | null {
  const proxy = config.settings.proxy
  if (proxy.tls === undefined) return null
  const { set, notices } = loadCertificates(proxy.tls, baseDir, config.source)
  const options = {
    keepAliveTimeout: proxy.keepalive_timeout,
    headersTimeout: proxy.headers_timeout,
    maxHeaderSize: proxy.max_header_size,
    http2: proxy.tls.http2,
  }
  return { listener: new TlsProxyListener(options, set, onRequest), notices }
}
