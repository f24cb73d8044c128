/**
 * IP addresses and CIDR blocks as Kong's `typedefs.ip_or_cidr` accepts them (kong/tools/ip.lua), and the
 * node:net BlockList they compile to. BlockList matches IPv4-mapped IPv6 addresses (`::ffff:10.1.2.3`)
 * against IPv4 rules and the other way round, which a dual-stack listener needs: its IPv4 clients arrive
 * in the mapped form.
 */
import { BlockList, isIP } from 'node:net'

/** The address and prefix length of an entry, or null when it is neither an address nor a CIDR block. */
export function parseIpOrCidr(entry: string): { address: string; bits: number | null; family: 4 | 6 } | null {
  const slash = entry.indexOf('/')
  const address = slash === -1 ? entry : entry.slice(0, slash)
  // A zone (`fe80::1%eth0`) names an interface of the gateway's host, never a client's address.
  if (address.includes('%')) return null
  const family = isIP(address)
  if (family !== 4 && family !== 6) return null
  if (slash === -1) return { address, bits: null, family }
  const text = entry.slice(slash + 1)
  if (!/^\d{1,3}$/.test(text)) return null
  const bits = Number(text)
  if (bits > (family === 4 ? 32 : 128)) return null
  return { address, bits, family }
}

/** The entries as one BlockList; null for none. Entries were validated by the schema. */
export function compileBlockList(entries: readonly string[] | null | undefined): BlockList | null {
  if (!entries || entries.length === 0) return null
  const list = new BlockList()
  for (const entry of entries) {
    const parsed = parseIpOrCidr(entry)!
    const type = parsed.family === 4 ? 'ipv4' : 'ipv6'
    if (parsed.bits === null) list.addAddress(parsed.address, type)
    else list.addSubnet(parsed.address, parsed.bits, type)
  }
  return list
}

/** The BlockList type of a client address, or null when it is no address a rule can match. */
export function addressType(address: string): 'ipv4' | 'ipv6' | null {
  if (address.includes('%')) return null
  const family = isIP(address)
  return family === 4 ? 'ipv4' : family === 6 ? 'ipv6' : null
}
