/**
 * HTTP/2 requests in HTTP/1.1's shape, so the one pipeline serves both. Node's compatibility API gives
 * IncomingMessage-like objects; what differs is adjusted here, once per request, and nowhere else:
 *
 * - `headers` lose the pseudo-headers (`:method`, `:path`, …; method and url keep them), and gain
 *   `host` from `:authority` (RFC 9113 §8.3.1), since routing, X-Forwarded-Host and preserve_host read Host.
 * - A body without Content-Length is marked `transfer-encoding: chunked`: HTTP/2 frames bodies itself,
 *   and the pipeline, like HTTP/1.1, knows a body by one of the two headers (it is chunked on the
 *   HTTP/1.1 hop to the upstream anyway).
 * - Responses never carry connection-specific headers (RFC 9113 §8.2.2): Node throws on them, so they
 *   are dropped rather than failing the response.
 */
import type { OutgoingHttpHeaders } from 'node:http'
import {
  Http2ServerRequest,
  Http2ServerResponse,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2'
import type { Readable } from 'node:stream'
import { HOP_BY_HOP } from './hop-headers.ts'

export class GatewayHttp2Request extends Http2ServerRequest {
  constructor(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    options: ConstructorParameters<typeof Readable>[0],
    rawHeaders: readonly string[],
  ) {
    super(stream, headers, options as never, rawHeaders)
    const out: IncomingHttpHeaders = Object.create(null)
    for (const name in headers) if (name.charCodeAt(0) !== 58 /* ':' */) out[name] = headers[name]
    const authority = headers[':authority']
    if (authority !== undefined) out.host = authority
    if (!stream.endAfterHeaders && out['content-length'] === undefined) out['transfer-encoding'] = 'chunked'
    // Shadows the prototype's getter; method and url still read the original pseudo-headers.
    Object.defineProperty(this, 'headers', { value: out, enumerable: true })
  }
}

/** Header names HTTP/2 forbids in a response (Node throws ERR_HTTP2_INVALID_CONNECTION_HEADERS). */
function forbidden(name: string): boolean {
  const lower = name.toLowerCase()
  return HOP_BY_HOP.has(lower) || lower === 'http2-settings'
}

export class GatewayHttp2Response extends Http2ServerResponse {
  override setHeader(name: string, value: number | string | readonly string[]): void {
    if (!forbidden(name)) super.setHeader(name, value)
  }

  override writeHead(
    statusCode: number,
    reason?: string | OutgoingHttpHeaders | readonly string[],
    headers?: OutgoingHttpHeaders | readonly string[],
  ): this {
    const fields = typeof reason === 'string' ? headers : reason
    if (fields !== undefined && !isList(fields))
      for (const name of Object.keys(fields)) if (forbidden(name)) delete fields[name]
    return typeof reason === 'string'
      ? super.writeHead(statusCode, reason, fields)
      : super.writeHead(statusCode, fields)
  }
}

function isList(fields: OutgoingHttpHeaders | readonly string[]): fields is readonly string[] {
  return Array.isArray(fields)
}
