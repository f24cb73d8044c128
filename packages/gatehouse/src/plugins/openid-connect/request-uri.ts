/**
 * The URI a client used for a request, as a DPoP proof's `htu` must name it (RFC 9449 §4.3: without query
 * and fragment, compared after syntax- and scheme-based normalisation, RFC 3986 §6.2.2–6.2.3): the scheme
 * and authority of the Host header (or the absolute-form target), and the path before strip_path. From a
 * trusted proxy (proxy.trusted_ips) its X-Forwarded-Proto, -Host, -Port and -Path describe the client's
 * URL instead — from anyone else they are ignored, as everywhere in the gateway (proxy/forwarded.ts).
 */
import type { RequestState } from '../../pipeline/request-state.ts'
import { isTrusted } from '../../proxy/forwarded.ts'
import { normalizePath } from '../../router/normalize-path.ts'

/** Whether `htu` names the URI of this request. */
export function htuMatches(htu: string, state: RequestState): boolean {
  const claimed = URL.parse(htu)
  if (claimed === null || (claimed.protocol !== 'https:' && claimed.protocol !== 'http:')) return false
  if (claimed.username !== '' || claimed.password !== '') return false
  const used = requestOrigin(state)
  if (used === null || claimed.origin !== used.origin) return false
  return normalizePath(claimed.pathname, state.runtime.config.settings.proxy.path_normalization) === used.path
}

function requestOrigin(state: RequestState): { origin: string; path: string } | null {
  const headers = state.req.headers
  const trusted = isTrusted(state.runtime.trustedProxies, state.req.socket.remoteAddress ?? '')
  const forwarded = (name: string) => (trusted ? first(headers[name]) : undefined)
  const scheme = forwarded('x-forwarded-proto')?.toLowerCase() ?? state.protocol
  if (scheme !== 'http' && scheme !== 'https') return null
  const url = URL.parse(`${scheme}://${forwarded('x-forwarded-host') ?? authority(state)}`)
  if (url === null) return null
  const port = forwarded('x-forwarded-port')
  if (port !== undefined) {
    if (!/^\d{1,5}$/.test(port)) return null
    url.port = port
  }
  const forwardedPath = forwarded('x-forwarded-path')
  const path =
    forwardedPath !== undefined
      ? normalizePath(forwardedPath.split('?')[0]!, state.runtime.config.settings.proxy.path_normalization)
      : state.path
  return path === null ? null : { origin: url.origin, path }
}

/** The authority of the request target in absolute form, else the Host header. */
function authority(state: RequestState): string {
  const target = state.req.url ?? ''
  const absolute = /^https?:\/\/([^/?#]+)/i.exec(target)
  return absolute !== null ? absolute[1]! : (state.req.headers.host ?? '')
}

/** The first value of a header a proxy may have sent as a list (`https, http`). */
function first(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value
  if (text === undefined) return undefined
  const item = text.split(',')[0]!.trim()
  return item === '' ? undefined : item
}
