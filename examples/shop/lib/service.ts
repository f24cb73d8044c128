/**
 * What every shop service shares, and nothing about authentication beyond the SDK: a node:http server on
 * loopback (port 0 unless PORT is set) that prints one ready line on stdout for start.ts, JSON answers,
 * a bounded JSON body reader, and a clean stop on SIGINT, SIGTERM or when start.ts goes away (its IPC
 * channel closes), so no service outlives the demo.
 *
 * Environment: GATEHOUSE_JWKS_URL (the gateway's JWKS on its proxy listener) and
 * GATEHOUSE_INTERNAL_ISSUER (internal_tokens.issuer in gatehouse.yaml), given by start.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createVerifier, type Verifier } from 'gatehouse-sdk'

/** internal_tokens.issuer in gatehouse.yaml: the `iss` every service pins. */
export const INTERNAL_ISSUER = 'https://gatehouse.shop.internal'

/** A request's method, path and query, parsed once. */
export interface Target {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
}

export type Handler = (req: IncomingMessage, res: ServerResponse, target: Target) => unknown

/** An answer other than 200, thrown from a handler: `{ error, message }` with `status`. */
export class HttpError extends Error {
  readonly status: number
  readonly error: string
  constructor(status: number, error: string, message: string) {
    super(message)
    this.status = status
    this.error = error
  }
}

/**
 * The verifier of this service's internal tokens: `aud` must name `audience`, keys from the gateway's
 * JWKS (fetched on first use and cached by the SDK).
 */
export function verifierFor(audience: string): Verifier {
  const jwksUrl = process.env.GATEHOUSE_JWKS_URL
  if (!jwksUrl) throw new TypeError('GATEHOUSE_JWKS_URL is not set (start.ts sets it)')
  return createVerifier({
    issuer: process.env.GATEHOUSE_INTERNAL_ISSUER ?? INTERNAL_ISSUER,
    audience,
    jwksUrl,
  })
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

/** The request body as JSON (at most `limit` bytes); 400/413/415 as HttpError otherwise. */
export async function readJson(req: IncomingMessage, limit = 4096): Promise<unknown> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
    throw new HttpError(415, 'unsupported_media_type', 'Send the body as application/json')
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) throw new HttpError(413, 'body_too_large', `The body is limited to ${limit} bytes`)
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new HttpError(400, 'invalid_json', 'The body is not valid JSON')
  }
}

/**
 * Starts the service: answers with `handler`, turns HttpError into its answer and anything else into a
 * logged 500, and prints `{"msg":"service ready","service":NAME,"url":...}` once listening.
 */
export function serve(name: string, handler: Handler): Server {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://service.local')
    // `/basket/` is `/basket`: a gateway route or composition part may join a path with a trailing slash.
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname
    const target = { method: req.method ?? 'GET', path, query: url.searchParams }
    try {
      await handler(req, res, target)
    } catch (err) {
      if (res.headersSent) {
        res.destroy()
        return
      }
      if (err instanceof HttpError) {
        json(res, err.status, { error: err.error, message: err.message })
        return
      }
      process.stderr.write(`${name}: ${(err as Error).stack ?? String(err)}\n`)
      json(res, 500, { error: 'internal_error', message: 'Something went wrong' })
    }
  })
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo
    process.stdout.write(
      `${JSON.stringify({ msg: 'service ready', service: name, url: `http://127.0.0.1:${port}` })}\n`,
    )
  })
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    server.close(() => process.exit(0))
    server.closeIdleConnections()
    // In-flight requests get a moment; then the process goes anyway.
    setTimeout(() => process.exit(0), 2000).unref()
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  // Started by start.ts: its IPC channel closes when it exits, however it exits.
  if (process.send !== undefined) process.on('disconnect', stop)
  return server
}

/** A path parameter after `prefix` (`/products/p-01` → `p-01`), or null when the path is another. */
export function param(path: string, prefix: string): string | null {
  if (!path.startsWith(prefix)) return null
  const rest = path.slice(prefix.length)
  return /^[A-Za-z0-9_-]{1,64}$/.test(rest) ? rest : null
}

export function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('allow', allow)
  json(res, 405, { error: 'method_not_allowed', message: `Use ${allow}` })
}

export function notFound(res: ServerResponse): void {
  json(res, 404, { error: 'not_found', message: 'No such resource' })
}
