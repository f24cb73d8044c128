/**
 * Raw-socket tests of HTTP/1.1 parsing: a TCP (or TLS) client that sends exactly the bytes a test gives
 * (no HTTP client would send most of them) and reads what comes back, parsed into responses; and an
 * upstream that records every request it receives, so a test can prove a second, smuggled request never
 * reached it.
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { type AddressInfo, type Socket, connect as tcpConnect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'

export interface ParsedResponse {
  status: number
  /** Lower-cased names; repeated fields joined with ', '. */
  headers: Record<string, string>
  body: string
}

export interface Exchange {
  /** Every complete response read, in order. */
  responses: ParsedResponse[]
  /** Whether the gateway closed the connection (EOF or reset) before the read stopped. */
  closed: boolean
  /** Bytes after the last complete response (a truncated one), as latin1 text. */
  rest: string
}

export interface SendOptions {
  /** Stop once this many responses are complete, without waiting for the connection to close. */
  responses?: number
  /** TLS with ALPN http/1.1 and this CA; plain TCP without. */
  tls?: { ca: string; servername?: string }
  /** Safety net only, so a broken gateway fails the test instead of hanging it. Default 10000 ms. */
  timeout?: number
}

/**
 * Sends `bytes` to 127.0.0.1:`port` and reads until the gateway closes the connection (or, with
 * `responses`, until that many responses are complete). The client never half-closes its side.
 */
export function send(port: number, bytes: string | Buffer, options: SendOptions = {}): Promise<Exchange> {
  const timeout = options.timeout ?? 10_000
  return new Promise((resolve, reject) => {
    const socket: Socket = options.tls
      ? tlsConnect({
          host: '127.0.0.1',
          port,
          ca: options.tls.ca,
          servername: options.tls.servername ?? 'localhost',
          ALPNProtocols: ['http/1.1'],
          checkServerIdentity: () => undefined,
        })
      : tcpConnect(port, '127.0.0.1')
    let received = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no answer within ${timeout} ms; received so far:\n${received.toString('latin1')}`))
    }, timeout)
    const finish = (closed: boolean) => {
      clearTimeout(timer)
      const { responses, rest } = parseResponses(received)
      socket.destroy()
      resolve({ responses, closed, rest })
    }
    socket.once(options.tls ? 'secureConnect' : 'connect', () => socket.write(bytes))
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      const { responses } = parseResponses(received)
      if (options.responses !== undefined && responses.length >= options.responses) finish(false)
    })
    socket.once('close', () => finish(true))
    // A reset after the answer is still a close; what was read before it counts.
    socket.on('error', () => {})
  })
}

/** The port of a `http://host:port` URL. */
export function portOf(url: string): number {
  return Number(url.slice(url.lastIndexOf(':') + 1))
}

/**
 * The exchange got exactly one response, `status` with `code` in the gateway's envelope and a message,
 * and the gateway closed the connection after it. Returns the envelope.
 */
export function assertRefused(
  x: Exchange,
  status: number,
  code: string,
): { code: string; message: string; statusCode: number } {
  assert.equal(x.responses.length, 1, `one response expected, got ${x.responses.length}; rest: ${x.rest}`)
  const [res] = x.responses
  assert.equal(res!.status, status, res!.body)
  const body = JSON.parse(res!.body) as { code: string; message: string; statusCode: number }
  assert.equal(body.code, code)
  assert.equal(body.statusCode, status)
  assert.match(body.message, /\S/)
  assert.equal(res!.headers['x-gatehouse-error'], code)
  assert.equal(res!.headers.connection, 'close')
  assert.ok(x.closed, 'the gateway closes the connection after refusing')
  return body
}

/** Splits `data` into complete HTTP/1.1 responses (Content-Length, chunked, or none for 204/304). */
export function parseResponses(data: Buffer): { responses: ParsedResponse[]; rest: string } {
  const responses: ParsedResponse[] = []
  let at = 0
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', at)
    if (headEnd === -1) break
    const lines = data.subarray(at, headEnd).toString('latin1').split('\r\n')
    const status = Number(lines[0]!.split(' ')[1])
    const headers: Record<string, string> = {}
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).toLowerCase()
      const value = line.slice(colon + 1).trim()
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
    }
    let cursor = headEnd + 4
    let body: Buffer
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = []
      let complete = false
      for (;;) {
        const lineEnd = data.indexOf('\r\n', cursor)
        if (lineEnd === -1) break
        const size = Number.parseInt(data.subarray(cursor, lineEnd).toString('latin1'), 16)
        if (Number.isNaN(size) || data.length < lineEnd + 2 + size + 2) break
        parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size))
        cursor = lineEnd + 2 + size + 2
        if (size === 0) {
          complete = true
          break
        }
      }
      if (!complete) break
      body = Buffer.concat(parts)
    } else {
      const length = status === 204 || status === 304 ? 0 : Number(headers['content-length'] ?? 0)
      if (data.length < cursor + length) break
      body = data.subarray(cursor, cursor + length)
      cursor += length
    }
    responses.push({ status, headers, body: body.toString('utf8') })
    at = cursor
  }
  return { responses, rest: data.subarray(at).toString('latin1') }
}

export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingMessage['headers']
  /** The body as received so far (all of it once `complete`). */
  body: string
  /** Whether the whole request, body included, arrived. */
  complete: boolean
}

export interface RecordingUpstream {
  readonly url: string
  readonly port: number
  /** Every request whose head arrived, in order, including those cut short. */
  readonly requests: RecordedRequest[]
  /** Node's parse errors on the upstream's side: the gateway must never send bytes that cause one. */
  readonly parseErrors: string[]
  /** Forgets what was recorded (between cases). */
  reset(): void
  close(): Promise<void>
}

/**
 * An upstream that records each request (method, target, headers, body) and answers 200 with the
 * target as JSON, unless `answer` writes something else for a path.
 */
export async function startRecordingUpstream(
  answer?: (req: IncomingMessage, socket: Socket, body: string) => boolean,
): Promise<RecordingUpstream> {
  const requests: RecordedRequest[] = []
  const parseErrors: string[] = []
  const sockets = new Set<Socket>()
  // Bounds far above the gateway's, so what the gateway forwards is always read.
  const server: Server = createServer(
    { maxHeaderSize: 1_048_576 },
    (req: IncomingMessage, res: ServerResponse) => {
      const seen: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: '',
        complete: false,
      }
      requests.push(seen)
      req.setEncoding('latin1')
      req.on('data', (chunk: string) => {
        seen.body += chunk
      })
      req.on('end', () => {
        seen.complete = true
        if (answer?.(req, req.socket, seen.body)) return
        const body = JSON.stringify({ url: req.url })
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        res.end(body)
      })
      req.on('error', () => {})
    },
  )
  server.maxHeadersCount = 0
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    parseErrors.push(err.code ?? err.message)
    socket.destroy()
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    parseErrors,
    reset() {
      requests.length = 0
      parseErrors.length = 0
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
