/**
 * Taking the caller's own credential out of what goes upstream: an auth plugin's `hide_credentials`,
 * and every auth plugin on a route whose internal-token plugin replaces the credential with an internal
 * token (RouteContext.concealsCredentials), so no service ever sees a public key, token or password.
 */

export /** Form decoding (`+` is a space); a malformed escape leaves the text as written, as nginx does. */
function formDecode(raw: string): string {
  if (!raw.includes('%') && !raw.includes('+')) return raw
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '))
  } catch {
    return raw.replaceAll('+', ' ')
  }
}

/**
 * The upstream query without any parameter named `name`. The other parameters keep their exact bytes
 * and order: upstreams that sign or hash query strings must see what the client sent.
 */
export function withoutQueryParam(query: string, name: string): string {
  if (query.length <= 1) return query
  const kept = query
    .slice(1)
    .split('&')
    .filter((segment) => {
      const eq = segment.indexOf('=')
      return formDecode(eq === -1 ? segment : segment.slice(0, eq)) !== name
    })
  return kept.length === 0 || (kept.length === 1 && kept[0] === '') ? '' : `?${kept.join('&')}`
}

/**
 * The Cookie header without the cookies named `names`, the others kept as written; null when none is
 * left (the header is then dropped).
 */
export function withoutCookies(header: string, names: readonly string[]): string | null {
  const kept = header.split(';').filter((pair) => {
    const eq = pair.indexOf('=')
    return !names.includes((eq === -1 ? pair : pair.slice(0, eq)).trim())
  })
  const text = kept
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .join('; ')
  return text === '' ? null : text
}
