/**
 * The keys a jwt_secrets credential verifies with: checked when the configuration loads (a public key
 * must parse and fit its algorithm) and imported once per configuration as WebCrypto keys, which jose
 * uses as they are. Messages never contain key material.
 */
import {
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type KeyObject,
  type webcrypto,
} from 'node:crypto'
import type { JwtAlgorithm } from './schema.ts'

/** RFC 7518 §3.2 asks for a key as long as the hash (32 bytes for HS256); RFC 8725 §3.5 for enough entropy. */
export const MIN_HMAC_SECRET_BYTES = 32

/** WebCrypto parameters for each algorithm, as jose checks them (`lib/jws_algorithms.js`). */
const IMPORT_PARAMS: Record<
  JwtAlgorithm,
  | webcrypto.RsaHashedImportParams
  | webcrypto.EcKeyImportParams
  | webcrypto.HmacImportParams
  | webcrypto.Algorithm
> = {
  HS256: { name: 'HMAC', hash: 'SHA-256' },
  HS384: { name: 'HMAC', hash: 'SHA-384' },
  HS512: { name: 'HMAC', hash: 'SHA-512' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  RS384: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' },
  RS512: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  PS384: { name: 'RSA-PSS', hash: 'SHA-384' },
  PS512: { name: 'RSA-PSS', hash: 'SHA-512' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  ES384: { name: 'ECDSA', namedCurve: 'P-384' },
  ES512: { name: 'ECDSA', namedCurve: 'P-521' },
  EdDSA: { name: 'Ed25519' },
}

/** Node's names of the curves ES256/384/512 use. */
const CURVES: Partial<Record<JwtAlgorithm, [node: string, jose: string]>> = {
  ES256: ['prime256v1', 'P-256'],
  ES384: ['secp384r1', 'P-384'],
  ES512: ['secp521r1', 'P-521'],
}

export function isHmac(algorithm: JwtAlgorithm): boolean {
  return algorithm.startsWith('HS')
}

/**
 * Why a PEM text cannot verify `algorithm`, or null when it can. Stricter than Kong, which accepts a
 * private key (it derives the public one) and any key size.
 */
export function publicKeyProblem(pem: string, algorithm: JwtAlgorithm): string | null {
  if (isPrivateKey(pem))
    return 'is a private key; give only the public key (-----BEGIN PUBLIC KEY-----), never the private one'
  let key: KeyObject
  try {
    key = createPublicKey(pem)
  } catch {
    return 'is not a PEM public key that can be parsed'
  }
  const type = key.asymmetricKeyType
  if (algorithm.startsWith('RS') || algorithm.startsWith('PS')) {
    if (type !== 'rsa') return `is ${article(type)} key; ${algorithm} needs an RSA key (rsaEncryption)`
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0
    if (bits < 2048) return `is a ${bits}-bit RSA key; ${algorithm} needs at least 2048 bits (RFC 7518 §3.3)`
    return null
  }
  const curve = CURVES[algorithm]
  if (curve) {
    if (type !== 'ec') return `is ${article(type)} key; ${algorithm} needs an EC key on ${curve[1]}`
    const named = key.asymmetricKeyDetails?.namedCurve
    return named === curve[0] ? null : `is an EC key on another curve; ${algorithm} needs ${curve[1]}`
  }
  if (type === 'ed25519') return null
  if (type === 'ed448')
    return 'is an Ed448 key; EdDSA tokens are verified with jose, which supports Ed25519 only: use an Ed25519 key'
  return `is ${article(type)} key; EdDSA needs an Ed25519 key`
}

function isPrivateKey(pem: string): boolean {
  try {
    createPrivateKey(pem)
    return true
  } catch {
    return false
  }
}

/** Key types as read aloud, with their article ("an RSA", "a DSA"). */
const KEY_TYPES: Record<string, string> = {
  rsa: 'an RSA',
  'rsa-pss': 'an RSA-PSS (id-RSASSA-PSS)',
  dsa: 'a DSA',
  dh: 'a DH',
  ec: 'an EC',
  ed25519: 'an Ed25519',
  ed448: 'an Ed448',
  x25519: 'an X25519',
  x448: 'an X448',
}

function article(type: string | undefined): string {
  return (type !== undefined && KEY_TYPES[type]) || `an unsupported (${type ?? 'unknown'})`
}

/** The WebCrypto key for an asymmetric credential (checked at load, so this only fails on a bug). */
export function importPublicKey(pem: string, algorithm: JwtAlgorithm): webcrypto.CryptoKey {
  return createPublicKey(pem).toCryptoKey(IMPORT_PARAMS[algorithm], false, ['verify'])
}

/** The WebCrypto HMAC key for `secret` bytes; null when there are too few to be a safe key. */
export function importHmacKey(secret: Uint8Array, algorithm: JwtAlgorithm): webcrypto.CryptoKey | null {
  if (secret.length < MIN_HMAC_SECRET_BYTES) return null
  return createSecretKey(secret).toCryptoKey(IMPORT_PARAMS[algorithm], false, ['verify'])
}

const BASE64_ANY = /^[A-Za-z0-9+/_-]*={0,2}$/

/**
 * Kong's `secret_is_base64` decoding: base64 or base64url, padding optional (jwt_parser.lua
 * base64_decode). Null when the text is neither.
 */
export function decodeBase64Secret(text: string): Uint8Array | null {
  if (!BASE64_ANY.test(text) || text.replace(/=+$/, '').length % 4 === 1) return null
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
}
