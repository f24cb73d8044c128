/**
 * One balanced endpoint: an address of a target (a target named by IP has one; a DNS name has one per
 * address), with its weight, health counters, requests in flight and the connection pools that reach
 * it (one per connection settings of the services using the upstream).
 */
import { isIP } from 'node:net'
import type { Dispatcher } from 'undici'
import type { TargetEntity } from '../config/model.ts'
import { HealthCounters } from './health.ts'

export class Endpoint {
  readonly target: TargetEntity
  /** An IP address (IPv6 without brackets). */
  readonly address: string
  readonly port: number
  readonly weight: number
  /** `address:port`, IPv6 in brackets: what pools connect to. */
  readonly authority: string
  /** The target's host (a name, or an IP with IPv6 in brackets). */
  readonly host: string
  /** The target, `host:port`. Kong sends it as the Host header, without the port when it is the scheme's default. */
  readonly hostHeader: string
  /** The target's host name for TLS (SNI and certificate checks); null when the target is an IP. */
  readonly servername: string | null
  readonly health = new HealthCounters()
  /** Requests in flight, for least-connections. */
  active = 0
  /** Smooth weighted round-robin's running weight. */
  current = 0
  /** When a half-open trial may be let through (performance.now() ms); Infinity when none is due. */
  trialAt = Number.POSITIVE_INFINITY
  /** A half-open trial request is in flight. */
  trial = false
  /** An active probe is in flight. */
  probing = false
  /** Pools reaching this endpoint, by connection settings key; filled on first use. */
  readonly pools = new Map<string, Dispatcher>()

  constructor(target: TargetEntity, host: string, address: string, port: number) {
    this.target = target
    this.address = address
    this.port = port
    this.weight = target.weight
    this.authority = isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`
    this.host = host
    this.hostHeader = target.target
    this.servername = isIP(host.replace(/^\[|\]$/g, '')) === 0 ? host : null
  }
}
