/**
 * `basicauth_credentials` (Kong's basic-auth daos.lua): a unique username and a password, kept only as
 * an argon2id hash. A plain password is hashed when the file is loaded; an argon2id PHC string is kept as
 * written. Hashing costs ~30 ms of CPU, so a process-local cache lets reloads reuse the hash of an
 * unchanged (consumer, username, password); its keys are HMACs under a random per-process key, so the
 * cache never holds a password. The admin API never shows the password or its hash.
 */

import { hashPasswordOnce, looksHashed, parsePhc } from '../../crypto/argon2id.ts'
import type { CredentialDefinition } from '../types.ts'
import { basicCredentialFields } from './schema.ts'

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
    if (!looksHashed(password))
      return { username, password: hashPasswordOnce(`basic-auth\0${ctx.consumer.id}\0${username}`, password) }
    const parsed = parsePhc(password)
    if (typeof parsed === 'string') ctx.issue('password', parsed)
    return { username, password }
  },
  present: ({ password: _hash, ...shown }) => shown,
}
