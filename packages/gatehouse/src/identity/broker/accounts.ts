/**
 * A new local account for an external identity no account is linked to (`create_accounts`), written
 * with its link in one transaction. The username comes from the provider's `preferred_username`, else the
 * e-mail address's local part, else the provider's name, reduced to what usernames allow and made unique
 * (`alice`, `alice-2`, ...; never a name the configuration file declares). The account has no password
 * (NO_PASSWORD): it signs in through the link until one is set. The e-mail address is kept only when the
 * provider says it verified it and no other account has it: an address is what password resets go to.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { NO_PASSWORD, StoreConflictError, type StoredUser } from '../../storage/store.ts'
import type { InteractionContext } from '../interactions/context.ts'
import { declaredInFile } from '../manage/users.ts'
import type { ExternalProviderClient, UpstreamIdentity } from './client.ts'

const MAX_BASE = 56
const NUMBERED_TRIES = 20

export async function createBrokeredAccount(
  c: InteractionContext,
  provider: ExternalProviderClient,
  identity: UpstreamIdentity,
): Promise<StoredUser> {
  const base = usernameBase(identity, provider.config.name)
  const email =
    identity.email !== null &&
    identity.emailVerified &&
    (await c.store.users.findByEmail(identity.email)) === undefined
      ? identity.email
      : null
  const claims: Record<string, string | boolean> = {}
  if (identity.name !== null) claims.name = identity.name.slice(0, 200)
  if (email !== null) claims.email_verified = true
  const now = Math.floor(Date.now() / 1000)
  for (let attempt = 1; ; attempt++) {
    const username = await freeUsername(c, base, attempt)
    const user: StoredUser = {
      id: randomUUID(),
      username,
      email,
      password_hash: NO_PASSWORD,
      roles: [],
      claims,
      disabled: false,
      // Managed in the store like the CLI's and the admin API's users (not by the file).
      source: 'cli',
      created_at: now,
      updated_at: now,
    }
    try {
      await c.store.links.insertUserWithLink(user, {
        broker: provider.config.name,
        subject: identity.subject,
        user_id: user.id,
        email: identity.email,
        username: identity.username,
        created_at: now,
        last_used_at: null,
      })
    } catch (err) {
      // A username taken since it was found free (another sign-in at the same moment): the next one.
      if (err instanceof StoreConflictError && err.field === 'username' && attempt < NUMBERED_TRIES + 2)
        continue
      throw err
    }
    c.logger.info(
      { user_id: user.id, user: username, broker: provider.config.name, actor: 'self' },
      'identity user created by external sign-in',
    )
    c.logger.info(
      { user_id: user.id, broker: provider.config.name, actor: 'self', how: 'new_account' },
      'identity link created',
    )
    return user
  }
}

/** What the username is made from, reduced to the characters usernames allow (identityUser's rule). */
export function usernameBase(identity: UpstreamIdentity, providerName: string): string {
  const raw = identity.username ?? identity.email?.split('@')[0] ?? ''
  const cleaned = raw
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._@+-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, MAX_BASE)
  return cleaned === '' ? `${providerName}-user` : cleaned
}

async function freeUsername(c: InteractionContext, base: string, from: number): Promise<string> {
  for (let n = from; n <= NUMBERED_TRIES; n++) {
    const candidate = n === 1 ? base : `${base}-${n}`
    if (declaredInFile(c.identity, candidate)) continue
    if ((await c.store.users.findByUsername(candidate)) === undefined) return candidate
  }
  return `${base}-${randomBytes(3).toString('hex')}`
}
