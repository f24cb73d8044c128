/**
 * A plain node:http client for tests that need what fetch forbids (a custom Host header, raw header
 * lines, HTTP/1.0, streaming bodies). Resolves with the whole response.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'

export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  rawHeaders: string[]
  body: string
}

export interface RawRequestOptions {
  method?: string
  /** Header object, or a flat [name, value, ...] list to send duplicates. */
  headers?: Record<string, string | string[]> | string[]
  body?: string | Buffer | Readable
  /** Close the connection after the response (no keep-alive). */
  close?: boolean
}

export function rawRequest(url: string, options: RawRequestOptions = {}): Promise<RawResponse> {
  const u = new URL(url)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: options.method ?? 'GET',
        headers: options.headers as never,
        agent: false,
        setHost: !hasHost(options.headers),
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    const body = options.body
    if (body === undefined) req.end()
    else if (typeof body === 'string' || Buffer.isBuffer(body)) req.end(body)
    else body.pipe(req)
  })
}

function hasHost(headers: RawRequestOptions['headers']): boolean {
  if (headers === undefined) return false
  if (Array.isArray(headers)) return headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'host')
  return Object.keys(headers).some((k) => k.toLowerCase() === 'host')
}
