/**
 * Shared by the jwt plugin's tests (not part of the plugin): key pairs for every algorithm, generated
 * when a test file loads, and helpers that sign tokens with jose or write them byte by byte for the
 * hostile cases jose refuses to produce.
 */
import { createHmac, generateKeyPairSync, type KeyObject, sign as nodeSign, randomBytes } from 'node:crypto'
import { type JWTHeaderParameters, type JWTPayload, SignJWT } from 'jose'
import type { JwtAlgorithm } from './schema.ts'

export const ALGORITHMS: readonly JwtAlgorithm[] = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
]

export interface KeyPair {
  readonly publicPem: string
  readonly privateKey: KeyObject
  readonly publicKey: KeyObject
}

function pair(kp: { publicKey: KeyObject; privateKey: KeyObject }): KeyPair {
  return {
    publicPem: kp.publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privateKey: kp.privateKey,
    publicKey: kp.publicKey,
  }
}

export const RSA = pair(generateKeyPairSync('rsa', { modulusLength: 2048 }))
export const P256 = pair(generateKeyPairSync('ec', { namedCurve: 'P-256' }))
export const P384 = pair(generateKeyPairSync('ec', { namedCurve: 'P-384' }))
export const P521 = pair(generateKeyPairSync('ec', { namedCurve: 'P-521' }))
export const ED25519 = pair(generateKeyPairSync('ed25519'))

/** The key pair a credential of `alg` holds the public half of. */
export function keyPairFor(alg: JwtAlgorithm): KeyPair {
  if (alg.startsWith('RS') || alg.startsWith('PS')) return RSA
  if (alg === 'ES256') return P256
  if (alg === 'ES384') return P384
  if (alg === 'ES512') return P521
  return ED25519
}

/** A random HMAC secret of 48 letters and digits (above the 32-byte minimum). */
export function randomSecret(): string {
  return randomBytes(36).toString('base64url').replace(/[-_]/g, 'x')
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/** Signs `claims` with jose: HS* with the secret's UTF-8 bytes, the others with the private key. */
export function signToken(
  alg: JwtAlgorithm,
  key: string | Uint8Array | KeyObject,
  claims: JWTPayload,
  header: Partial<JWTHeaderParameters> = {},
): Promise<string> {
  const k = typeof key === 'string' ? new TextEncoder().encode(key) : key
  return new SignJWT(claims).setProtectedHeader({ ...header, alg }).sign(k)
}

export function b64url(value: string | Uint8Array | object): string {
  if (typeof value === 'string') return Buffer.from(value, 'utf8').toString('base64url')
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64url')
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

/**
 * A token from raw segments: header and payload as JSON text (or bytes) so duplicate members and
 * non-objects can be written, signed with HMAC-SHA256 over exactly those bytes.
 */
export function hs256Raw(
  headerJson: string | Uint8Array,
  payloadJson: string | Uint8Array,
  secret: string | Buffer,
) {
  const input = `${b64url(headerJson)}.${b64url(payloadJson)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** An ES256 signature over `input` in DER (what node:crypto makes by default) instead of JOSE's r‖s. */
export function es256DerSignature(input: string, key: KeyObject): string {
  return nodeSign('sha256', Buffer.from(input), key).toString('base64url')
}
