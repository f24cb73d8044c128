/**
 * The private JWKs handed to oidc-provider, in the order it needs: oidc-provider signs with the first
 * key of an algorithm it finds, so active keys come first and next and retired keys (published in the
 * JWKS for verifiers, never signing) after them. The JWKS endpoint serves only their public members.
 */
import type { JWK } from 'jose'
import type { IdentityConfig } from '../../config/normalize-identity.ts'
import type { StoredSigningKey } from '../../storage/store.ts'
import { keyEncryptionKey } from '../secrets.ts'
import { openJwk } from './sealed-jwk.ts'

const ORDER: Record<StoredSigningKey['state'], number> = { active: 0, next: 1, retired: 2 }

export function signingJwks(keys: readonly StoredSigningKey[], identity: IdentityConfig): JWK[] {
  const kek = keyEncryptionKey(identity.secret!)
  const algRank = (alg: string) => {
    const i = identity.keys.algorithms.indexOf(alg as never)
    return i === -1 ? identity.keys.algorithms.length : i
  }
  return [...keys]
    .sort(
      (a, b) =>
        ORDER[a.state] - ORDER[b.state] ||
        algRank(a.alg) - algRank(b.alg) ||
        b.activate_at - a.activate_at ||
        (a.kid < b.kid ? -1 : 1),
    )
    .map((k) => ({ ...openJwk(kek, k.kid, k.encrypted_jwk), kid: k.kid, alg: k.alg, use: 'sig' }))
}
