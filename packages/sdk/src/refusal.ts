/**
 * Every failure of a verification, whatever threw it (jose, the key source, a bug), as a VerificationError:
 * jose's codes are mapped one by one (the `never` check fails the build when jose adds one), and anything
 * else is GH_SDK_TOKEN_UNVERIFIABLE, so a hostile token can only ever produce a typed 401 (or a 503 when
 * the gateway's keys cannot be had), never an uncaught TypeError.
 */
import { errors } from 'jose'
import { VerificationError } from './errors.ts'
import { KeysUnavailable } from './fetch-jwks.ts'
import { KeyUnusable, KidMissing } from './keys.ts'

type KnownJoseError = errors.AnyJOSEError | (errors.JOSEError & { code: 'ERR_JOSE_GENERIC' })

export function toVerificationError(err: unknown): VerificationError {
  if (err instanceof VerificationError) return err
  if (err instanceof KeysUnavailable)
    return new VerificationError('GH_SDK_KEYS_UNAVAILABLE', { retryAfter: err.retryAfter, cause: err })
  if (err instanceof KeyUnusable) return new VerificationError('GH_SDK_KEYS_UNAVAILABLE', { cause: err })
  if (err instanceof KidMissing) return new VerificationError('GH_SDK_KEY_UNKNOWN', { claim: 'kid' })
  if (!(err instanceof errors.JOSEError))
    return new VerificationError('GH_SDK_TOKEN_UNVERIFIABLE', { cause: err })
  const e = err as KnownJoseError
  const cause = { cause: err }
  switch (e.code) {
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new VerificationError('GH_SDK_ALG_NOT_ALLOWED', cause)
    // Unrecognised `crit` extensions, `b64: false`, JWE-shaped input, bad base64url or JSON.
    case 'ERR_JOSE_NOT_SUPPORTED':
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
    case 'ERR_JWE_INVALID':
    case 'ERR_JWE_DECRYPTION_FAILED':
      return new VerificationError('GH_SDK_TOKEN_MALFORMED', cause)
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new VerificationError('GH_SDK_SIGNATURE_INVALID', cause)
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new VerificationError('GH_SDK_KEY_UNKNOWN', cause)
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
    case 'ERR_JWK_INVALID':
      return new VerificationError('GH_SDK_KEYS_UNAVAILABLE', cause)
    case 'ERR_JWT_EXPIRED':
      return new VerificationError(e.claim === 'iat' ? 'GH_SDK_TOO_OLD' : 'GH_SDK_EXPIRED', cause)
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return claimFailure(e)
    case 'ERR_JOSE_GENERIC':
      return new VerificationError('GH_SDK_TOKEN_UNVERIFIABLE', cause)
    default: {
      const unknown: never = e
      return new VerificationError('GH_SDK_TOKEN_UNVERIFIABLE', { cause: unknown })
    }
  }
}

function claimFailure(err: errors.JWTClaimValidationFailed): VerificationError {
  const cause = { cause: err, claim: err.claim }
  if (err.reason === 'check_failed') {
    switch (err.claim) {
      case 'typ':
        return new VerificationError('GH_SDK_TYPE_INVALID', cause)
      case 'iss':
        return new VerificationError('GH_SDK_ISSUER_INVALID', cause)
      case 'aud':
        return new VerificationError('GH_SDK_AUDIENCE_INVALID', cause)
      case 'nbf':
        return new VerificationError('GH_SDK_NOT_YET_VALID', cause)
      case 'iat':
        return new VerificationError('GH_SDK_ISSUED_IN_FUTURE', cause)
    }
  }
  return new VerificationError('GH_SDK_CLAIM_INVALID', cause)
}
