/**
 * `hmacauth_credentials` (Kong's hmac-auth daos.lua): a username, unique across consumers, and the shared
 * secret, generated when the file leaves it out (Kong's `auto`). The secret is kept as written, since
 * verifying an HMAC needs it; the admin API shows it, as Kong does (a generated secret must be read once
 * to be given to the client), like key-auth's keys.
 */
import { randomBytes } from 'node:crypto'
import type { CredentialDefinition } from '../types.ts'
import { hmacCredentialFields } from './schema.ts'

export const hmacAuthCredentials: CredentialDefinition = {
  name: 'hmacauth_credentials',
  adminCollection: 'hmac-auths',
  adminNested: 'hmac-auth',
  endpointKey: 'username',
  unique: ['username'],
  fields: hmacCredentialFields,
  build: (fields, ctx) => ({
    username: fields.username as string,
    // 24 random bytes: 32 base64url characters, as long as Kong's random_string().
    secret:
      (fields.secret as string | undefined) ??
      ctx.generated('secret', () => randomBytes(24).toString('base64url')),
  }),
}
