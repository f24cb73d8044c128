/**
 * The verifier's options: checked once, when the verifier is created, and frozen. A wrong option is a
 * TypeError naming it, so a misconfigured service fails at start-up rather than on its first request.
 * Only asymmetric algorithms are allowed (RFC 8725 §3.1–3.2): with a shared secret every service could
 * mint tokens as the gateway, and `none` means no signature at all.
 */
import type { JSONWebKeySet } from 'jose'

/** The asymmetric JWS algorithms a verifier can be told to accept. */
export type AsymmetricAlgorithm =
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'

const ASYMMETRIC: ReadonlySet<string> = new Set<AsymmetricAlgorithm>([
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
])

/** The algorithms the gateway signs internal tokens with. */
export const DEFAULT_ALGORITHMS: readonly AsymmetricAlgorithm[] = Object.freeze(['ES256', 'EdDSA'])

/** Options of {@link createVerifier}. Durations are in seconds. */
export interface VerifierOptions {
  /**
   * The gateway's issuer URL, exactly as the gateway writes it into `iss` (compared as a string: a
   * trailing slash matters).
   */
  readonly issuer: string
  /**
   * This service's name as the gateway puts it in `aud`, or several names; a token is accepted when its
   * `aud` array contains any of them.
   */
  readonly audience: string | readonly string[]
  /** The gateway's JWKS URL: `https:`, or `http:` on a loopback host only. Give this or `jwks`. */
  readonly jwksUrl?: string | URL | undefined
  /**
   * Accept an `http:` `jwksUrl` on any host (a private network you trust). Anyone on the path of a
   * plain-HTTP JWKS fetch can swap the keys and mint tokens your service accepts. Default false.
   */
  readonly allowInsecureHttp?: boolean | undefined
  /** A JWKS held locally (`{ keys: [...] }`, public keys only), for tests and offline use. */
  readonly jwks?: JSONWebKeySet | undefined
  /** JWS algorithms accepted; asymmetric ones only. Default `['ES256', 'EdDSA']`. */
  readonly algorithms?: readonly AsymmetricAlgorithm[] | undefined
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds. Default 5. */
  readonly leeway?: number | undefined
  /** Oldest token accepted, by its `iat`, in seconds (whatever its `exp` says). Default 300. */
  readonly maxTokenAge?: number | undefined
  /** Longest token accepted, in characters; longer ones are refused before decoding. Default 8192. */
  readonly maxTokenLength?: number | undefined
  /** Least time between two JWKS fetches caused by an unknown `kid`, in seconds. Default 30. */
  readonly cooldown?: number | undefined
  /** How long fetched keys are used before the JWKS is fetched again, in seconds. Default 600. */
  readonly cacheMaxAge?: number | undefined
  /** Time allowed for one JWKS fetch, in seconds. Default 5. */
  readonly timeout?: number | undefined
  /** The `fetch` used for the JWKS (a proxy-aware one, say). Default the global `fetch`. */
  readonly fetch?: typeof fetch | undefined
}

export interface ResolvedOptions {
  readonly issuer: string
  readonly audience: readonly string[]
  readonly jwksUrl: URL | null
  readonly jwks: JSONWebKeySet | null
  readonly algorithms: readonly AsymmetricAlgorithm[]
  readonly leeway: number
  readonly maxTokenAge: number
  readonly maxTokenLength: number
  /** Milliseconds, as jose takes them. */
  readonly cooldownMs: number
  readonly cacheMaxAgeMs: number
  readonly timeoutMs: number
  readonly fetch: typeof fetch | null
}

function fail(option: string, message: string): never {
  throw new TypeError(`gatehouse-sdk: "${option}" ${message}`)
}

function seconds(value: unknown, option: string, fallback: number, { positive = false } = {}): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0))
    fail(option, `must be a ${positive ? 'positive' : 'non-negative'} number of seconds`)
  return value
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  )
}

function resolveIssuer(issuer: unknown): string {
  if (typeof issuer !== 'string') fail('issuer', 'must be a URL string')
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    fail('issuer', 'must be an absolute URL')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') fail('issuer', 'must be an http(s) URL')
  return issuer
}

