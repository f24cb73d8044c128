/**
 * Who the client is and the X-Forwarded-* headers we send upstream. Values from the client are believed
 * only when the peer is a trusted proxy (proxy.trusted_ips); from anyone else they are replaced, so an
 * upstream reading X-Forwarded-For cannot be lied to. Unlike Kong, an untrusted peer's
 * X-Forwarded-For is dropped rather than extended, for the same reason.
 */
import type { BlockList } from 'node:net'

export function isTrusted(trusted: BlockList | null, address: string): boolean {
  if (trusted === null || address === '') return false
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address
  return trusted.check(v4, v4.includes(':') ? 'ipv6' : 'ipv4')
}

/**
 * The client address: the peer, or, behind trusted proxies, the right-most X-Forwarded-For entry that
 * is not itself a trusted proxy (nginx's real_ip_recursive).
 */
export function clientAddress(
  trusted: BlockList | null,
  peer: string,
  xff: string | string[] | undefined,
): string {
  if (xff === undefined || !isTrusted(trusted, peer)) return peer
  const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',')
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.trim()
    if (hop !== '' && !isTrusted(trusted, hop)) return hop
  }
  return peer
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}

export interface ForwardedInput {
  readonly trustedPeer: boolean
  readonly peer: string
  readonly protocol: 'http' | 'https'
  /** Host without port, lower-cased, or ''. */
  readonly host: string
  readonly localPort: number
  readonly originalPath: string
  readonly strippedPrefix: string
  readonly incoming: Readonly<Record<string, string | string[] | undefined>>
}

/** Sets X-Forwarded-For/Proto/Host/Port/Path/Prefix and X-Real-IP on `out`. */
export function setForwardedHeaders(
  out: Record<string, string | string[]>,
  input: ForwardedInput,
  clientIp: string,
): void {
  const { incoming, trustedPeer } = input
  if (!trustedPeer) {
    // Nothing the client sent is believed (the usual case: spelled out, as it runs on every request).
    out['x-forwarded-for'] = input.peer
    out['x-real-ip'] = clientIp
    out['x-forwarded-proto'] = input.protocol
    out['x-forwarded-host'] = input.host
    out['x-forwarded-port'] = portText(input.localPort)
    out['x-forwarded-path'] = input.originalPath
    if (input.strippedPrefix !== '') out['x-forwarded-prefix'] = input.strippedPrefix
    else if (out['x-forwarded-prefix'] !== undefined) delete out['x-forwarded-prefix']
    if (out.forwarded !== undefined) delete out.forwarded
    return
  }
  const xff = incoming['x-forwarded-for']
  const priorFor = xff !== undefined ? (Array.isArray(xff) ? xff.join(', ') : xff) : ''
  out['x-forwarded-for'] = priorFor ? `${priorFor}, ${input.peer}` : input.peer
  out['x-real-ip'] = clientIp
  out['x-forwarded-proto'] = single(incoming['x-forwarded-proto']) ?? input.protocol
  out['x-forwarded-host'] = single(incoming['x-forwarded-host']) ?? input.host
  out['x-forwarded-port'] = single(incoming['x-forwarded-port']) ?? portText(input.localPort)
  out['x-forwarded-path'] = single(incoming['x-forwarded-path']) ?? input.originalPath
  const prefix = single(incoming['x-forwarded-prefix']) ?? input.strippedPrefix
  if (prefix) out['x-forwarded-prefix'] = prefix
  else delete out['x-forwarded-prefix']
}

/** The last port's text: a listener's requests all come with the same one. */
let lastPort = -1
let lastPortText = ''

function portText(port: number): string {
  if (port !== lastPort) {
    lastPort = port
    lastPortText = String(port)
  }
  return lastPortText
}
