/**
 * `createVerifier`: the one way the SDK trusts a token. Order: shape checks jose does not make (length,
 * segments, duplicate members) → jose `jwtVerify` with the gateway's keys and every option jose needs to
 * check anything at all (RFC 8725 §3.1, 3.8, 3.9, 3.11: algorithms, issuer, audience, typ, required
 * claims, maxTokenAge, which also refuses an `iat` in the future, and the clock leeway) → the claims
 * contract (claims.ts). Every failure is a VerificationError (refusal.ts).
 */
import { type JWTVerifyOptions, jwtVerify } from 'jose'
import { checkContract, deepFreeze, INTERNAL_TOKEN_TYPE, REQUIRED_CLAIMS } from './claims.ts'
import { Identity } from './identity.ts'
import { createKeySource } from './keys.ts'
import { resolveOptions, type VerifierOptions } from './options.ts'
import { toVerificationError } from './refusal.ts'
import { checkTokenShape } from './token-shape.ts'

/** Verifies Gatehouse internal tokens for one service. Create one per process and share it. */
export interface Verifier {
  /**
   * Verifies `token` (the bare compact JWS, without `Bearer `) and returns the caller's identity.
   * Rejects with a {@link VerificationError} only: 401-class codes for a bad token, GH_SDK_KEYS_UNAVAILABLE
   * (503) when the gateway's keys cannot be fetched.
   */
  verify(token: string): Promise<Identity>
  /**
   * Fetches the gateway's JWKS now (start-up), so the first request does not wait for it and a wrong
   * `jwksUrl` shows at once. Optional: `verify` fetches the keys when it needs them. Rejects with
   * GH_SDK_KEYS_UNAVAILABLE.
   */
  ready(): Promise<void>
  /**
   * Fetches the gateway's JWKS now, whatever the cache and the cooldown say, and from then on trusts
   * exactly the keys it lists: a key the gateway withdrew (`gatehouse keys revoke`) is dropped at once.
   * Call it when told a key was withdrawn (a webhook, an admin signal); without a call the verifier drops
   * it by itself at its next refresh (the JWKS answer's Cache-Control max-age, 60 s at the gateway, or
   * `cacheMaxAge` if shorter). Rejects with GH_SDK_KEYS_UNAVAILABLE; the keys held are then kept. With
   * `jwks` (local keys) it does nothing.
   *
   * @example
   * ```ts
   * app.post('/hooks/gatehouse-key-withdrawn', async (req, res) => {
   *   await verifier.reloadKeys()
   *   res.end()
   * })
   * ```
   */
  reloadKeys(): Promise<void>
  /**
   * Stops trusting the key `kid` at once, for the life of this verifier, even while some cached copy of
   * the JWKS still lists it (tokens naming it get GH_SDK_KEY_UNKNOWN); then fetches the JWKS again as
   * {@link Verifier.reloadKeys} does, and rejects as it does (the kid stays forgotten either way).
   */
  forgetKey(kid: string): Promise<void>
  /** The issuer tokens must come from. */
  readonly issuer: string
  /** The names this service answers to in `aud`. */
  readonly audience: readonly string[]
}

/**
 * Creates a verifier for Gatehouse internal tokens. Throws a TypeError naming the option when an option
 * is wrong.
 *
 * @example
 * import { createVerifier } from 'gatehouse-sdk'
 *
 * const verifier = createVerifier({
 *   issuer: 'https://gatehouse.internal',
 *   audience: 'orders',
 *   jwksUrl: 'https://gatehouse.internal/.well-known/gatehouse/jwks.json',
 * })
 * await verifier.ready()
 * const identity = await verifier.verify(token)
 */
export function createVerifier(options: VerifierOptions): Verifier {
  const o = resolveOptions(options)
  const keys = createKeySource(o)
  const verifyOptions: JWTVerifyOptions = Object.freeze({
    algorithms: [...o.algorithms],
    issuer: o.issuer,
    audience: [...o.audience],
    typ: INTERNAL_TOKEN_TYPE,
    clockTolerance: o.leeway,
    maxTokenAge: o.maxTokenAge,
    requiredClaims: [...REQUIRED_CLAIMS],
  })

  async function verify(token: string): Promise<Identity> {
    try {
      const compact = checkTokenShape(token, o.maxTokenLength)
      const { payload } = await jwtVerify(compact, keys.getKey, verifyOptions)
      return new Identity(checkContract(deepFreeze(payload)), compact)
    } catch (err) {
      throw toVerificationError(err)
    }
  }

  async function ready(): Promise<void> {
    try {
      await keys.ready()
    } catch (err) {
      throw toVerificationError(err)
    }
  }

  async function reloadKeys(): Promise<void> {
    try {
      await keys.reload()
    } catch (err) {
      throw toVerificationError(err)
    }
  }

  async function forgetKey(kid: string): Promise<void> {
    if (typeof kid !== 'string' || kid === '')
      throw new TypeError('gatehouse-sdk: forgetKey needs the kid, a non-empty string')
    try {
      await keys.forget(kid)
    } catch (err) {
      throw toVerificationError(err)
    }
  }

  return Object.freeze({
    verify,
    ready,
    reloadKeys,
    forgetKey,
    issuer: o.issuer,
    audience: o.audience,
  })
}
