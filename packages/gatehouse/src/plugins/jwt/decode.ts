/**
 * Reads a compact JWT before its signature is checked, only to find the credential that must verify it
 * (Kong's jwt_parser.lua decode_token). Stricter than Kong: exactly three base64url segments, UTF-8
 * JSON objects (a number, null or array is refused, where Kong answers 500), no member named twice, no
 * `crit` (we understand no JWS extension, and a JWT must not use `b64`: RFC 7515 §4.1.11, RFC 7797 §7).
 * Nothing read here is trusted: jose verifies the signature over these same bytes afterwards.
 */
import { isUtf8 } from 'node:buffer'
import { hasDuplicateTopLevelMember } from '../_shared/json-duplicates.ts'
import { JWT_ALGORITHMS, type JwtAlgorithm } from './schema.ts'

export interface DecodedToken {
  readonly header: Readonly<Record<string, unknown>>
  readonly claims: Readonly<Record<string, unknown>>
  readonly alg: JwtAlgorithm
}

/** Why a token cannot be decoded; the client reads `Bad token; <reason>`, as from Kong. */
export type DecodeFailure = 'invalid JSON' | 'invalid alg' | 'unsupported crit' | 'invalid signature'

const ALGORITHMS: ReadonlySet<string> = new Set(JWT_ALGORITHMS)
/** Canonical base64url without padding (RFC 7515 §2): a length of 4n+1 cannot be produced by encoding. */
const BASE64URL = /^[A-Za-z0-9_-]*$/

export function decodeToken(token: string): DecodedToken | DecodeFailure {
  const first = token.indexOf('.')
  const second = first === -1 ? -1 : token.indexOf('.', first + 1)
  if (second === -1 || token.indexOf('.', second + 1) !== -1) return 'invalid JSON'
  const header = decodeSegment(token.slice(0, first))
  const claims = header === null ? null : decodeSegment(token.slice(first + 1, second))
  if (header === null || claims === null) return 'invalid JSON'
  const alg = header.alg
  if (typeof alg !== 'string' || !ALGORITHMS.has(alg)) return 'invalid alg'
  if (Object.hasOwn(header, 'crit')) return 'unsupported crit'
  if (!isBase64url(token.slice(second + 1))) return 'invalid signature'
  return { header, claims, alg: alg as JwtAlgorithm }
}

function isBase64url(segment: string): boolean {
  return segment.length % 4 !== 1 && BASE64URL.test(segment)
}

/** A segment's JSON object, or null when it is not base64url, not UTF-8, not JSON or not an object. */
function decodeSegment(segment: string): Record<string, unknown> | null {
  if (segment === '' || !isBase64url(segment)) return null
  const bytes = Buffer.from(segment, 'base64url')
  if (!isUtf8(bytes)) return null
  const text = bytes.toString('utf8')
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  return hasDuplicateTopLevelMember(text) ? null : (value as Record<string, unknown>)
}
