/**
 * RFC 3986 §6.2.2 normalisation of a request path, as Kong does before routing: percent-encoded
 * unreserved characters are decoded, other escapes upper-cased, dot segments removed (after decoding, so
 * `/public/%2e%2e/admin` cannot slip past a prefix route). Routing and the upstream see the same path.
 */

const HEX = /^[0-9A-Fa-f]{2}$/

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

/** The normalised path, or null when it is not a valid origin-form path (bad escape, no leading '/'). */
export function normalizePath(path: string): string | null {
  if (path.charCodeAt(0) !== 0x2f) return null
  // Most paths need nothing: no escapes and no dot segments.
  if (path.indexOf('%') === -1 && path.indexOf('/.') === -1) return path
  let decoded = path
  if (path.indexOf('%') !== -1) {
    let out = ''
    for (let i = 0; i < path.length; i++) {
      const c = path[i]!
      if (c !== '%') {
        out += c
        continue
      }
      const hex = path.slice(i + 1, i + 3)
      if (!HEX.test(hex)) return null
      const code = Number.parseInt(hex, 16)
      out += isUnreserved(code) ? String.fromCharCode(code) : `%${hex.toUpperCase()}`
      i += 2
    }
    decoded = out
  }
  if (decoded.indexOf('/.') === -1) return decoded
  return removeDotSegments(decoded)
}

/** RFC 3986 §5.2.4 for an absolute path. */
function removeDotSegments(path: string): string {
  const segments = path.split('/')
  const out: string[] = []
  const last = segments.length - 1
  for (let i = 1; i <= last; i++) {
    const s = segments[i]!
    if (s === '.' || s === '..') {
      if (s === '..') out.pop()
      if (i === last) out.push('')
      continue
    }
    out.push(s)
  }
  return `/${out.join('/')}`
}
