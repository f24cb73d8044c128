/**
 * A short label of a passkey credential for administrators and logs. Its own module, away from
 * passkey.ts, so the admin API can show passkeys without loading the WebAuthn library (~250 modules).
 */
import { createHash } from 'node:crypto'

/** A hash prefix of the credential id, never the id itself. */
export function credentialFingerprint(credentialId: string): string {
  return createHash('sha256').update(credentialId).digest('hex').slice(0, 12)
}
