/**
 * Recovery codes: ten per user, shown once after enrolment, single use. Each is 10 characters from a
 * 31-character alphabet without look-alikes (0/o, 1/l/i): about 49 random bits, shown as `abcde-fghjk`.
 *
 * Stored as HMAC-SHA256 under a key derived from identity.secret, not argon2id: the codes are random,
 * not chosen by people, so a slow hash would only slow down a search that is already out of reach (and
 * without the key a stolen hash cannot be tested at all); and a keyed hash can be looked up by
 * equality, so a code is spent by one conditional UPDATE (single use, atomic across nodes) instead of
 * ten argon2 checks per attempt, which would also hand anyone who knows a password a way to burn CPU.
 */
import { createHmac, randomInt } from 'node:crypto'

export const RECOVERY_CODE_COUNT = 10
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'
const LENGTH = 10

export function newRecoveryCodes(): string[] {
  return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    let code = ''
    for (let i = 0; i < LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)]
    return `${code.slice(0, 5)}-${code.slice(5)}`
  })
}

/** The code as typed, without case, spaces or dashes; null when it cannot be a recovery code. */
export function normalizeRecoveryCode(typed: string): string | null {
  const code = typed.toLowerCase().replace(/[\s-]/g, '')
  return code.length === LENGTH && [...code].every((ch) => ALPHABET.includes(ch)) ? code : null
}

export function hashRecoveryCode(key: Buffer, code: string): string {
  const normalized = normalizeRecoveryCode(code) ?? code
  return `hmac-sha256$${createHmac('sha256', key).update(normalized).digest('base64url')}`
}
