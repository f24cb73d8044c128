/**
 * One canonical path at the edge (issue 10 §2): the router matches it, and the upstream is sent the path
 * derived from it (strip_path, the service path), so no upstream can read a request as a path other than
 * the one its route was chosen for. Forms that frameworks read differently — nginx merges `//`, Go and
 * WSGI decode `%2F`, Tomcat drops `;params`, IIS reads `\` as `/` and drops a trailing `.` — are made
 * canonical or refused, as `proxy.path_normalization` (path-policy.ts) says.
 *
 * The order is fixed, so that no combination of settings routes a path to one prefix and forwards it
 * under another:
 *   1. decode escapes, one pass: unreserved characters (RFC 3986 §6.2.2.2) are decoded, other escapes
 *      upper-cased; `%2F` and `%5C` (and a raw `\`) follow their setting, `unescape` giving a `/`, so a
 *      decoded slash separates segments in every later step (`/public/..%2Fprivate` → `/private`);
 *   2. cut `;params` from each segment (or refuse them), so `..;x` is the dot segment Tomcat sees;
 *   3. merge repeated slashes, as nginx does before it resolves dot segments (`/a//../b` → `/b`);
 *   4. remove dot segments (RFC 3986 §5.2.4), never above the root;
 *   5. refuse a segment ending in `.` or an encoded space, which Windows drops (`/admin%20./x` is
 *      `/admin/x` to IIS).
 * The result is a fixed point: canonicalising it again gives it back, which the property tests check.
 */
import { isPathRefusal, PATH_REFUSALS, type PathPolicy, type PathRefusal } from './path-policy.ts'

export { DEFAULT_PATH_POLICY, isPathRefusal, type PathPolicy, type PathRefusal } from './path-policy.ts'

const HEX = /^[0-9A-Fa-f]{2}$/

/** Anything the canonicaliser might change or refuse: an escape, `\`, `;`, `//`, a segment starting or ending with `.`. */
const NEEDS_WORK = /[%\\;]|\/\/|\/\.|\.\/|\.$/

function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x2d || // -
    code === 0x2e || // .
    code === 0x5f || // _
    code === 0x7e // ~
  )
}

/**
 * The canonical form of an origin-form path (no query), or why it is refused. `asPrefix` reads a route's
 * prefix path, whose last segment may be cut short (`/v1.` matches `/v1.2`), so a trailing `.` there is no
 * trailing-dot segment.
 */
export function canonicalizePath(path: string, policy: PathPolicy, asPrefix = false): string | PathRefusal {
  if (path.charCodeAt(0) !== 0x2f) return PATH_REFUSALS.notOriginForm
  // Most paths need nothing.
  if (!NEEDS_WORK.test(path)) return path
  const decoded = decodeEscapes(path, policy)
  if (isPathRefusal(decoded)) return decoded
  return canonicalSegments(decoded, policy, asPrefix)
}

/** The canonical path under `policy`, or null when it is refused, for callers that need no reason. */
export function normalizePath(path: string, policy: PathPolicy): string | null {
  const result = canonicalizePath(path, policy)
  return isPathRefusal(result) ? null : result
}

/** Step 1. */
function decodeEscapes(path: string, policy: PathPolicy): string | PathRefusal {
  if (path.indexOf('%') === -1 && path.indexOf('\\') === -1) return path
  let out = ''
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!
    if (c === '\\') {
      if (policy.backslashes === 'reject') return PATH_REFUSALS.backslash
      out += policy.backslashes === 'unescape' ? '/' : c
      continue
    }
    if (c !== '%') {
      out += c
      continue
    }
    const hex = path.slice(i + 1, i + 3)
    if (!HEX.test(hex)) return PATH_REFUSALS.invalidEscape
    i += 2
    const code = Number.parseInt(hex, 16)
    // No path names a control character. Decoded, %00 ends the string in C code (`/admin%00.png` is
    // `/admin` to the file system) and %0D%0A splits headers and log lines, so no setting lets them in.
    if (code < 0x20 || code === 0x7f) return PATH_REFUSALS.encodedControl
    if (isUnreserved(code)) out += String.fromCharCode(code)
    else if (code === 0x2f) {
      if (policy.escaped_slashes === 'reject') return PATH_REFUSALS.encodedSlash
      out += policy.escaped_slashes === 'unescape' ? '/' : '%2F'
    } else if (code === 0x5c) {
      if (policy.backslashes === 'reject') return PATH_REFUSALS.encodedBackslash
      out += policy.backslashes === 'unescape' ? '/' : '%5C'
    } else out += `%${hex.toUpperCase()}`
  }
  return out
}

/** Steps 2 to 5, on the segments of a decoded path. */
function canonicalSegments(path: string, policy: PathPolicy, asPrefix: boolean): string | PathRefusal {
  const segments = path.split('/')
  const last = segments.length - 1
  const out: string[] = []
  for (let i = 1; i <= last; i++) {
    let s = segments[i]!
    const semicolon = s.indexOf(';')
    if (semicolon !== -1 && policy.path_parameters !== 'keep') {
      if (policy.path_parameters === 'reject') return PATH_REFUSALS.pathParameter
      s = s.slice(0, semicolon)
    }
    // An empty segment is a repeated slash, except the last one: that is the trailing slash.
    if (s === '' && i !== last && policy.merge_slashes) continue
    if (s === '.' || s === '..') {
      if (s === '..') out.pop()
      if (i === last) out.push('')
      continue
    }
    out.push(s)
  }
  if (policy.trailing_dots === 'reject') {
    const checked = asPrefix ? out.length - 1 : out.length
    for (let i = 0; i < checked; i++) {
      const s = out[i]!
      if (s.endsWith('.')) return PATH_REFUSALS.trailingDot
      if (s.endsWith('%20')) return PATH_REFUSALS.trailingSpace
    }
  }
  return `/${out.join('/')}`
}
