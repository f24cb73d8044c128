/**
 * The HTTP/1.x request head, held to RFC 9112 where Node's parser lets through what the gateway must not
 * forward: several Host lines or an invalid Host (§3.2), a Host that disagrees with an absolute-form
 * target (§3.2.2), Transfer-Encoding on HTTP/1.0 or with codings other than chunked (§6.1), HTTP/0.9 and
 * HTTP/2.0 request lines, and more header lines than proxy.max_header_count. The rest (CL with TE,
 * duplicate lengths, bad chunks, obs-fold, bare CR/LF, control characters) Node's strict parser refuses
 * itself, and proxy/client-errors.ts answers.
 *
 * The common request costs one pass over rawHeaders comparing name lengths, and no allocation.
 * HTTP/2 requests get only the Host check: Node's HTTP/2 stack frames them and bounds their fields.
 */
import type { IncomingMessage } from 'node:http'
import { GatehouseError } from '../errors/errors.ts'
import { GatewayHttp2Request } from '../proxy/http2-compat.ts'

/** Characters of a reg-name (RFC 3986 §3.2.2: unreserved, sub-delims and `%` of pct-encoded). */
const REG_NAME = new Uint8Array(128)
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=%")
  REG_NAME[c.charCodeAt(0)] = 1
/** Characters inside an IP-literal's brackets (IPv6, with an embedded IPv4 tail). */
const IP_LITERAL = new Uint8Array(128)
for (const c of '0123456789abcdefABCDEF:.') IP_LITERAL[c.charCodeAt(0)] = 1

/**
 * Why the request head must be refused, or null (the common case). Every refusal closes the connection:
 * whatever follows on it was framed by a client that got HTTP wrong once already.
 */
export function checkRequestHead(req: IncomingMessage, maxHeaderCount: number): GatehouseError | null {
  if (req.httpVersionMajor !== 1) {
    if (req instanceof GatewayHttp2Request) {
      // HTTP/2 frames the request itself; Host is `:authority` (http2-compat.ts), held to the same syntax.
      const host = req.headers.host
      return host === undefined || validAuthority(host, false)
        ? null
        : hostError('Bad request: invalid :authority or Host')
    }
    // llhttp reads `GET /` as HTTP/0.9 and passes `HTTP/2.0` through; neither is spoken on this listener.
    return new GatehouseError('GH_ERR_REQUEST_VERSION_UNSUPPORTED', 'HTTP version not supported')
  }
  const raw = req.rawHeaders
  if (raw.length > 2 * maxHeaderCount)
    return new GatehouseError(
      'GH_ERR_REQUEST_HEADERS_TOO_LARGE',
      `Request header fields too large: more than ${maxHeaderCount} header lines`,
    )
  let hosts = 0
  for (let i = 0; i < raw.length; i += 2) if (isHostName(raw[i]!)) hosts++
  if (hosts > 1) return hostError('Bad request: more than one Host header')
  const host = req.headers.host
  if (host === undefined) {
    if (req.httpVersionMinor === 1) return hostError('Bad request: missing Host header')
  } else if (host !== lastValidHost) {
    if (!validAuthority(host, true)) return hostError('Bad request: invalid Host header')
    lastValidHost = host
  }
  const url = req.url ?? ''
  if (url.charCodeAt(0) !== 0x2f /* '/' */ && host !== undefined) {
    const mismatch = absoluteFormMismatch(url, host)
    if (mismatch !== null) return mismatch
  }
  const te = req.headers['transfer-encoding']
  if (te !== undefined) return transferEncodingError(te, req.httpVersionMinor)
  return null
}

/** The last Host found valid: a connection's requests repeat it, and a repeat is one comparison. */
let lastValidHost = ''

function hostError(message: string): GatehouseError {
  return new GatehouseError('GH_ERR_REQUEST_HOST_INVALID', message)
}

/** `host`, case-insensitively, without allocating. */
function isHostName(name: string): boolean {
  return (
    name.length === 4 &&
    (name.charCodeAt(0) | 0x20) === 0x68 &&
    (name.charCodeAt(1) | 0x20) === 0x6f &&
    (name.charCodeAt(2) | 0x20) === 0x73 &&
    (name.charCodeAt(3) | 0x20) === 0x74
  )
}

