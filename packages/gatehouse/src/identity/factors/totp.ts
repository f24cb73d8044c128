/**
 * One-time codes (RFC 6238) with otpauth: SHA-1, 6 digits, 30-second steps, which every authenticator
 * app supports (several ignore other settings in the otpauth URI and would show wrong codes); 160-bit
 * secrets (RFC 4226 §4 recommends this length). A code is accepted within ±1 step of the server's clock
 * (drift of a phone's clock and the time to type it), and only once: the caller records the step it
 * matched (store.factors.acceptStep), which refuses that step and every earlier one afterwards.
 */
import { Secret, TOTP } from 'otpauth'
import QRCode from 'qrcode'

export const TOTP_PERIOD = 30
export const TOTP_DIGITS = 6
/** Steps either side of now that a code may come from. */
export const TOTP_WINDOW = 1

/** A new secret, base32 (what the otpauth URI and the manual key carry). */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32
}

function totp(secret: string, issuer = '', label = ''): TOTP {
  return new TOTP({
    issuer,
    label,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD,
    secret: Secret.fromBase32(secret),
  })
}

/** `otpauth://totp/...` for the QR code and for apps that open the link. */
export function totpUri(secret: string, issuer: string, account: string): string {
  return totp(secret, issuer, account).toString()
}

/**
 * The time step `code` belongs to (within the window around `nowMs`), or null when it matches none.
 * Anything but exactly six digits is refused before any comparison.
 */
export function matchTotp(secret: string, code: string, nowMs: number): number | null {
  if (!/^[0-9]{6}$/.test(code)) return null
  const delta = totp(secret).validate({ token: code, timestamp: nowMs, window: TOTP_WINDOW })
  if (delta === null) return null
  return TOTP.counter({ period: TOTP_PERIOD, timestamp: nowMs }) + delta
}

/** The manual key in groups of four, easier to type. */
export function groupedKey(secret: string): string {
  return secret.replace(/(.{4})/g, '$1 ').trim()
}

/**
 * The QR code of `uri` as inline SVG markup: no image request, so the pages' CSP (`img-src 'none'`)
 * stays as strict. Only path data and fixed attributes, generated here, never user input.
 */
export async function qrSvg(uri: string): Promise<string> {
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 })
  return svg.replace('<svg ', '<svg role="img" aria-labelledby="qr-label" class="qr" ')
}
