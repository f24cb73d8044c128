/**
 * HTTP/2 sessions to gRPC upstreams: one per upstream origin and TLS setting, shared by every call to
 * it (HTTP/2 multiplexes), opened on first use and dropped as soon as it closes or gets a GOAWAY, so
 * the next call opens a fresh one. A session opening longer than the service's connect_timeout is
 * destroyed (its calls fail as a connection failure); one with no stream for IDLE_MS is closed.
 * undici's Pool, used for every other upstream, speaks HTTP/1.1 only where the gateway needs it: gRPC
 * needs HTTP/2 trailers both ways, which node:http2 has.
 */
import { type ClientHttp2Session, connect, type SecureClientSessionOptions } from 'node:http2'
import type { ServiceEntity } from '../config/model.ts'
import { upstreamTlsOf } from './upstream-tls.ts'

const IDLE_MS = 60_000

class ConnectTimeoutError extends Error {
  readonly code = 'UND_ERR_CONNECT_TIMEOUT'
}

export class Http2Sessions {
  readonly #sessions = new Map<string, ClientHttp2Session>()

  /** The session to `authority` (`host:port`) for `service`, opening one when there is none usable. */
  session(service: ServiceEntity, authority: string, servername: string | null): ClientHttp2Session {
    const tls = service.protocol === 'https' ? upstreamTlsOf(service, process.cwd()) : null
    const key = `${service.protocol}://${authority}|${service.connect_timeout}|${service.tls_verify}|${tls?.key ?? ''}`
    const open = this.#sessions.get(key)
    if (open !== undefined && !open.closed && !open.destroyed) return open
    const options: SecureClientSessionOptions =
      tls === null
        ? {}
        : {
            rejectUnauthorized: service.tls_verify,
            ...(servername !== null ? { servername } : {}),
            ...tls.options,
            ALPNProtocols: ['h2'],
          }
    const session = connect(`${service.protocol}://${authority}`, options)
    this.#sessions.set(key, session)
    const forget = () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key)
    }
    // GOAWAY: streams already open finish on it, new ones go to a new session.
    session.once('goaway', forget)
    session.once('close', forget)
    session.on('error', forget)
    const timer = setTimeout(
      () => session.destroy(new ConnectTimeoutError('upstream connect timeout')),
      service.connect_timeout,
    )
    session.once('connect', () => clearTimeout(timer))
    session.once('close', () => clearTimeout(timer))
    session.setTimeout(IDLE_MS, () => session.close())
    // An idle session must not keep the process alive; a stream in flight refs it again (node:http2).
    session.unref()
    return session
  }

  /** Closes every session gracefully (GOAWAY; streams in flight finish). */
  closeAll(): void {
    for (const session of this.#sessions.values()) session.close()
    this.#sessions.clear()
  }
}

/** The gateway's sessions to gRPC upstreams. */
export const http2Sessions = new Http2Sessions()
