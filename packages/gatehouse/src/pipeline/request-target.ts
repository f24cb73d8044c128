/**
 * The request target (RFC 9112 §3.2) and Host, as the router needs them: the canonical path
 * (router/normalize-path.ts, under proxy.path_normalization), raw query, lower-cased host without port,
 * and the port the Host header names. Origin-form and absolute-form are accepted (absolute-form's
 * authority replaces Host, as RFC 9112 §3.2.2 says); anything else is refused.
 */
import {
  canonicalizePath,
  DEFAULT_PATH_POLICY,
  isPathRefusal,
  type PathPolicy,
  type PathRefusal,
} from '../router/normalize-path.ts'
import { PATH_REFUSALS } from '../router/path-policy.ts'

export interface RequestTarget {
  readonly path: string
  /** Including the leading `?`, or ''. */
  readonly query: string
  readonly host: string
  readonly port: number | null
  /** The Host value as received (with port), or ''. */
  readonly hostHeader: string
}

/** The target, or null when it is refused (see readRequestTarget for why). */
export function parseRequestTarget(
  url: string,
  hostHeader: string | undefined,
  policy: PathPolicy = DEFAULT_PATH_POLICY,
): RequestTarget | null {
  const target = readRequestTarget(url, hostHeader, policy)
  return isPathRefusal(target) ? null : target
}

/** The target, or why it is refused: a malformed target, or a path form `policy` refuses. */
export function readRequestTarget(
  url: string,
  hostHeader: string | undefined,
  policy: PathPolicy,
): RequestTarget | PathRefusal {
  let rawPath = url
  let authority = hostHeader ?? ''
  if (url.charCodeAt(0) !== 0x2f) {
    const m = /^https?:\/\/([^/?#]+)([^#]*)$/i.exec(url)
    if (m === null) return PATH_REFUSALS.notOriginForm
    authority = m[1]!
    rawPath = m[2] || '/'
    if (rawPath.charCodeAt(0) === 0x3f) rawPath = `/${rawPath}`
  }
  const q = rawPath.indexOf('?')
  const path = canonicalizePath(q === -1 ? rawPath : rawPath.slice(0, q), policy)
  if (isPathRefusal(path)) return path
  const { host, port } = splitHost(authority)
  return { path, query: q === -1 ? '' : rawPath.slice(q), host, port, hostHeader: authority }
}

interface HostAndPort {
  readonly host: string
  readonly port: number | null
}

/**
 * The last authority split, and its parts: a client sends the same Host on every request of a
 * connection, and most of a gateway's traffic names few hosts, so a repeat costs one comparison.
 */
let lastAuthority = ''
let lastSplit: HostAndPort = { host: '', port: null }

function splitHost(authority: string): HostAndPort {
  if (authority === lastAuthority) return lastSplit
  const split = splitHostOnce(authority)
  lastAuthority = authority
  lastSplit = split
  return split
}

function splitHostOnce(authority: string): HostAndPort {
  const lower = authority.toLowerCase()
  const bracket = lower.lastIndexOf(']')
  const colon = lower.lastIndexOf(':')
  if (colon > bracket && colon !== -1) {
    const port = Number(lower.slice(colon + 1))
    return { host: lower.slice(0, colon), port: Number.isInteger(port) && port <= 65535 ? port : null }
  }
  return { host: lower, port: null }
}