function resolveAudience(audience: unknown): readonly string[] {
  const list = typeof audience === 'string' ? [audience] : audience
  if (!Array.isArray(list) || list.length === 0 || list.some((a) => typeof a !== 'string' || a === ''))
    fail('audience', 'must be a non-empty string or a non-empty array of non-empty strings')
  return Object.freeze([...new Set(list as string[])])
}

function resolveAlgorithms(algorithms: unknown): readonly AsymmetricAlgorithm[] {
  if (algorithms === undefined) return DEFAULT_ALGORITHMS
  if (!Array.isArray(algorithms) || algorithms.length === 0)
    fail('algorithms', 'must be a non-empty array of asymmetric JWS algorithms')
  for (const alg of algorithms) {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none')
      fail('algorithms', 'must not contain "none": it means an unsigned token anyone can write')
    if (typeof alg === 'string' && /^HS\d+$/i.test(alg))
      fail(
        'algorithms',
        `must not contain ${alg}: it is symmetric, so whoever verifies could also mint tokens, and the gateway never publishes its secret`,
      )
    if (typeof alg !== 'string' || !ASYMMETRIC.has(alg))
      fail('algorithms', `contains an unsupported algorithm; use some of ${[...ASYMMETRIC].join(', ')}`)
  }
  return Object.freeze([...new Set(algorithms as AsymmetricAlgorithm[])])
}

function resolveJwksUrl(value: unknown, allowHttp: boolean): URL {
  let url: URL
  try {
    url = new URL(value instanceof URL ? value.href : (value as string))
  } catch {
    fail('jwksUrl', 'must be an absolute URL')
  }
  if (url.username !== '' || url.password !== '') fail('jwksUrl', 'must not contain credentials')
  if (url.protocol === 'https:') return url
  if (url.protocol === 'http:' && (allowHttp || isLoopback(url.hostname))) return url
  return fail(
    'jwksUrl',
    'must be an https: URL (http: is allowed on a loopback host, or anywhere with "allowInsecureHttp": true)',
  )
}

function resolveJwks(value: unknown): JSONWebKeySet {
  const keys = (value as { keys?: unknown } | null)?.keys
  if (typeof value !== 'object' || value === null || !Array.isArray(keys) || keys.length === 0)
    fail('jwks', 'must be a JWK set: { keys: [ ...public JWKs ] }')
  for (const key of keys) {
    if (typeof key !== 'object' || key === null || Array.isArray(key))
      fail('jwks', 'keys must be JWK objects')
    if ('d' in key || 'k' in key) fail('jwks', 'must hold public keys only (a key has "d" or "k")')
  }
  return structuredClone(value as JSONWebKeySet)
}

/** Checks `options` and fills in the defaults; throws a TypeError naming the first wrong option. */
export function resolveOptions(options: VerifierOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('gatehouse-sdk: createVerifier needs an options object')
  const hasUrl = options.jwksUrl !== undefined
  const hasJwks = options.jwks !== undefined
  if (hasUrl === hasJwks) fail(hasUrl ? 'jwks' : 'jwksUrl', 'give exactly one of "jwksUrl" and "jwks"')
  if (options.fetch !== undefined && typeof options.fetch !== 'function') fail('fetch', 'must be a function')
  const maxTokenLength = options.maxTokenLength ?? 8192
  if (!Number.isInteger(maxTokenLength) || maxTokenLength < 64)
    fail('maxTokenLength', 'must be an integer of at least 64 characters')
  return Object.freeze({
    issuer: resolveIssuer(options.issuer),
    audience: resolveAudience(options.audience),
    jwksUrl: hasUrl ? resolveJwksUrl(options.jwksUrl, options.allowInsecureHttp === true) : null,
    jwks: hasJwks ? resolveJwks(options.jwks) : null,
    algorithms: resolveAlgorithms(options.algorithms),
    leeway: seconds(options.leeway, 'leeway', 5),
    maxTokenAge: seconds(options.maxTokenAge, 'maxTokenAge', 300, { positive: true }),
    maxTokenLength,
    cooldownMs: Math.round(seconds(options.cooldown, 'cooldown', 30) * 1000),
    cacheMaxAgeMs: Math.round(seconds(options.cacheMaxAge, 'cacheMaxAge', 600) * 1000),
    timeoutMs: Math.round(seconds(options.timeout, 'timeout', 5, { positive: true }) * 1000),
    fetch: options.fetch ?? null,
  })
}
