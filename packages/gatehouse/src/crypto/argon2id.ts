/**
 * argon2id password hashes in the PHC string format (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`,
 * unpadded standard base64), as the reference implementation and every argon2 library write them.
 * New hashes use OWASP's parameters (Password Storage Cheat Sheet: 19 MiB, 2 passes, 1 lane). Hashes
 * from elsewhere are accepted up to fixed bounds, so a configuration cannot make one check arbitrarily
 * expensive. The function itself comes from argon2id-kdf.ts (node:crypto's, or @node-rs/argon2's on Node
 * 22); hashing and verifying take the implementation as an optional last argument, which tests use to
 * check that each verifies what the other hashed.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { type Argon2idKdf, argon2idKdf } from './argon2id-kdf.ts'

/** Parameters of new hashes (OWASP), with a 16-byte random salt and a 32-byte tag. */
export const NEW_HASH = { memory: 19_456, passes: 2, parallelism: 1, saltBytes: 16, tagBytes: 32 } as const

/** The most a configured hash may cost: memory in KiB, passes, lanes (RFC 9106's second choice fits). */
export const LIMITS = {
  memory: 65_536,
  passes: 10,
  parallelism: 8,
  minSaltBytes: 8,
  minTagBytes: 16,
} as const

export interface Argon2idHash {
  readonly memory: number
  readonly passes: number
  readonly parallelism: number
  readonly salt: Buffer
  readonly tag: Buffer
}

const PHC = /^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/

/** Whether a configured password is meant as a hash rather than a plain password. */
export function looksHashed(value: string): boolean {
  return value.startsWith('$argon2')
}

/** Hashes a password with the parameters of new hashes (synchronous: runs when a file is loaded). */
export function hashPassword(password: string, kdf: Argon2idKdf = argon2idKdf): string {
  const salt = randomBytes(NEW_HASH.saltBytes)
  return formatPhc({ ...NEW_HASH, salt, tag: kdf.deriveSync(password, salt, NEW_HASH, NEW_HASH.tagBytes) })
}

/**
 * `hashPassword` off the event loop (libuv's thread pool), for a password set while the gateway serves
 * (the admin API): ~30 ms of hashing must not hold up the proxy's requests.
 */
export async function hashPasswordAsync(password: string, kdf: Argon2idKdf = argon2idKdf): Promise<string> {
  const salt = randomBytes(NEW_HASH.saltBytes)
  return formatPhc({ ...NEW_HASH, salt, tag: await kdf.derive(password, salt, NEW_HASH, NEW_HASH.tagBytes) })
}

const cacheKey = randomBytes(32)
/** HMAC of (scope, password) → PHC string. Bounded; the oldest entry goes first. */
const hashes = new Map<string, string>()
const MAX_CACHED_HASHES = 10_000

/**
 * `hashPassword`, remembered per process for the same (scope, password), so reloading a file with
 * unchanged passwords does not pay ~30 ms per password again. The cache key is an HMAC under a random
 * per-process key, so it never holds a password. `scope` names whose password it is (e.g. the consumer
 * and username), so equal passwords of different owners still get different salts.
 */
export function hashPasswordOnce(scope: string, password: string): string {
  const key = createHmac('sha256', cacheKey).update(scope).update('\0').update(password).digest('base64')
  let phc = hashes.get(key)
  if (phc === undefined) {
    phc = hashPassword(password)
    if (hashes.size >= MAX_CACHED_HASHES) hashes.delete(hashes.keys().next().value!)
    hashes.set(key, phc)
  }
  return phc
}

export function formatPhc(h: Argon2idHash): string {
  const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '')
  return `$argon2id$v=19$m=${h.memory},t=${h.passes},p=${h.parallelism}$${b64(h.salt)}$${b64(h.tag)}`
}

/** The parsed hash, or a message saying what is wrong with it (never quoting it). */
export function parsePhc(text: string): Argon2idHash | string {
  if (/^\$argon2(i|d)\$/.test(text)) return 'only argon2id hashes are accepted (this is argon2i or argon2d)'
  const m = PHC.exec(text)
  if (!m) return 'is not an argon2id PHC string ($argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>)'
  if (m[1] !== '19') return 'argon2id hash must be version 19 (v=19)'
  const [memory, passes, parallelism] = [Number(m[2]), Number(m[3]), Number(m[4])]
  const salt = unpaddedBase64(m[5]!)
  const tag = unpaddedBase64(m[6]!)
  if (!salt || !tag) return 'argon2id hash has malformed base64 in its salt or hash'
  if (parallelism < 1 || passes < 1 || memory < 8 * parallelism)
    return 'argon2id hash has impossible parameters (need p >= 1, t >= 1, m >= 8 * p)'
  if (memory > LIMITS.memory || passes > LIMITS.passes || parallelism > LIMITS.parallelism)
    return `argon2id hash is too expensive to check (limits: m <= ${LIMITS.memory}, t <= ${LIMITS.passes}, p <= ${LIMITS.parallelism})`
  if (salt.length < LIMITS.minSaltBytes || tag.length < LIMITS.minTagBytes)
    return `argon2id hash is too weak (salt of at least ${LIMITS.minSaltBytes} bytes and hash of at least ${LIMITS.minTagBytes} bytes)`
  return { memory, passes, parallelism, salt, tag }
}

function unpaddedBase64(text: string): Buffer | null {
  const bytes = Buffer.from(text, 'base64')
  return bytes.toString('base64').replace(/=+$/, '') === text ? bytes : null
}

/**
 * Whether `password` matches the hash, computed on libuv's threadpool (the event loop keeps serving),
 * the tags compared in constant time.
 */
export async function verifyPassword(
  hash: Argon2idHash,
  password: string,
  kdf: Argon2idKdf = argon2idKdf,
): Promise<boolean> {
  return timingSafeEqual(await kdf.derive(password, hash.salt, hash, hash.tag.length), hash.tag)
}

/**
 * A hash no password matches (random salt and tag), with the parameters of new hashes: checking an
 * unknown username against it costs what checking a real one costs, so timing does not tell which
 * usernames exist.
 */
export function decoyHash(): Argon2idHash {
  return { ...NEW_HASH, salt: randomBytes(NEW_HASH.saltBytes), tag: randomBytes(NEW_HASH.tagBytes) }
}
