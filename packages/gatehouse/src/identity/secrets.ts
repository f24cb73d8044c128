/**
 * Every key the identity provider needs, derived from the one root secret (`identity.secret`) with HKDF
 * (RFC 5869), each under its own label, so no two purposes ever share key material and every node
 * derives the same keys. The client-secret key lives with the config (normalize-identity.ts), which
 * hashes client secrets at load.
 */
import { hkdfSync } from 'node:crypto'

export { clientSecretKey } from '../config/normalize-identity.ts'

function derive(secret: string, info: string, bytes = 32): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'gatehouse', info, bytes))
}

/** AES-256-GCM key that encrypts private signing keys at rest. */
export function keyEncryptionKey(secret: string): Buffer {
  return derive(secret, 'signing keys')
}

/** Keygrip key that signs oidc-provider's cookies. */
export function cookieKey(secret: string): string {
  return derive(secret, 'cookies').toString('base64url')
}

/** HMAC key of the CSRF tokens on the interaction forms. */
export function csrfKey(secret: string): Buffer {
  return derive(secret, 'interaction csrf')
}

/** AES-256-GCM key that seals second-factor secrets (TOTP seeds) at rest. */
export function factorSealKey(secret: string): Buffer {
  return derive(secret, 'second factors')
}

/** HMAC key of the recovery-code hashes. */
export function recoveryCodeKey(secret: string): Buffer {
  return derive(secret, 'recovery codes')
}
