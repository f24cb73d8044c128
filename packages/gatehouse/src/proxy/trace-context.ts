/**
 * Request correlation: X-Request-ID and W3C Trace Context `traceparent`. A well-formed incoming value is
 * passed on unchanged; a missing or malformed one is replaced by a fresh one, so every request the
 * upstream sees can be correlated with our access log.
 */
import { randomBytes, randomUUID } from 'node:crypto'

/** Printable ASCII without spaces, at most 200 characters: safe to log and to echo. */
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/

/** version 00 (or a later version we pass on), trace-id, parent-id, flags; all-zero ids are invalid. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

export function requestIdFrom(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID()
}

export function isValidTraceparent(value: string): boolean {
  const m = TRACEPARENT.exec(value)
  if (!m) return false
  const [, version, traceId, parentId, , rest] = m
  if (version === 'ff' || (version === '00' && rest !== undefined)) return false
  return !/^0+$/.test(traceId!) && !/^0+$/.test(parentId!)
}

// Random hex is drawn in batches (as crypto.randomUUID does with bytes), keeping a syscall and two
// buffer-to-hex conversions off every request; each request takes the next 48 hex digits (24 bytes).
const BATCH_BYTES = 24 * 512
let pool = randomBytes(BATCH_BYTES).toString('hex')
let offset = 0

function nextRandomHex(): string {
  if (offset === pool.length) {
    pool = randomBytes(BATCH_BYTES).toString('hex')
    offset = 0
  }
  const hex = pool.slice(offset, offset + 48)
  offset += 48
  return hex
}

/** A new traceparent: random trace-id and parent-id, not sampled (we record no spans). */
export function newTraceparent(): string {
  const hex = nextRandomHex()
  return `00-${hex.slice(0, 32)}-${hex.slice(32)}-00`
}
