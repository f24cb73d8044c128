/**
 * Second-factor secrets at rest: AES-256-GCM under a key derived from identity.secret
 * (secrets.ts factorSealKey), as the signing keys are sealed (keys/sealed-jwk.ts), with what the secret
 * belongs to (a factor's id, or the sign-in an enrolment is pending in) bound in as additional data, so
 * a sealed secret copied onto another row does not open. Format `v1.<iv>.<ciphertext>.<tag>`, base64url.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

const VERSION = 'v1'

/** The secret does not open with this key and binding: another identity.secret, or a moved row. */
export class FactorSecretError extends Error {
  override name = 'FactorSecretError'
}

export function sealSecret(key: Buffer, binding: string, plain: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(binding))
  const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
  return [VERSION, iv, ciphertext, cipher.getAuthTag()]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.')
}

export function openSecret(key: Buffer, binding: string, sealed: string): string {
  const [version, iv, ciphertext, tag] = sealed.split('.')
  if (version !== VERSION || iv === undefined || ciphertext === undefined || tag === undefined)
    throw new FactorSecretError('unknown sealed-secret format')
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
    decipher.setAAD(Buffer.from(binding))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
      'utf8',
    )
  } catch {
    throw new FactorSecretError('the sealed secret does not open with identity.secret')
  }
}
