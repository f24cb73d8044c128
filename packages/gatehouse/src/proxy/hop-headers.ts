/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) belong to one connection and are never forwarded, in either
 * direction, together with any header the Connection header names.
 */

export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

/** Lower-cased header names listed in Connection header values, or null when there are none. */
export function connectionListed(value: string | string[] | undefined): Set<string> | null {
  if (value === undefined) return null
  // What nearly every client sends names no header; skip the split.
  if (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive' || value === 'Close') return null
  const text = Array.isArray(value) ? value.join(',') : value
  let names: Set<string> | null = null
  for (const token of text.split(',')) {
    const name = token.trim().toLowerCase()
    if (name === '' || name === 'close' || name === 'keep-alive') continue
    names ??= new Set()
    names.add(name)
  }
  return names
}
