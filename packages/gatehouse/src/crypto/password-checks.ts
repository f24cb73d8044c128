/**
 * Keeps password checks from becoming a denial-of-service lever. An argon2id check costs ~30 ms of CPU
 * and ~19 MiB, so anyone can send requests that cost the gateway far more than they cost the sender:
 * - at most MAX_RUNNING checks run at once in this process (on libuv's threadpool, which has 4 threads
 *   shared with file and DNS work), and at most MAX_WAITING wait; beyond that the plugin answers 503
 *   at once instead of queueing without bound;
 * - a successful check is remembered for VERIFIED_TTL_MS, so a client sending the right password on
 *   every request costs one HMAC, not one argon2id. The cache key is an HMAC (random per-process key)
 *   of the credential, its hash and the password: it never holds a password, a wrong password never
 *   matches an entry, and a changed password misses.
 * Both are process-wide: the limits are about this process's CPU and memory, whatever the routes.
 */
import { createHmac, randomBytes } from 'node:crypto'

export const MAX_RUNNING = 2
export const MAX_WAITING = 32
export const VERIFIED_TTL_MS = 60_000
export const MAX_VERIFIED = 10_000

let running = 0
const waiting: (() => void)[] = []

/**
 * Runs `check` once a slot is free, or returns null at once when MAX_WAITING checks already wait. A slot
 * passes straight from a finished check to the next waiter, so no more than MAX_RUNNING ever run.
 */
export function scheduleCheck<T>(check: () => Promise<T>): Promise<T> | null {
  if (running < MAX_RUNNING) {
    running++
    return runHoldingSlot(check)
  }
  if (waiting.length >= MAX_WAITING) return null
  return new Promise<void>((resolve) => waiting.push(resolve)).then(() => runHoldingSlot(check))
}

async function runHoldingSlot<T>(check: () => Promise<T>): Promise<T> {
  try {
    return await check()
  } finally {
    const next = waiting.shift()
    if (next) next()
    else running--
  }
}

const hmacKey = randomBytes(32)
/** HMAC → performance.now() when the success stops counting. Insertion order is expiry order. */
const verified = new Map<string, number>()

/** The cache key of one (credential, hash, password) triple. */
export function verifiedKey(credentialId: string, phc: string, password: string): string {
  return createHmac('sha256', hmacKey).update(`${credentialId}\0${phc}\0`).update(password).digest('base64')
}

export function recentlyVerified(key: string): boolean {
  const until = verified.get(key)
  if (until === undefined) return false
  if (performance.now() < until) return true
  verified.delete(key)
  return false
}

export function rememberVerified(key: string): void {
  verified.delete(key)
  if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value!)
  verified.set(key, performance.now() + VERIFIED_TTL_MS)
}