/**
 * RFC 3986 `host [ ":" port ]`: a reg-name or IPv4 address, or an IP-literal in brackets, then at most
 * one port of 1 to 5 digits up to 65535. No userinfo (`@`), spaces, path or second port. An empty
 * value is a valid Host (RFC 9112 §3.2: the target has no authority) but not a valid URI authority.
 */
export function validAuthority(value: string, emptyAllowed: boolean): boolean {
  const n = value.length
  if (n === 0) return emptyAllowed
  let i = 0
  if (value.charCodeAt(0) === 0x5b /* '[' */) {
    const close = value.indexOf(']')
    if (close < 3) return false
    for (let j = 1; j < close; j++) {
      const c = value.charCodeAt(j)
      if (c > 127 || IP_LITERAL[c] === 0) return false
    }
    i = close + 1
  } else {
    for (; i < n; i++) {
      const c = value.charCodeAt(i)
      if (c === 0x3a /* ':' */) break
      if (c > 127 || REG_NAME[c] === 0) return false
      if (c === 0x25 /* '%' */ && !(isHex(value.charCodeAt(i + 1)) && isHex(value.charCodeAt(i + 2))))
        return false
    }
    if (i === 0) return false
  }
  if (i === n) return true
  if (value.charCodeAt(i) !== 0x3a) return false
  const digits = n - i - 1
  if (digits < 1 || digits > 5) return false
  let port = 0
  for (let j = i + 1; j < n; j++) {
    const d = value.charCodeAt(j) - 0x30
    if (d < 0 || d > 9) return false
    port = port * 10 + d
  }
  return port <= 65535
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66)
}

/**
 * An absolute-form target (`GET http://a.example/x`) whose authority is not the Host header's: host
 * names compared case-insensitively, a missing port read as the scheme's default. Other targets are
 * left to the target parser (request-target.ts).
 */
function absoluteFormMismatch(url: string, host: string): GatehouseError | null {
  const scheme = /^(https?):\/\/([^/?#]*)/i.exec(url)
  if (scheme === null) return null
  const authority = scheme[2]!
  if (!validAuthority(authority, false))
    return hostError('Bad request: invalid authority in the request target')
  const defaultPort = scheme[1]!.length === 5 ? 443 : 80
  const a = splitAuthority(authority, defaultPort)
  const b = splitAuthority(host, defaultPort)
  return a.host === b.host && a.port === b.port
    ? null
    : hostError('Bad request: Host header does not match the request target')
}

function splitAuthority(value: string, defaultPort: number): { host: string; port: number } {
  const lower = value.toLowerCase()
  const colon = lower.lastIndexOf(':')
  return colon > lower.lastIndexOf(']')
    ? { host: lower.slice(0, colon), port: Number(lower.slice(colon + 1)) }
    : { host: lower, port: defaultPort }
}

/**
 * RFC 9112 §6.1: HTTP/1.0 has no Transfer-Encoding, so a message with one has faulty framing; a
 * coding list not ending in chunked has no knowable length (400, §6.3); chunked after other codings is
 * framed but not decoded by the gateway, which would forward a body it cannot describe (501).
 * Node joins the value's OWS and rejects two Transfer-Encoding lines itself.
 */
function transferEncodingError(te: string, minor: number): GatehouseError | null {
  if (minor === 0)
    return new GatehouseError(
      'GH_ERR_REQUEST_INVALID',
      'Bad request: Transfer-Encoding in an HTTP/1.0 request',
    )
  if (te.length === 7 && te.toLowerCase() === 'chunked') return null
  const last = te.slice(te.lastIndexOf(',') + 1).trim()
  if (last.toLowerCase() !== 'chunked')
    return new GatehouseError(
      'GH_ERR_REQUEST_INVALID',
      'Bad request: Transfer-Encoding does not end in chunked',
    )
  return new GatehouseError(
    'GH_ERR_REQUEST_TRANSFER_CODING_UNSUPPORTED',
    'Not implemented: only the chunked transfer coding is supported',
  )
}
