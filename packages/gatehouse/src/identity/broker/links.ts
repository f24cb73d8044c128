/**
 * A user's links to external providers, as the admin API, `gatehouse users links|unlink` and the account
 * page show and remove them. Removing a link is allowed for every user, the configuration file's too: a
 * link is not in the file. A user left with no link and no password can no longer sign in; that is the
 * caller's warning to give (`signInLeft`).
 */
import type { IdentityConfig } from '../../config/normalize-identity.ts'
import { NO_PASSWORD, type Store, type StoredLink, type StoredUser } from '../../storage/store.ts'

export interface LinkView {
  readonly broker: string
  /** The provider's display name, or null when it is no longer configured (the link cannot sign in). */
  readonly display_name: string | null
  readonly subject: string
  readonly email: string | null
  readonly username: string | null
  readonly created_at: number
  readonly last_used_at: number | null
}

export async function linksOf(store: Store, identity: IdentityConfig, userId: string): Promise<LinkView[]> {
  return (await store.links.listByUser(userId)).map((l) => presentLink(l, identity))
}

export function presentLink(link: StoredLink, identity: IdentityConfig): LinkView {
  const provider = identity.external_providers.find((p) => p.name === link.broker)
  return {
    broker: link.broker,
    display_name: provider?.display_name ?? null,
    subject: link.subject,
    email: link.email,
    username: link.username,
    created_at: link.created_at,
    last_used_at: link.last_used_at,
  }
}

/** Removes `user`'s link to `broker`; false when there was none. */
export function unlink(store: Store, user: StoredUser, broker: string): Promise<boolean> {
  return store.links.remove(user.id, broker)
}

/** Whether `user` can still sign in some way: a password, a passkey (it signs in alone), or a link. */
export async function signInLeft(store: Store, user: StoredUser): Promise<boolean> {
  if (user.password_hash !== NO_PASSWORD) return true
  if ((await store.factors.passkeys(user.id)).length > 0) return true
  return (await store.links.listByUser(user.id)).length > 0
}

/**
 * Whether `user` could still sign in after losing the link to `broker`: a password, a passkey, or another link to
 * a provider still configured (a link to a removed provider signs nobody in). The account page refuses
 * a removal that would leave nothing.
 */
export async function signInLeftWithout(
  store: Store,
  identity: IdentityConfig,
  user: StoredUser,
  broker: string,
): Promise<boolean> {
  if (user.password_hash !== NO_PASSWORD) return true
  if ((await store.factors.passkeys(user.id)).length > 0) return true
  const configured = new Set(identity.external_providers.map((p) => p.name))
  return (await store.links.listByUser(user.id)).some((l) => l.broker !== broker && configured.has(l.broker))
}
