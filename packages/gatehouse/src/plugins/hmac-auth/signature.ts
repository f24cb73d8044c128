/**
 * The signing string and its HMAC, with Kong's rules (kong/plugins/hmac-auth/access.lua `create_hash`):
 * one line per signed name, joined by `\n`: `name: value` for a header (`name:` when the request lacks
 * it), `@request-target: <method lower-cased> <path?query>`, and for `request-line`
 * `<METHOD> <path?query> HTTP/<major.minor>`, the path and query exactly as the client sent them.
 *
 * The two pseudo-headers always mean the request itself (Kong reads a header of that name first; no
 * client can send `@request-target`, and a `request-line` header would sign as `request-line: …`, so
 * the result is the same).
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { HmacAlgorithm } from './schema.ts'

const HASHES: Readonly<Record<HmacAlgorithm, string>> = {
  'hmac-sha1': 'sha1',
  'hmac-sha256': 'sha256',
  'hmac-sha384': 'sha384',
  'hmac-sha512': 'sha512',
}

/** What the client signed, rebuilt from the request as received. */
export function signingString(req: IncomingMessage, names: readonly string[]): string {
  const target = req.url ?? '/'
  const lines = names.map((name) => {
    if (name === '@request-target') return `@request-target: ${(req.method ?? '').toLowerCase()} ${target}`
    if (name === 'request-line') return `${req.method} ${target} HTTP/${Number(req.httpVersion).toFixed(1)}`
    const value = req.headers[name.toLowerCase()]
    if (value === undefined) return `${name}:`
    return `${name}: ${Array.isArray(value) ? value[0] : value}`
  })
  return lines.join('\n')
}

/**
 * Whether `signature` (base64, as sent) is the HMAC of `text` under `secret`. Compared in constant time;
 * a value that is not base64 or has the wrong length never matches.
 */
export function signatureMatches(
  algorithm: HmacAlgorithm,
  secret: string,
  text: string,
  signature: string,
): boolean {
  const expected = createHmac(HASHES[algorithm], secret).update(text).digest()
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(signature)) return false
  const given = Buffer.from(signature, 'base64')
  return given.length === expected.length && timingSafeEqual(given, expected)
}
