/**
 * Which `Host` the admin and status listeners answer to: their own IP addresses, `localhost`, and the
 * names in `admin.allowed_hosts`. A name anyone else can point at this machine (DNS rebinding: a page on
 * attacker.example, whose DNS answer then turns into 127.0.0.1) must not reach the admin API as a
 * same-origin request; an IP literal cannot be rebound, and `localhost` never leaves the machine. The port
 * does not matter: port forwarding changes it, and rebinding is about the name.
 */
import type { IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { isIP } from 'node:net'
import { networkInterfaces } from 'node:os'

/** A `Host` header (or an origin's host) split into its name and port, the name in lower case. */
export interface HostName {
  /** An IP address in canonical form (IPv6 without brackets, IPv4-mapped as IPv4), or a lower-case name. */
  readonly name: string
  readonly ip: boolean
  /** The port as written, or '' when none. */
  readonly port: string
}

/** `name[:port]` or `[ipv6][:port]`; null when it is neither. */
export function parseHost(value: string): HostName | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/@]+))(?::(\d{1,5}))?$/.exec(value)
  if (m === null) return null
  const port = m[3] ?? ''
  if (m[1] !== undefined) {
    if (isIP(m[1]) !== 6) return null
    return { name: canonicalIp(m[1]), ip: true, port }
  }
  const name = m[2]!.toLowerCase()
  return isIP(name) === 4 ? { name, ip: true, port } : { name, ip: false, port }
}

/**
 * One spelling per address, so that `[0:0:0:0:0:0:0:1]` is `::1` and `::ffff:127.0.0.1` (a dual-stack
 * socket's view of an IPv4 client) is `127.0.0.1`.
 */
export function canonicalIp(ip: string): string {
  const bare = ip.replace(/%.*$/, '')
  if (isIP(bare) === 4) return bare
  const canonical = new URL(`http://[${bare}]`).hostname.slice(1, -1)
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical)
  if (mapped === null) return canonical
  const hi = Number.parseInt(mapped[1]!, 16)
  const lo = Number.parseInt(mapped[2]!, 16)
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
}

const WILDCARD = new Set(['0.0.0.0', '::'])

/**
 * The listener's own addresses: the one it is bound to, or on a wildcard address every interface's
 * (read per request: interfaces come and go), and the address this connection arrived on.
 */
function ownAddresses(req: IncomingMessage, bound: AddressInfo | null): Set<string> {
  const own = new Set<string>()
  if (bound === null || WILDCARD.has(bound.address)) {
    for (const list of Object.values(networkInterfaces()))
      for (const i of list ?? []) own.add(canonicalIp(i.address))
  } else own.add(canonicalIp(bound.address))
  const local = req.socket.localAddress
  if (local !== undefined) own.add(canonicalIp(local))
  return own
}

/** `admin.allowed_hosts`, compiled once per settings array. */
interface AllowedHosts {
  readonly exact: ReadonlySet<string>
  /** `.example.com` for `*.example.com`. */
  readonly suffixes: readonly string[]
}

const compiled = new WeakMap<readonly string[], AllowedHosts>()

function compile(list: readonly string[]): AllowedHosts {
  let hosts = compiled.get(list)
  if (hosts === undefined) {
    const exact = new Set<string>()
    const suffixes: string[] = []
    for (const entry of list) {
      const name = entry.toLowerCase().replace(/\.$/, '')
      if (name.startsWith('*.')) suffixes.push(name.slice(1))
      else {
        const parsed = parseHost(name.includes(':') && !name.startsWith('[') ? `[${name}]` : name)
        exact.add(parsed?.name ?? name)
      }
    }
    hosts = { exact, suffixes }
    compiled.set(list, hosts)
  }
  return hosts
}

/** Whether the listener answers to `host`: an own IP, `localhost`, or a listed name. */
export function hostAllowed(
  host: HostName,
  req: IncomingMessage,
  bound: AddressInfo | null,
  allowed: readonly string[],
): boolean {
  if (host.ip && ownAddresses(req, bound).has(host.name)) return true
  if (host.name === 'localhost') return true
  const list = compile(allowed)
  // A fully qualified `admin.example.com.` is the same DNS name as `admin.example.com`.
  const name = host.ip ? host.name : host.name.replace(/\.$/, '')
  if (list.exact.has(name)) return true
  return !host.ip && list.suffixes.some((s) => name.endsWith(s) && name.length > s.length)
}

/** The request's Host when the listener answers to it, else null (no Host, a malformed one, or foreign). */
export function allowedHost(
  req: IncomingMessage,
  bound: AddressInfo | null,
  allowed: readonly string[],
): HostName | null {
  const value = req.headers.host
  if (value === undefined || value === '') return null
  const host = parseHost(value)
  if (host === null || !hostAllowed(host, req, bound, allowed)) return null
  return host
}
