/**
 * Private signing keys at rest: AES-256-GCM under a key derived from identity.secret, the kid bound in
 * as additional data (a sealed key copied onto another kid's row fails to open). The format is
 * `v1.<iv>.<ciphertext>.<tag>`, base64url, so a future scheme can sit beside it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import type { JWK } from 'jose'
import { StoreError } from '../../storage/store.ts'

const VERSION = 'v1'

/** A StoreError, so the CLI reports it as one line: the store's keys cannot be read with this secret. */
export class KeyDecryptionError extends StoreError {
  override name = 'KeyDecryptionError'
  readonly kid: string
  constructor(kid: string) {
    super(
      `signing key ${kid} cannot be decrypted with identity.secret; restore the secret it was stored under (the keys cannot be recovered without it)`,
    )
    this.kid = kid
  }
}

export function sealJwk(key: Buffer, kid: string, jwk: JWK): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(kid))
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final()])
  const tag = cipher.getAuthTag()
  return [VERSION, iv, ciphertext, tag]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.')
}

export function openJwk(key: Buffer, kid: string, sealed: string): JWK {
  const [version, iv, ciphertext, tag] = sealed.split('.')
  if (version !== VERSION || iv === undefined || ciphertext === undefined || tag === undefined)
    throw new KeyDecryptionError(kid)
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
    decipher.setAAD(Buffer.from(kid))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    const plain = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()])
    return JSON.parse(plain.toString('utf8')) as JWK
  } catch {
    throw new KeyDecryptionError(kid)
  }
}
