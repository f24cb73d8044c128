/**
 * `basicauth_credentials` (Kong's basic-auth daos.lua): a unique username and a password, kept only as
 * an argon2id hash. A plain password is hashed when the file is loaded; an argon2id PHC string is kept as
 * written. Hashing costs ~30 ms of CPU, so a process-local cache lets reloads reuse the hash of an
 * unchanged (consumer, username, password); its keys are HMACs under a random per-process key, so the
 * cache never holds a password. The admin API never shows the password or its hash.
 */
import { createHmac, randomBytes } from 'node:crypto'
import type { CredentialDefinition } from '../types.ts'
import { hashPassword, looksHashed, parsePhc } from './argon2id.ts'
import { basicCredentialFields } from './schema.ts'

const cacheKey = randomBytes(32)
/** HMAC of (consumer id, username, password) → PHC string. Bounded; the oldest entry goes first. */
const hashes = new Map<string, string>()
const MAX_CACHED_HASHES = 10_000

function hashOnce(consumerId: string, username: string, password: string): string {
  const key = createHmac('sha256', cacheKey)
    .update(`${consumerId}\0${username}\0`)
    .update(password)
    .digest('base64')
  let phc = hashes.get(key)
  if (phc === undefined) {
    phc = hashPassword(password)
    if (hashes.size >= MAX_CACHED_HASHES) hashes.delete(hashes.keys().next().value!)
    hashes.set(key, phc)
  }
  return phc
}

export const basicAuthCredentials: CredentialDefinition = {
  name: 'basicauth_credentials',
  adminCollection: 'basic-auths',
  adminNested: 'basic-auth',
  endpointKey: 'username',
  unique: ['username'],
  fields: basicCredentialFields,
  build(fields, ctx) {
    const username = fields.username as string
    const password = fields.password as string | undefined
    // Absent only when the file already failed its schema check (the loader still checks the rest).
    if (password === undefined) return { username, password: null }
    if (!looksHashed(password)) return { username, password: hashOnce(ctx.consumer.id, username, password) }
    const parsed = parsePhc(password)
    if (typeof parsed === 'string') ctx.issue('password', parsed)
    return { username, password }
  },
  present: ({ password: _hash, ...shown }) => shown,
}
