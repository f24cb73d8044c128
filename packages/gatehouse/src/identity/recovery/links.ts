/**
 * The tokens in mailed links. Each names its purpose and expiry, and is checked in constant time.
 *
 * - Reset and e-mail verification links are signed: `<body>.<HMAC-SHA256>` where the MAC (key from
 *   identity.secret) also covers a `binding` the link does not carry: the account's current password
 *   hash for a reset, so a link dies the moment the password changes, which is also what makes it
 *   single-use (a reset sets a new hash, with a new salt); the address being verified and the password
 *   hash for a verification.
 * - Registration links are sealed (AES-256-GCM): they carry the new account, its password hash
 *   included, until the link is used; nothing is stored before then.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

type Fields = Record<string, string>

interface Body {
  readonly p: string
  readonly e: number
  readonly d: Fields
}

const nowSeconds = () => Math.floor(Date.now() / 1000)
/** Longest token accepted: a registration link with the longest username, address and hash fits. */
export const MAX_TOKEN = 2048

function mac(key: Buffer, body: string, binding: string): Buffer {
  return createHmac('sha256', key).update(`${body}\0${binding}`).digest()
}

export function signLink(key: Buffer, purpose: string, fields: Fields, ttl: number, binding: string): string {
  const body = Buffer.from(JSON.stringify({ p: purpose, e: nowSeconds() + ttl, d: fields })).toString(
    'base64url',
  )
  return `${body}.${mac(key, body, binding).toString('base64url')}`
}

/** The fields a signed link carries, before its binding is known (to find the account); null if malformed, expired or not for `purpose`. */
export function peekLink(token: string, purpose: string): Fields | null {
  const body = parse(token)
  return body !== null && body.p === purpose && body.e > nowSeconds() ? body.d : null
}

/** Whether the link is intact, unexpired, for `purpose` and made for `binding`. */
export function linkValid(key: Buffer, token: string, purpose: string, binding: string): boolean {
  if (peekLink(token, purpose) === null) return false
  const [body, tag] = token.split('.') as [string, string]
  const expected = mac(key, body, binding)
  const actual = Buffer.from(tag, 'base64url')
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

function parse(token: string): Body | null {
  if (token.length > MAX_TOKEN || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/.test(token)) return null
  try {
    const body = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Body
    return isBody(body) ? body : null
  } catch {
    return null
  }
}

function isBody(b: unknown): b is Body {
  if (typeof b !== 'object' || b === null) return false
  const { p, e, d } = b as Record<string, unknown>
  return (
    typeof p === 'string' &&
    typeof e === 'number' &&
    typeof d === 'object' &&
    d !== null &&
    Object.values(d).every((v) => typeof v === 'string')
  )
}

export function sealLink(key: Buffer, purpose: string, fields: Fields, ttl: number): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(purpose))
  const plain = JSON.stringify({ p: purpose, e: nowSeconds() + ttl, d: fields })
  const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url')
}

/** The fields of a sealed link, or null when it is not intact, expired or not for `purpose`. */
export function openLink(key: Buffer, token: string, purpose: string): Fields | null {
  if (token.length > MAX_TOKEN || !/^[A-Za-z0-9_-]+$/.test(token)) return null
  const raw = Buffer.from(token, 'base64url')
  if (raw.length < 29) return null
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12))
    decipher.setAAD(Buffer.from(purpose))
    decipher.setAuthTag(raw.subarray(12, 28))
    const plain = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
    const body = JSON.parse(plain) as unknown
    return isBody(body) && body.p === purpose && body.e > nowSeconds() ? body.d : null
  } catch {
    return null
  }
}
