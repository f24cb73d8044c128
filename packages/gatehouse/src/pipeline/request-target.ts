/**
 * The request target (RFC 9112 §3.2) and Host, as the router needs them: normalised path, raw query,
 * lower-cased host without port, and the port the Host header names. Origin-form and absolute-form are
 * accepted (absolute-form's authority replaces Host, as RFC 9112 §3.2.2 says); anything else is refused.
 */
import { normalizePath } from '../router/normalize-path.ts'

export interface RequestTarget {
  readonly path: string
  /** Including the leading `?`, or ''. */
  readonly query: string
  readonly host: string
  readonly port: number | null
  /** The Host value as received (with port), or ''. */
  readonly hostHeader: string
}

export function parseRequestTarget(url: string, hostHeader: string | undefined): RequestTarget | null {
  let rawPath = url
  let authority = hostHeader ?? ''
  if (url.charCodeAt(0) !== 0x2f) {
    const m = /^https?:\/\/([^/?#]+)([^#]*)$/i.exec(url)
    if (m === null) return null
    authority = m[1]!
    rawPath = m[2] || '/'
    if (rawPath.charCodeAt(0) === 0x3f) rawPath = `/${rawPath}`
  }
  const q = rawPath.indexOf('?')
  const pathPart = q === -1 ? rawPath : rawPath.slice(0, q)
  const path = normalizePath(pathPart)
  if (path === null) return null
  const { host, port } = splitHost(authority)
  return { path, query: q === -1 ? '' : rawPath.slice(q), host, port, hostHeader: authority }
}

function splitHost(authority: string): { host: string; port: number | null } {
  const lower = authority.toLowerCase()
  const bracket = lower.lastIndexOf(']')
  const colon = lower.lastIndexOf(':')
  if (colon > bracket && colon !== -1) {
    const port = Number(lower.slice(colon + 1))
    return { host: lower.slice(0, colon), port: Number.isInteger(port) && port <= 65535 ? port : null }
  }
  return { host: lower, port: null }
}
