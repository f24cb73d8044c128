/**
 * An issuer's claim_mapping applied to verified claims: the caller's `principal.attributes`, which later
 * stages (internal tokens, attributes_to_headers) read without knowing the issuer's claim layout. Values
 * are JSON (claims come from JSON.parse); null and values over 4 KiB serialized are left out and logged
 * at debug. Each value is a deep-frozen copy, so nothing downstream can change what the token said, and
 * the map is computed once per verification (it is cached with the token).
 */
import { RESERVED_CLAIMS } from '../../internal-tokens/mint.ts'
import type { Logger } from '../../observability/logger.ts'
import { claimAt, parseClaimPath } from './claim-path.ts'

/** Largest attribute value kept, in bytes of its JSON text. */
export const MAX_ATTRIBUTE_BYTES = 4096

/**
 * Names an attribute may not take: the claims of Gatehouse's internal tokens, which attributes are
 * copied into (a mapped `sub` or `aud` would let an issuer's claim pose as the gateway's own).
 */
export const RESERVED_ATTRIBUTES: ReadonlySet<string> = new Set(RESERVED_CLAIMS)

/** What attribute names look like: a letter or `_`, then letters, digits, `_`, `.`, `:` or `-`. */
export const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$/

const EMPTY: Readonly<Record<string, unknown>> = Object.freeze({})

export class ClaimMapping {
  readonly #paths: readonly (readonly [string, readonly string[]])[]
  readonly #issuer: string
  readonly #logger: Logger

  /** `mapping` was checked at load (issuer-schema.ts), so every path parses. */
  constructor(mapping: Readonly<Record<string, string | readonly string[]>>, issuer: string, logger: Logger) {
    this.#paths = Object.entries(mapping).map(([name, path]) => {
      const segments = parseClaimPath(path)
      if ('error' in segments) throw new TypeError(`claim_mapping.${name}: ${segments.error}`)
      return [name, segments] as const
    })
    this.#issuer = issuer
    this.#logger = logger
  }

  attributes(claims: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
    if (this.#paths.length === 0) return EMPTY
    const out: Record<string, unknown> = {}
    for (const [name, path] of this.#paths) {
      const value = claimAt(claims, path)
      if (value === undefined) continue
      const kept = keepable(value)
      if (typeof kept === 'string') {
        this.#logger.debug(
          { issuer: this.#issuer, attribute: name, reason: kept },
          'openid-connect left a mapped claim out',
        )
        continue
      }
      out[name] = kept.value
    }
    return Object.freeze(out)
  }
}

/** A deep-frozen copy of a JSON value, or why it is left out. */
function keepable(value: unknown): { value: unknown } | string {
  if (value === null) return 'null'
  let text: string | undefined
  try {
    text = JSON.stringify(value)
  } catch {
    return 'not_json'
  }
  if (text === undefined) return 'not_json'
  if (Buffer.byteLength(text) > MAX_ATTRIBUTE_BYTES) return 'too_large'
  return { value: deepFreeze(JSON.parse(text)) }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
