/**
 * The DPoP proof of a request to a resource server (RFC 9449 §4.3 and §7.1), checked on every request
 * (never cached): exactly one `DPoP` header, at most 8 KiB, a compact JWS naming no member twice →
 * `typ: dpop+jwt`, an alg from the route's allow-list, a public `jwk` in the header (no private members)
 * → jose `jwtVerify` with `EmbeddedJWK`, pinned algorithms and typ, `iat` within `max_age` ± `leeway`,
 * and `jti`, `htm`, `htu`, `ath` required → `htm` is the method, `htu` the URI the client used
 * (request-uri.ts), `ath` the SHA-256 of the access token → the jwk's RFC 7638 thumbprint is the token's
 * `cnf.jkt` → the `jti` was not used before with this key (replay-cache.ts; checked last, so a proof
 * refused for anything else does not use its jti up). Never throws: every failure is a Failure.
 */
import { createHash } from 'node:crypto'
import { calculateJwkThumbprint, decodeProtectedHeader, EmbeddedJWK, errors, type JWK, jwtVerify } from 'jose'
import type { RequestState } from '../../pipeline/request-state.ts'
import { hasDuplicateTopLevelMember } from '../_shared/json-duplicates.ts'
import { type Failure, failures as f } from './failures.ts'
import { normalizeType } from './issuer.ts'
import type { ReplayCache } from './replay-cache.ts'
import { htuMatches } from './request-uri.ts'

/** Longest proof read, in characters. */
export const MAX_PROOF_LENGTH = 8192

/** Longest `jti` accepted, in characters (it is kept in the replay cache). */
export const MAX_JTI_LENGTH = 256

/** Three base64url segments; the signature may be empty so `alg: none` is refused as such. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/

/** JWK members that hold private or secret key material (RFC 7518 §6.2.2, §6.3.2, §6.4; AKP `priv`). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'] as const

const REQUIRED_CLAIMS = ['iat', 'jti', 'htm', 'htu', 'ath']

export interface DpopOptions {
  readonly algorithms: readonly string[]
  /** Seconds. */
  readonly maxAge: number
  /** Seconds. */
  readonly leeway: number
  readonly replay: ReplayCache
}

export class DpopProofs {
  readonly #o: DpopOptions
  readonly #algorithms: ReadonlySet<string>
  readonly #verifyOptions

  constructor(options: DpopOptions) {
    this.#o = options
    this.#algorithms = new Set(options.algorithms)
    this.#verifyOptions = Object.freeze({
      algorithms: [...options.algorithms],
      typ: 'dpop+jwt',
      maxTokenAge: options.maxAge,
      clockTolerance: options.leeway,
      requiredClaims: REQUIRED_CLAIMS,
    })
  }

  /** null when the request's proof is good for `accessToken`, bound to the key whose thumbprint is `jkt`. */
  check(state: RequestState, accessToken: string, jkt: string): Failure | Promise<Failure | null> {
    const proofs = state.req.headersDistinct.dpop
    if (proofs === undefined || proofs.length === 0) return f.dpopMissing
    if (proofs.length > 1) return f.dpopMultiple
    const proof = proofs[0]!
    if (proof.length > MAX_PROOF_LENGTH) return f.dpopTooLong
    if (!COMPACT_JWS.test(proof)) return f.dpopMalformed
    let header: Record<string, unknown>
    try {
      header = decodeProtectedHeader(proof) as Record<string, unknown>
    } catch {
      return f.dpopMalformed
    }
    const [head, body] = proof.split('.') as [string, string]
    if (duplicates(head) || duplicates(body)) return f.dpopMalformed
    const { typ, alg, jwk } = header
    if (typeof typ !== 'string' || normalizeType(typ) !== 'application/dpop+jwt') return f.dpopType
    if (typeof alg !== 'string' || !this.#algorithms.has(alg)) return f.dpopAlgorithm
    if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return f.dpopJwk
    if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(jwk, m))) return f.dpopPrivateKey
    return this.#verify(state, proof, jwk as JWK, accessToken, jkt)
  }

  async #verify(
    state: RequestState,
    proof: string,
    jwk: JWK,
    accessToken: string,
    jkt: string,
  ): Promise<Failure | null> {
    let claims: Record<string, unknown>
    try {
      claims = (await jwtVerify(proof, EmbeddedJWK, this.#verifyOptions)).payload
    } catch (err) {
      return refused(err)
    }
    const { jti, htm, htu, ath, iat } = claims
    if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) return f.dpopJti
    if (htm !== state.method) return f.dpopHtm
    if (typeof htu !== 'string' || !htuMatches(htu, state)) return f.dpopHtu
    if (ath !== createHash('sha256').update(accessToken).digest('base64url')) return f.dpopAth
    let thumbprint: string
    try {
      thumbprint = await calculateJwkThumbprint(jwk, 'sha256')
    } catch {
      return f.dpopJwk
    }
    if (thumbprint !== jkt) return f.dpopJktMismatch
    if (state.dryRun !== null) {
      // Checking the jti would use the proof up: the client's real request with it would be a replay.
      state.dryRun.note(
        'dpop',
        'the proof is good; whether its jti was used before is not checked (nor recorded) in a dry run',
      )
      return null
    }
    // Remembered until the iat check would refuse the proof anyway.
    const until = ((iat as number) + this.#o.maxAge + this.#o.leeway + 1) * 1000
    try {
      return (await this.#o.replay.firstUse(`${jkt}:${jti}`, until)) ? null : f.dpopReplay
    } catch {
      // A shared cache that cannot be reached, and is not fault tolerant: fail closed (logged there).
      return f.dpopReplayUnavailable
    }
  }
}

/** Whether a segment is JSON naming a member twice (one that is not JSON is left for jose to refuse). */
function duplicates(segment: string): boolean {
  const text = Buffer.from(segment, 'base64url').toString('utf8')
  try {
    JSON.parse(text)
  } catch {
    return false
  }
  return hasDuplicateTopLevelMember(text)
}

function refused(err: unknown): Failure {
  if (!(err instanceof errors.JOSEError)) return f.dpopJwk // a jwk WebCrypto cannot import
  switch (err.code) {
    case 'ERR_JWT_EXPIRED':
      return f.dpopIat
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      switch ((err as errors.JWTClaimValidationFailed).claim) {
        case 'iat':
        case 'nbf':
          return f.dpopIat
        case 'typ':
          return f.dpopType
        case 'jti':
          return f.dpopJti
        case 'htm':
          return f.dpopHtm
        case 'htu':
          return f.dpopHtu
        case 'ath':
          return f.dpopAth
        default:
          return f.dpopMalformed
      }
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return f.dpopSignature
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return f.dpopAlgorithm
    case 'ERR_JOSE_NOT_SUPPORTED':
      return f.dpopJwk
    case 'ERR_JWS_INVALID':
      return /jwk/i.test(err.message) ? f.dpopJwk : f.dpopMalformed
    default:
      return f.dpopMalformed
  }
}
