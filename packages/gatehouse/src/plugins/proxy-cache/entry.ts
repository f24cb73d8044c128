/**
 * A cached response, the stores' common currency, and its serialised form for Redis: a 4-byte length,
 * the head as JSON, then the body's bytes as they are (no base64), so one GET returns the whole entry.
 * `version` lets a later format be told apart: an entry of another version reads as absent (Kong's
 * CACHE_VERSION).
 */
import type { HeaderMap } from '../../pipeline/request-state.ts'

export const CACHE_VERSION = 1

export interface CachedResponse {
  readonly status: number
  /** The upstream's end-to-end headers, as received (before plugins' response phase). */
  readonly headers: Readonly<HeaderMap>
  readonly body: Buffer
  /** Epoch milliseconds when the upstream answered. */
  readonly timestamp: number
  /** Seconds it is served from the cache (cache_ttl, or the response's own lifetime). */
  readonly ttl: number
}

interface Head {
  v: number
  status: number
  headers: HeaderMap
  timestamp: number
  ttl: number
}

export function encodeEntry(entry: CachedResponse): Buffer {
  const head: Head = {
    v: CACHE_VERSION,
    status: entry.status,
    headers: entry.headers,
    timestamp: entry.timestamp,
    ttl: entry.ttl,
  }
  const json = Buffer.from(JSON.stringify(head))
  const prefix = Buffer.allocUnsafe(4)
  prefix.writeUInt32BE(json.length)
  return Buffer.concat([prefix, json, entry.body])
}

/** The entry, or null for bytes this version did not write. */
export function decodeEntry(bytes: Buffer): CachedResponse | null {
  if (bytes.length < 4) return null
  const length = bytes.readUInt32BE(0)
  if (4 + length > bytes.length) return null
  let head: Head
  try {
    head = JSON.parse(bytes.subarray(4, 4 + length).toString('utf8')) as Head
  } catch {
    return null
  }
  if (head?.v !== CACHE_VERSION) return null
  return {
    status: head.status,
    headers: Object.assign(Object.create(null), head.headers) as HeaderMap,
    body: bytes.subarray(4 + length),
    timestamp: head.timestamp,
    ttl: head.ttl,
  }
}

/** Bytes an entry takes in memory, roughly: body, headers, key and bookkeeping. */
export function entrySize(key: string, entry: CachedResponse): number {
  let size = 128 + key.length + entry.body.length
  for (const name in entry.headers) {
    const value = entry.headers[name]!
    size += name.length + (Array.isArray(value) ? value.reduce((n, v) => n + v.length + 8, 0) : value.length)
  }
  return size
}

/** An entry as the admin API shows it (Kong's shape: status, headers, body, body_len, timestamp in seconds, ttl, version). */
export function presentEntry(key: string, entry: CachedResponse): Record<string, unknown> {
  let body: string
  let encoding: 'utf8' | 'base64' = 'utf8'
  try {
    body = new TextDecoder('utf-8', { fatal: true }).decode(entry.body)
  } catch {
    body = entry.body.toString('base64')
    encoding = 'base64'
  }
  return {
    key,
    status: entry.status,
    headers: entry.headers,
    body,
    body_encoding: encoding,
    body_len: entry.body.length,
    timestamp: Math.floor(entry.timestamp / 1000),
    ttl: entry.ttl,
    version: CACHE_VERSION,
  }
}
