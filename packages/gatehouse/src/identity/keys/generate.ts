/**
 * A new signing key pair with jose: the private JWK (extractable only so it can be sealed and stored),
 * `kid` = its RFC 7638 thumbprint, `alg` and `use: sig` set so each key serves exactly one algorithm
 * (RFC 8725 §3.1).
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose'

export type SigningAlgorithm = 'ES256' | 'RS256' | 'PS256' | 'EdDSA'

export interface GeneratedKey {
  readonly kid: string
  readonly jwk: JWK
}

export async function generateSigningKey(alg: SigningAlgorithm): Promise<GeneratedKey> {
  // RSA: 2048-bit modulus; EdDSA: Ed25519 (jose's defaults).
  const { privateKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = await exportJWK(privateKey)
  const kid = await calculateJwkThumbprint(jwk, 'sha256')
  return { kid, jwk: { ...jwk, kid, alg, use: 'sig' } }
}

/** The public members of a JWK (what a JWKS may show). */
export function publicJwk(jwk: JWK): JWK {
  const {
    d: _d,
    p: _p,
    q: _q,
    dp: _dp,
    dq: _dq,
    qi: _qi,
    oth: _oth,
    k: _k,
    priv: _priv,
    ...pub
  } = jwk as JWK & { priv?: string }
  return pub
}
