/**
 * Sending batches of entries to the log server: an undici Pool of its own (never an upstream's), the
 * user info of `http_endpoint` turned into Basic authentication as Kong does, and a batch body that is
 * one entry alone when max_batch_size is 1, else a JSON array (Kong's send_entries).
 *
 * Unlike Kong (`ssl_verify = false`), an https endpoint's certificate is verified: entries describe who
 * called what, and a log server that cannot be authenticated is one an attacker can stand in for.
 * Errors name the endpoint's host and port only: its path or user info may hold a token.
 */
import { Pool } from 'undici'
import type { SendBatch } from './queue.ts'
import type { HttpLogConfig } from './schema.ts'

export interface Sender {
  readonly send: SendBatch
  close(): Promise<void>
}

export function createSender(config: HttpLogConfig, connections: number): Sender {
  const url = new URL(config.http_endpoint)
  const where = url.host
  const headers: Record<string, string> = {}
  for (const [name, value] of Object.entries(config.headers ?? {})) headers[name.toLowerCase()] = value
  // Set last, so a configured header cannot replace them (Kong lets them win the same way).
  headers['content-type'] = config.content_type
  if (url.username !== '' || url.password !== '') {
    const userinfo = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
    headers.authorization = `Basic ${Buffer.from(userinfo).toString('base64')}`
  }
  const path = `${url.pathname}${url.search}`
  const pool = new Pool(url.origin, {
    connections,
    keepAliveTimeout: config.keepalive,
    keepAliveMaxTimeout: Math.max(config.keepalive, 1000),
    headersTimeout: config.timeout,
    bodyTimeout: config.timeout,
    connect: { timeout: config.timeout },
  })
  const single = config.queue.max_batch_size === 1

  const send: SendBatch = async (entries, signal) => {
    const body = single ? entries[0]! : `[${entries.join(',')}]`
    const timeout = AbortSignal.timeout(config.timeout)
    let res: Awaited<ReturnType<Pool['request']>>
    try {
      res = await pool.request({
        method: config.method,
        path,
        headers,
        body,
        signal: AbortSignal.any([signal, timeout]),
      })
    } catch (err) {
      const reason = timeout.aborted ? `timed out after ${config.timeout} ms` : (err as Error).message
      throw new Error(`failed request to ${where}: ${reason}`)
    }
    // Read the body whatever the status, so the connection is kept (Kong reads it too).
    await res.body.dump().catch(() => {})
    if (res.statusCode >= 300) throw new Error(`request to ${where} returned status code ${res.statusCode}`)
  }

  return { send, close: () => pool.destroy() }
}
