/**
 * The identity provider's users in the store, changed the same way whoever asks: `gatehouse users`
 * (cli/users.ts) and the admin API (admin/identity-users.ts). Users the configuration file declares
 * belong to the file (a load writes them again) and are refused here, whether or not a load has written
 * them yet. Passwords are checked against the password policy and stored only as argon2id hashes; the
 * caller hashes (the CLI synchronously, the admin API off the event loop), nothing here sees a hash leave.
 */
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { IdentityConfig } from '../../config/normalize-identity.ts'
import { identityUser } from '../../config/schema/identity.ts'
import { looksHashed } from '../../crypto/argon2id.ts'
import { MIN_PASSWORD_LENGTH, weakPasswordReason } from '../../crypto/password-policy.ts'
import { type Store, StoreConflictError, type StoredUser, type ThrottleState } from '../../storage/store.ts'
import { throttleKeys } from '../interactions/throttle.ts'
import { type FieldProblem, IdentityChangeRefused } from './refusal.ts'

/**
 * A user as `identity.users` takes one, less the password and the mfa policy: what the CLI's options and
 * the API's body give (the policy of a user made here is set afterwards: `PUT /identity/users/{user}/mfa`).
 */
export type NewUser = Omit<z.output<typeof identityUser>, 'password' | 'mfa'>

/**
 * The body of `POST /identity/users`: the fields of `identity.users` but `mfa`, with the password in clear
 * (it is hashed here with argon2id, never stored or shown as given).
 */
export const newUserBody = identityUser.omit({ mfa: true }).extend({
  password: z
    .string()
    .max(1024, { error: 'must be at most 1024 characters' })
    .describe(
      `The password in clear, at least ${MIN_PASSWORD_LENGTH} characters, not the username, the e-mail address or a most common password; hashed with argon2id. Never shown again.`,
    ),
})

/** The body of `PUT /identity/users/{user}/password`. */
export const passwordBody = z.strictObject({
  password: newUserBody.shape.password,
})

const nowSeconds = () => Math.floor(Date.now() / 1000)

/** The problem with a new password for this account, or null when the policy allows it. */
export function passwordProblem(
  password: string,
  account: { readonly username: string; readonly email?: string | null },
): FieldProblem | null {
  if (looksHashed(password))
    return { path: 'password', message: 'must be the password itself, not a hash (it is hashed here)' }
  const weak = weakPasswordReason(password, account)
  return weak === undefined ? null : { path: 'password', message: `refused: ${weak}` }
}

/** Whether the configuration file declares this username (then it, not the store, decides). */
export function declaredInFile(identity: IdentityConfig, username: string): boolean {
  return declaredAt(identity, username) !== -1
}

/** The index in `identity.users` of the username's entry, or -1 when the file does not declare it. */
export function declaredAt(identity: IdentityConfig, username: string): number {
  const key = username.toLowerCase()
  return identity.users.findIndex((u) => u.username.toLowerCase() === key)
}

/** Refuses a new user whose username, e-mail address or id is taken, or that the file declares. */
export async function checkAvailable(store: Store, identity: IdentityConfig, user: NewUser): Promise<void> {
  if (declaredInFile(identity, user.username)) throw managed(user.username)
  if (await store.users.findByUsername(user.username))
    throw taken('username', `username '${user.username}' is already taken`)
  if (user.email !== undefined && (await store.users.findByEmail(user.email)))
    throw taken('email', `e-mail address '${user.email}' is already taken`)
  if (user.id !== undefined && (await store.users.get(user.id)))
    throw taken('id', `id '${user.id}' is already taken`)
}

