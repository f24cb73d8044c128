/**
 * What the proxy listeners answer when Node's HTTP/1 parser refuses bytes (`clientError`) or is asked
 * for a tunnel (`connect`): the gateway's JSON envelope with a code that says what was wrong, and the
 * connection closed, without ever putting an answer in front of one still owed to an earlier request.
 *
 * A parse error arrives on a connection in one of three positions, and each gets its own answer:
 *
 * - After a request that carried `Connection: close` (HPE_CLOSED_CONNECTION): those bytes are not a
 *   request (RFC 9112 §9.6). They are ignored; the request in flight gets its own response, then the
 *   connection closes.
 * - Inside the body of the connection's latest request (a bad chunk size, say): that request is the
 *   malformed one. It gets the 400 if its response has not started (the pipeline hears of it through
 *   `clientErrorOf`, so the access log says 400), else the connection is cut, the only signal left.
 * - In the head of a new request: earlier pipelined requests are answered first, in order, then the 400
 *   goes out and the connection closes. A 400 written at once would reach the client as the answer
 *   to the earlier request, whose real response would then be lost.
 *
 * To know the connection's latest response, `trackResponses` remembers it on the socket: one property
 * write per HTTP/1 request, no allocation.
 *
 * When the gateway itself refuses a request and closes the connection (`closeAfter`), Node's parser has
 * often read the requests pipelined behind it already; they are dropped unanswered rather than served,
 * so nothing the client sent after a refused request reaches an upstream.
 */
