/**
 * `keyauth_credentials` (Kong's key-auth daos.lua): a key per entry, unique across consumers, generated
 * when the file leaves it out, with an optional ttl. The admin API shows the key, as Kong does, and the
 * ttl as the seconds left.
 */
import { randomBytes } from 'node:crypto'
import type { CredentialEntity } from '../../config/model.ts'
import type { CredentialDefinition } from '../types.ts'
import { keyCredentialFields } from './schema.ts'

export const keyAuthCredentials: CredentialDefinition = {
  name: 'keyauth_credentials',
  adminCollection: 'key-auths',
  adminNested: 'key-auth',
  endpointKey: 'key',
  endpointKeyIsSecret: true,
  unique: ['key'],
  fields: keyCredentialFields,
  build: (fields, ctx) => ({
    // Kong's `auto` key: 32 hex characters (128 random bits).
    key: (fields.key as string | undefined) ?? ctx.generated('key', () => randomBytes(16).toString('hex')),
    ttl: (fields.ttl as number | null | undefined) || null,
  }),
  present: (entity) => ({ ...entity, ttl: secondsLeft(entity) }),
}

/** Kong's admin API shows a ttl as the seconds left, counted here from the load (`created_at`). */
function secondsLeft(entity: CredentialEntity): number | null {
  const ttl = entity.ttl as number | null
  if (ttl === null) return null
  return Math.max(0, entity.created_at + ttl - Math.floor(Date.now() / 1000))
}