/** Adds a user managed outside the file (source `cli`: the CLI or the admin API); checks again. */
export async function createUser(
  store: Store,
  identity: IdentityConfig,
  user: NewUser,
  passwordHash: string,
): Promise<StoredUser> {
  await checkAvailable(store, identity, user)
  const now = nowSeconds()
  const stored: StoredUser = {
    id: user.id ?? randomUUID(),
    username: user.username,
    email: user.email ?? null,
    password_hash: passwordHash,
    roles: user.roles,
    claims: user.claims,
    disabled: user.disabled,
    source: 'cli',
    created_at: now,
    updated_at: now,
  }
  try {
    await store.users.insert(stored)
  } catch (err) {
    // Taken between the check and the insert (another node, the CLI).
    if (err instanceof StoreConflictError) throw taken(err.field, err.message)
    throw err
  }
  return stored
}

/**
 * The user `reference` names (its id, else its username) that may be changed here: refused when there
 * is none, and when the file declares it or a load of the file wrote it (source `config`).
 */
export async function changeableUser(
  store: Store,
  identity: IdentityConfig,
  reference: string,
  options: { byId?: boolean } = {},
): Promise<StoredUser> {
  if (declaredInFile(identity, reference)) throw managed(reference)
  const user =
    (options.byId === false ? undefined : await store.users.get(reference)) ??
    (await store.users.findByUsername(reference))
  if (user === undefined) throw new IdentityChangeRefused('not_found', `no user '${reference}'`)
  if (user.source === 'config' || declaredInFile(identity, user.username)) throw managed(user.username)
  return user
}

/** The user `reference` names (id, else username), whoever manages it; undefined when there is none. */
export async function findUser(store: Store, reference: string): Promise<StoredUser | undefined> {
  return (await store.users.get(reference)) ?? (await store.users.findByUsername(reference))
}

export async function setDisabled(store: Store, user: StoredUser, disabled: boolean): Promise<void> {
  await store.users.update(user.id, { disabled, updated_at: nowSeconds() })
}

export async function setPasswordHash(store: Store, user: StoredUser, passwordHash: string): Promise<void> {
  await store.users.update(user.id, { password_hash: passwordHash, updated_at: nowSeconds() })
}

/**
 * Sets the password hash only if `user`'s is still the stored one (store.users.replacePasswordHash):
 * false when another change came first.
 */
export function replacePasswordHash(store: Store, user: StoredUser, passwordHash: string): Promise<boolean> {
  return store.users.replacePasswordHash(user.id, user.password_hash, passwordHash, nowSeconds())
}

export async function removeUser(store: Store, user: StoredUser): Promise<void> {
  await store.users.remove(user.id)
}

/**
 * The login throttle of a username (interactions/throttle.ts): its recent failures and any lock.
 * Failures are counted for names that do not exist too, so the answer does not tell which do.
 */
export function loginThrottleOf(store: Store, username: string): Promise<ThrottleState | undefined> {
  return store.throttle.get(throttleKeys(username, '').account)
}

/**
 * Clears the failed logins and any lock of a username: allowed for every user, the file's too (it
 * changes no user). Says whether there was anything to clear.
 */
export async function unlock(store: Store, username: string): Promise<boolean> {
  const key = throttleKeys(username, '').account
  const state = await store.throttle.get(key)
  await store.throttle.clear(key)
  return state !== undefined
}

/** A user as the admin API shows it: never the password hash. */
export function presentUser(user: StoredUser, identity: IdentityConfig): Record<string, unknown> {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    roles: user.roles,
    claims: user.claims,
    disabled: user.disabled,
    source: user.source,
    read_only: user.source === 'config' || declaredInFile(identity, user.username),
    created_at: user.created_at,
    updated_at: user.updated_at,
  }
}

function managed(username: string): IdentityChangeRefused {
  const what = `user '${username}'`
  return new IdentityChangeRefused(
    'managed',
    `${what} is declared in the configuration file (identity.users); change it there`,
    [],
    what,
  )
}

function taken(field: string, message: string): IdentityChangeRefused {
  return new IdentityChangeRefused('taken', message, [{ path: field, message: 'is already taken' }])
}
