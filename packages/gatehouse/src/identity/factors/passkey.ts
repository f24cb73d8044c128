/**
 * Passkeys (WebAuthn Level 3) with @simplewebauthn/server: the options a page hands the browser, and
 * the checks of what comes back. The relying party is the issuer: RP ID its host name (no port, as
 * WebAuthn wants), origin its origin, so a passkey made for this provider is useless to any other site
 * and a response made on another origin (a phishing page) is refused by the library. Attestation is
 * `none` (no authenticator model is trusted or refused); a passkey must be discoverable (resident) so
 * it can sign in alone. The library checks the challenge, origin, RP ID hash, user presence, user
 * verification when asked, the signature, and that a non-zero counter went forward; the store checks
 * the counter again in one conditional UPDATE (two nodes racing with the same assertion).
 *
 * A challenge is random, kept server-side (challenges.ts) and taken once; it is never trusted from the
 * browser, which only echoes it inside the signed client data.
 */
import { isIP } from 'node:net'
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server'
import type { StoredPasskey, StoredUser } from '../../storage/store.ts'

/** Five minutes to answer the browser's prompt (the challenge lives as long). */
export const PASSKEY_TIMEOUT_SECONDS = 300
/** Longest credential JSON a form may carry (a few kB in practice; attestation `none` keeps it small). */
export const MAX_CREDENTIAL_JSON = 16_384
export const MAX_PASSKEY_NAME = 64

export interface RelyingParty {
  /** The issuer's host name: what passkeys are scoped to. */
  readonly id: string
  /** The issuer's origin (scheme, host, port): where the browser must have made the response. */
  readonly origin: string
  readonly name: string
}

/**
 * Whether passkeys can work for this issuer at all: WebAuthn scopes them to a domain name and browsers
 * refuse an IP address as the RP ID, so an issuer on an address offers none (rather than a button that
 * always fails).
 */
export function passkeysAvailable(issuer: string): boolean {
  return isIP(new URL(issuer).hostname.replace(/^\[|\]$/g, '')) === 0
}

export function relyingParty(issuer: string): RelyingParty {
  const url = new URL(issuer)
  return { id: url.hostname, origin: url.origin, name: url.hostname }
}

/** Registration options: discoverable, user verification preferred, the user's passkeys excluded. */
export function registrationOptions(
  rp: RelyingParty,
  user: StoredUser,
  existing: readonly StoredPasskey[],
  challenge: string,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
    rpName: rp.name,
    rpID: rp.id,
    userName: user.username,
    // The user handle: the stable id, never the username (which can change) or the e-mail address.
    userID: new TextEncoder().encode(user.id),
    userDisplayName: user.username,
    timeout: PASSKEY_TIMEOUT_SECONDS * 1000,
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: [...p.transports] })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'preferred' },
  })
}

/**
 * Authentication options. `allow`: the passkeys of a known user (a second factor), else none listed
 * (a passkey alone: the browser offers every discoverable credential for this RP ID).
 */
export function authenticationOptions(
  rp: RelyingParty,
  allow: readonly StoredPasskey[] | undefined,
  userVerification: 'required' | 'preferred',
  challenge: string,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
    rpID: rp.id,
    timeout: PASSKEY_TIMEOUT_SECONDS * 1000,
    userVerification,
    ...(allow !== undefined && {
      allowCredentials: allow.map((p) => ({ id: p.credential_id, transports: [...p.transports] })),
    }),
  })
}

/** A browser's answer, parsed: shape only (the library checks the rest). */
export function parseCredential<T extends RegistrationResponseJSON | AuthenticationResponseJSON>(
  text: string | null,
): T | null {
  if (text === null || text === '' || text.length > MAX_CREDENTIAL_JSON) return null
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const v = value as Record<string, unknown>
  if (typeof v['id'] !== 'string' || !/^[A-Za-z0-9_-]{1,1366}$/.test(v['id'])) return null
  if (v['type'] !== 'public-key' || typeof v['response'] !== 'object' || v['response'] === null) return null
  return value as T
}

/** A refusal carries a stable reason for the log, and the library's words (no secret in them) apart. */
export type PasskeyCheck<T> =
  | { ok: true; value: T }
  | { ok: false; reason: string; detail?: string | undefined }

/** What a verified registration stores (the factor row is the caller's). */
export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponseJSON,
  challenge: string,
): Promise<PasskeyCheck<Omit<StoredPasskey, 'factor_id'>>> {
  try {
    const result = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      requireUserVerification: false,
    })
    if (!result.verified) return { ok: false, reason: 'passkey_registration_unverified' }
    const info = result.registrationInfo
    return {
      ok: true,
      value: {
        credential_id: info.credential.id,
        public_key: Buffer.from(info.credential.publicKey).toString('base64url'),
        counter: info.credential.counter,
        transports: (response.response.transports ?? []).filter((t) => /^[a-z-]{1,32}$/.test(t)),
        backed_up: info.credentialBackedUp,
        aaguid: info.aaguid,
      },
    }
  } catch (err) {
    return { ok: false, reason: 'passkey_registration_invalid', detail: (err as Error).message }
  }
}

/** Whether the assertion is the passkey's, for this challenge; its new counter and the UV flag. */
export async function verifyAssertion(
  rp: RelyingParty,
  response: AuthenticationResponseJSON,
  challenge: string,
  passkey: StoredPasskey,
  requireUserVerification: boolean,
): Promise<PasskeyCheck<{ counter: number; userVerified: boolean }>> {
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      credential: {
        id: passkey.credential_id,
        publicKey: new Uint8Array(Buffer.from(passkey.public_key, 'base64url')),
        counter: passkey.counter,
        transports: [...passkey.transports] as never,
      },
      requireUserVerification,
    })
    if (!result.verified) return { ok: false, reason: 'passkey_signature_invalid' }
    const info = result.authenticationInfo
    return { ok: true, value: { counter: info.newCounter, userVerified: info.userVerified } }
  } catch (err) {
    const message = (err as Error).message
    // The library refuses a counter that did not go forward before the store is asked: a clone.
    const reason = /counter/i.test(message) ? 'passkey_counter_replayed' : 'passkey_assertion_invalid'
    return { ok: false, reason, detail: message }
  }
}
