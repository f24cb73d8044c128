/**
 * Sealing what the gateway gives the browser to keep: a JWT encrypted with a direct key (JWE `dir` +
 * `A256GCM`, RFC 7516), so the browser can neither read nor change it, with `exp` so a copy stops working.
 * Each purpose (the session, the sign-in in progress, a session record kept in a shared store, the
 * server-side session id's store key) has its own key, derived from the configured secret with HKDF-SHA256 (RFC 5869) and bound to the provider and
 * client: a sign-in cookie cannot pass for a session cookie, nor one client's session for another's.
 * Keys are derived once per configuration.
 */
import { createHmac, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto'
import { EncryptJWT, jwtDecrypt } from 'jose'

/** `store`: a record in a shared store (Redis), which must not pass for a session cookie. */
export type Purpose = 'session' | 'login' | 'store'

const HEADER = { alg: 'dir', enc: 'A256GCM' } as const
const DECRYPT = { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] }

function derive(secret: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'gatehouse/session', info, 32))
}

export class Sealer {
  readonly #keys: Readonly<Record<Purpose, KeyObject>>
  readonly #idKey: Buffer

  /** `binding` names what the keys belong to (issuer and client), so other clients' cookies do not open. */
  constructor(secret: string, binding: string) {
    this.#keys = {
      session: createSecretKey(derive(secret, `session\0${binding}`)),
      login: createSecretKey(derive(secret, `login\0${binding}`)),
      store: createSecretKey(derive(secret, `store\0${binding}`)),
    }
    this.#idKey = derive(secret, `store-key\0${binding}`)
  }

  /** `claims` encrypted for `purpose`, valid until `expiresAt` (epoch seconds). */
  seal(purpose: Purpose, claims: Record<string, unknown>, expiresAt: number): Promise<string> {
    return new EncryptJWT(claims)
      .setProtectedHeader(HEADER)
      .setExpirationTime(expiresAt)
      .encrypt(this.#keys[purpose])
  }

  /** The claims of a sealed value, or null when it was tampered with, expired, or sealed for another purpose. */
  async unseal(purpose: Purpose, value: string): Promise<Record<string, unknown> | null> {
    try {
      const { payload } = await jwtDecrypt(value, this.#keys[purpose], DECRYPT)
      return payload as Record<string, unknown>
    } catch {
      return null
    }
  }

  /**
   * The store key of a server-side session id: a keyed hash, so a copy of the store (or its logs) holds
   * nothing a browser could present, and a made-up id finds nothing.
   */
  storeKey(id: string): string {
    return createHmac('sha256', this.#idKey).update(id).digest('base64url')
  }
}