import { type IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http'
import { Http2ServerResponse } from 'node:http2'
import type { Server as NetServer, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { GatehouseError } from '../errors/errors.ts'
import { ERROR_CODE_HEADER, errorEnvelope } from '../errors/respond.ts'

const kLastResponse = Symbol('gatehouse.lastResponse')
const kRefused = Symbol('gatehouse.refused')
const kClientError = Symbol('gatehouse.clientError')
const kClientErrorBytes = Symbol('gatehouse.clientErrorBytes')

const kClosing = Symbol('gatehouse.closing')

type TrackedSocket = Duplex & { [kLastResponse]?: ServerResponse; [kRefused]?: true; [kClosing]?: true }
type RefusedResponse = ServerResponse & { [kClientError]?: GatehouseError; [kClientErrorBytes]?: number }

/** Node's parser errors → what the client is told. Messages are fixed strings; no input is echoed. */
const PARSE_ERRORS: Readonly<Record<string, readonly [GatehouseError['code'], string]>> = {
  HPE_HEADER_OVERFLOW: ['GH_ERR_REQUEST_HEADERS_TOO_LARGE', 'Request header fields too large'],
  ERR_HTTP_REQUEST_TIMEOUT: ['GH_ERR_REQUEST_TIMEOUT', 'Request timeout'],
  HPE_INVALID_TRANSFER_ENCODING: [
    'GH_ERR_REQUEST_INVALID',
    'Bad request: invalid Transfer-Encoding (sent with Content-Length, repeated, empty, or not ending in chunked)',
  ],
  HPE_UNEXPECTED_CONTENT_LENGTH: [
    'GH_ERR_REQUEST_INVALID',
    'Bad request: Content-Length sent more than once, or with Transfer-Encoding',
  ],
  HPE_INVALID_CONTENT_LENGTH: ['GH_ERR_REQUEST_INVALID', 'Bad request: invalid Content-Length'],
  HPE_INVALID_CHUNK_SIZE: ['GH_ERR_REQUEST_INVALID', 'Bad request: invalid chunk size'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: ['GH_ERR_REQUEST_INVALID', 'Bad request: chunk extensions too large'],
  HPE_STRICT: ['GH_ERR_REQUEST_INVALID', 'Bad request: malformed chunked body'],
  HPE_CR_EXPECTED: ['GH_ERR_REQUEST_INVALID', 'Bad request: lines must end with CRLF (bare LF)'],
  HPE_LF_EXPECTED: ['GH_ERR_REQUEST_INVALID', 'Bad request: lines must end with CRLF (bare CR)'],
  HPE_INVALID_HEADER_TOKEN: [
    'GH_ERR_REQUEST_INVALID',
    'Bad request: invalid header line (control character, whitespace before the colon, or obs-fold)',
  ],
  HPE_INVALID_URL: ['GH_ERR_REQUEST_INVALID', 'Bad request: invalid request target'],
  HPE_INVALID_METHOD: ['GH_ERR_REQUEST_INVALID', 'Bad request: invalid method'],
  HPE_INVALID_VERSION: ['GH_ERR_REQUEST_INVALID', 'Bad request: invalid HTTP version'],
  HPE_INVALID_CONSTANT: ['GH_ERR_REQUEST_INVALID', 'Bad request: invalid request line'],
  // `PRI * HTTP/2.0`: HTTP/2 with prior knowledge, which this listener does not speak.
  HPE_PAUSED_H2_UPGRADE: ['GH_ERR_REQUEST_VERSION_UNSUPPORTED', 'HTTP/2 needs TLS with ALPN here'],
}

/**
 * Wraps a listener's request handler so the connection's latest HTTP/1 response is known when the parser
 * fails later on the same connection (HTTP/2 streams never reach `clientError`).
 */
export function trackResponses(
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (res instanceof ServerResponse) {
      const socket = req.socket as TrackedSocket
      // Pipelined behind a refused request: the connection closes once that answer is out.
      if (socket[kClosing] === true) return
      socket[kLastResponse] = res
    }
    onRequest(req, res)
  }
}

/**
 * Marks the connection as closing after `res` (which carries `Connection: close`): requests the client
 * pipelined behind `req` are not served. (`res.socket` is still null while earlier responses are owed.)
 */
export function closeAfter(req: IncomingMessage, res: ServerResponse): void {
  if (res instanceof ServerResponse) (req.socket as TrackedSocket)[kClosing] = true
}

/** The error a parse failure inside this response's request body was answered with, if any. */
export function clientErrorOf(res: ServerResponse): GatehouseError | null {
  return (res as RefusedResponse)[kClientError] ?? null
}

/** The body bytes of that answer (written on the socket, past `res`), for the access log. */
export function clientErrorBytesOf(res: ServerResponse): number {
  return (res as RefusedResponse)[kClientErrorBytes] ?? 0
}

/** Answers parser errors and CONNECT on `server` (either proxy listener) as described above. */
export function answerClientErrors(server: NetServer): void {
  server.on('clientError', onClientError)
  server.on('connect', onConnect)
}

function onClientError(err: NodeJS.ErrnoException, duplex: Duplex): void {
  const socket = duplex as TrackedSocket
  // Node reports the error again for every later chunk; the first decided for the connection.
  if (socket[kRefused] === true) return
  socket[kRefused] = true
  // Already closing (after a Connection: close response): let what is written go out whole.
  if (!socket.writable) return
  const last = socket[kLastResponse]
  const inFlight = last !== undefined && !last.writableFinished
  if (last !== undefined && !last.req.complete) {
    // The latest request's own body is malformed.
    if (!inFlight) {
      // Answered already (a plugin refused it early): the rest of its body is not read.
      closeSoon(socket)
      return
    }
    if (last.headersSent) {
      // Its response has begun: a cut connection is the only signal left.
      socket.destroy()
      return
    }
    const error = parseError(err)
    const refused = last as RefusedResponse
    refused[kClientError] = error
    refused[kClientErrorBytes] = answer(socket, error)
    return
  }
  if (err.code === 'HPE_CLOSED_CONNECTION') {
    // The response in flight was asked to close the connection, and will.
    if (!inFlight) closeSoon(socket)
    return
  }
  const error = parseError(err)
  if (inFlight) last.once('finish', () => answer(socket, error))
  else answer(socket, error)
}

/**
 * CONNECT asks for a tunnel, which the gateway never opens. node:http hands over the raw socket (or
 * would close it without a word); HTTP/2's compatibility API hands over a response.
 */
function onConnect(_req: unknown, target: Duplex | Http2ServerResponse): void {
  const error = new GatehouseError(
    'GH_ERR_REQUEST_METHOD_UNSUPPORTED',
    'Not implemented: CONNECT is not supported',
  )
  if (target instanceof Http2ServerResponse) {
    const body = JSON.stringify(errorEnvelope(error))
    target.writeHead(error.status, {
      'content-type': 'application/json; charset=utf-8',
      [ERROR_CODE_HEADER]: error.code,
    })
    target.end(body)
    return
  }
  answer(target, error)
}

function parseError(err: NodeJS.ErrnoException): GatehouseError {
  const code = err.code ?? 'unknown'
  const known = PARSE_ERRORS[code]
  return known !== undefined
    ? new GatehouseError(known[0], known[1], { detail: code })
    : new GatehouseError('GH_ERR_REQUEST_INVALID', 'Bad request: malformed HTTP/1.1 message', {
        detail: code,
      })
}

/**
 * Writes the envelope as a complete response and closes the connection once it is sent. Returns the
 * body's length in bytes (0 when the socket could no longer be written).
 */
function answer(socket: Duplex, error: GatehouseError): number {
  if (!socket.writable) return 0
  const body = JSON.stringify(errorEnvelope(error))
  const length = Buffer.byteLength(body)
  socket.write(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status]}\r\n` +
      `content-type: application/json; charset=utf-8\r\ncontent-length: ${length}\r\n` +
      `${ERROR_CODE_HEADER}: ${error.code}\r\nconnection: close\r\n\r\n${body}`,
  )
  closeSoon(socket)
  return length
}

/** Ends the connection after what is already written (net and TLS sockets), or at once. */
function closeSoon(socket: Duplex): void {
  const net = socket as Partial<Pick<Socket, 'destroySoon'>>
  if (typeof net.destroySoon === 'function') net.destroySoon()
  else socket.destroy()
}
