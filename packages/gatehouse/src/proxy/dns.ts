/**
 * Keeps a target's host name resolved: each address becomes a balanced endpoint, names are resolved
 * again when their records' TTL runs out, and a failed resolution keeps the last good addresses (the
 * failure is logged and retried with backoff) so a DNS outage does not take healthy targets away.
 *
 * A records come first and AAAA only when a name has none: Kong's default `dns_order` has no AAAA at
 * all, and a dual-stack name would otherwise put endpoints in the rotation that a v4-only backend does
 * not listen on. Names DNS does not know (`localhost`, /etc/hosts entries) go through getaddrinfo,
 * which gives no TTL; those are looked up again every LIMITS.lookupInterval.
 */
import { promises as dns } from 'node:dns'

export interface Resolution {
  readonly addresses: readonly string[]
  /** Seconds the answer may be cached, or null when the source gives none (getaddrinfo). */
  readonly ttl: number | null
  /** Where the addresses came from: `A`, `AAAA` or `lookup`. */
  readonly source: 'A' | 'AAAA' | 'lookup'
}

export type Resolve = (name: string) => Promise<Resolution>

/** Timers the resolution loop runs on; tests inject a fake one. */
export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/** Node's timers, unreferenced: a pending re-resolution never keeps the process alive. */
export const SYSTEM_CLOCK: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

/** Milliseconds. */
export const DNS_LIMITS = {
  /** Shortest wait between two resolutions, whatever the TTL (a TTL of 0 must not spin). */
  minInterval: 1_000,
  /** Longest wait, whatever the TTL. */
  maxInterval: 3_600_000,
  /** Wait after a getaddrinfo answer, which has no TTL. */
  lookupInterval: 30_000,
  /** First retry after a failure; doubles on each failure in a row up to retryMax. */
  retryMin: 1_000,
  retryMax: 30_000,
} as const

export type DnsLimits = { readonly [K in keyof typeof DNS_LIMITS]: number }

/** Milliseconds until the next resolution: after an answer (its TTL, clamped) or after `failures` failures in a row. */
export function nextResolveDelay(
  answer: Resolution | null,
  failures: number,
  limits: DnsLimits = DNS_LIMITS,
): number {
  if (answer === null) return Math.min(limits.retryMin * 2 ** Math.max(0, failures - 1), limits.retryMax)
  if (answer.ttl === null) return limits.lookupInterval
  return Math.min(Math.max(answer.ttl * 1000, limits.minInterval), limits.maxInterval)
}

const resolver = new dns.Resolver({ timeout: 2_000, tries: 2 })

/** The system's answer for `name`: A records, else AAAA records, else getaddrinfo. */
export const systemResolve: Resolve = async (name) => {
  for (const [source, query] of [
    ['A', () => resolver.resolve4(name, { ttl: true })],
    ['AAAA', () => resolver.resolve6(name, { ttl: true })],
  ] as const) {
    const records = await query().catch(() => [])
    if (records.length > 0) {
      return {
        addresses: unique(records.map((r) => r.address)),
        ttl: Math.min(...records.map((r) => r.ttl)),
        source,
      }
    }
  }
  const found = await dns.lookup(name, { all: true })
  const v4 = found.filter((a) => a.family === 4)
  return {
    addresses: unique((v4.length > 0 ? v4 : found).map((a) => a.address)),
    ttl: null,
    source: 'lookup',
  }
}

function unique(list: string[]): string[] {
  return [...new Set(list)].sort()
}

export interface DnsNameOptions {
  readonly resolve: Resolve
  readonly clock: Clock
  readonly limits?: DnsLimits
  /** The address list changed (first answer included). */
  readonly onChange: (addresses: readonly string[]) => void
  /** A resolution failed; `kept` addresses stay in use. */
  readonly onError: (err: Error, kept: readonly string[], failures: number) => void
}

/** One host name, kept resolved until `stop()`. */
export class DnsName {
  readonly name: string
  addresses: readonly string[] = []
  /** Source of the current addresses, or null before the first answer. */
  source: Resolution['source'] | null = null
  /** The last resolution failed (the addresses, if any, are the last good ones). */
  failing = false
  /** Settles when the first resolution has settled, either way. */
  readonly ready: Promise<void>
  readonly #options: DnsNameOptions
  #timer: unknown = null
  #failures = 0
  #stopped = false

  constructor(name: string, options: DnsNameOptions) {
    this.name = name
    this.#options = options
    this.ready = this.#resolve()
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer !== null) this.#options.clock.clearTimeout(this.#timer)
    this.#timer = null
  }

  async #resolve(): Promise<void> {
    this.#timer = null
    let answer: Resolution | null = null
    try {
      answer = await this.#options.resolve(this.name)
      if (answer.addresses.length === 0) throw Object.assign(new Error('no addresses'), { code: 'ENODATA' })
    } catch (err) {
      answer = null
      if (this.#stopped) return
      this.#failures++
      this.failing = true
      this.#options.onError(err as Error, this.addresses, this.#failures)
    }
    if (this.#stopped) return
    if (answer !== null) {
      this.#failures = 0
      this.failing = false
      this.source = answer.source
      if (!sameList(answer.addresses, this.addresses)) {
        this.addresses = answer.addresses
        this.#options.onChange(answer.addresses)
      }
    }
    const delay = nextResolveDelay(answer, this.#failures, this.#options.limits)
    this.#timer = this.#options.clock.setTimeout(() => void this.#resolve(), delay)
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}
