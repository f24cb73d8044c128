/**
 * The HTTP answer for a Failure (failures.ts), RFC 6750 §3 and RFC 9449 §7.1: the status, a body that
 * starts with `{error, error_description}` (the gateway's members follow: errors/respond.ts), and WWW-Authenticate challenges for every scheme the route accepts —
 * `Bearer realm="…"` and `DPoP algs="…"` (only DPoP when the route requires it). The error goes on the
 * scheme the client used; with no credentials both challenges are bare (RFC 6750 §3.1). Terse by default:
 * every token or proof failure shares one description, so a client probing with forged tokens learns
 * nothing about which check failed; `verbose_errors` sends the precise description and the stable
 * `reason`. The access log always has the reason. Answers are built once per failure and scheme.
 */
import { challenge } from '../../pipeline/authenticate.ts'
import type { HeaderMap } from '../../pipeline/request-state.ts'
import { challengeParams, type Requirement, type Unmet } from '../_shared/step-up.ts'
import type { Failure } from './failures.ts'

export interface Refusal {
  readonly status: 401 | 403
  /** RFC 6750's members; the gateway's error body starts with them (errors/respond.ts). */
  readonly body: Readonly<Record<string, string>>
  readonly headers: HeaderMap
  readonly code: Failure['code']
  /** Stable reason for the access log (`error_detail`) and debug logs. */
  readonly reason: string
}

export type Scheme = 'bearer' | 'dpop'

export interface AnswerOptions {
  readonly realm: string
  readonly requiredScopes: readonly string[]
  readonly verbose: boolean
  readonly dpopAlgorithms: readonly string[]
  readonly dpopRequired: boolean
  /** The route's `require` (step-up, RFC 9470), for `acr_values` and `max_age` in its challenge. */
  readonly require: Requirement | null
}

export const TERSE_TOKEN = 'The access token is invalid'
export const TERSE_PROOF = 'The DPoP proof is invalid'

export class Answers {
  readonly #o: AnswerOptions
  readonly #dpop: string
  readonly #bearer: string
  readonly #built = new Map<Failure, { bearer?: Refusal; dpop?: Refusal }>()

  constructor(options: AnswerOptions) {
    this.#o = options
    this.#dpop = `DPoP algs="${options.dpopAlgorithms.join(' ')}"`
    this.#bearer = challenge('Bearer', options.realm)
  }

  refusal(failure: Failure, scheme: Scheme): Refusal {
    let built = this.#built.get(failure)
    if (built === undefined) {
      built = {}
      this.#built.set(failure, built)
    }
    built[scheme] ??= this.#build(failure, scheme)
    return built[scheme]
  }

  #build(failure: Failure, scheme: Scheme): Refusal {
    const { verbose, requiredScopes, dpopRequired } = this.#o
    const description = verbose || failure.kept ? failure.description : terse(failure)
    const body: Record<string, string> = {
      error: failure.error ?? 'unauthorized',
      error_description: description,
    }
    if (verbose) body.reason = failure.reason
    let params = ''
    if (failure.error === 'insufficient_user_authentication' && this.#o.require !== null)
      params = `, ${challengeParams(this.#o.require, failure.reason.slice('oidc_step_up_'.length) as Unmet)}`
    else if (failure.error !== null) {
      params = `, error="${failure.error}", error_description="${description}"`
      if (failure.error === 'insufficient_scope') params += `, scope="${requiredScopes.join(' ')}"`
    }
    // The error is about the scheme the client used; a route that requires DPoP offers only DPoP.
    const challenges = dpopRequired
      ? [this.#dpop + params]
      : scheme === 'dpop'
        ? [this.#dpop + params, this.#bearer]
        : [this.#bearer + params, this.#dpop]
    return Object.freeze({
      status: failure.status,
      body: Object.freeze(body),
      headers: Object.freeze({ 'www-authenticate': challenges.join(', ') }),
      code: failure.code,
      reason: failure.reason,
    })
  }
}

function terse(failure: Failure): string {
  return failure.error === 'invalid_dpop_proof' ? TERSE_PROOF : TERSE_TOKEN
}
