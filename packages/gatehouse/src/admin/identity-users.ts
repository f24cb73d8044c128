/**
 * The identity provider's users on the admin API (issue 12), with the checks and writes of `gatehouse
 * users` (identity/manage/users.ts):
 *   GET    /identity/users                   every user, never a password hash
 *   POST   /identity/users                   a new user; the password in the JSON body, hashed with argon2id
 *   GET    /identity/users/{user}            one (by id or username), with its login throttle
 *   DELETE /identity/users/{user}
 *   POST   /identity/users/{user}/disable    a disabled user cannot sign in, and its refresh tokens stop working
 *   POST   /identity/users/{user}/enable
 *   PUT    /identity/users/{user}/password   a new password (a reset)
 *   POST   /identity/users/{user}/unlock     clears failed logins and the lock (any username, the file's too)
 * Users the configuration file declares are read-only here (409 GH_ERR_ADMIN_MANAGED_BY_CONFIG). A
 * password never appears in an answer or a log line, not even a refused one. Each change is audited
 * (identity-audit.ts).
 */
import type { IdentityConfig } from '../config/normalize-identity.ts'
import { hashPasswordAsync } from '../crypto/argon2id.ts'
import { userTarget } from '../identity/manage/audit.ts'
import {
  changeableUser,
  createUser,
  findUser,
  loginThrottleOf,
  newUserBody,
  passwordBody,
  passwordProblem,
  presentUser,
  removeUser,
  setDisabled,
  setPasswordHash,
  unlock,
} from '../identity/manage/users.ts'
import type { Store, StoredUser } from '../storage/store.ts'
import { checkedBody, fieldsRefusal, sendRefusal } from './checked-body.ts'
import type { AdminContext } from './context.ts'
import { type AdminHandler, type AdminRequest, sendJson } from './http.ts'
import { audited } from './identity-audit.ts'
import { identityFor, identityUserFor, refusedAnswered } from './identity-requests.ts'

/** `GET /identity/users`. */
export const listUsers: AdminHandler = async (ctx, a) => {
  const found = identityFor(ctx, a)
  if (found === null) return
  const users = await found.host.store.users.list()
  sendJson(a.res, 200, { data: users.map((u) => presentUser(u, found.identity)) })
}

/** `POST /identity/users`. */
export const addUser: AdminHandler = async (ctx, a, env) => {
  const found = identityFor(ctx, a)
  if (found === null) return
  const body = await checkedBody(a, env, newUserBody)
  if (body === null) return
  const { password, ...user } = body
  const weak = passwordProblem(password, { username: user.username, email: user.email ?? null })
  if (weak !== null) return sendRefusal(a, fieldsRefusal('GH_ERR_ADMIN_BAD_REQUEST', [weak]))
  const { store } = found.host
  const added = await refusedAnswered(a, async () =>
    createUser(store, found.identity, user, await hashPasswordAsync(password)),
  )
  if (added === undefined) return
  await audited(ctx, a, env, {
    action: 'user.added',
    target: userTarget(added),
    detail: { roles: added.roles.join(','), disabled: added.disabled },
  })
  sendJson(a.res, 201, presentUser(added, found.identity))
}

/** `GET /identity/users/{user}`: also its login throttle (recent failures, lock). */
export const showUser: AdminHandler = async (ctx, a) => {
  const found = await identityUserFor(ctx, a)
  if (found === null) return
  const { user } = found
  const throttle = await loginThrottleOf(found.host.store, user.username)
  sendJson(a.res, 200, {
    ...presentUser(user, found.identity),
    login_throttle: {
      failures: throttle?.failures ?? 0,
      locked_until: throttle?.locked_until ?? null,
    },
  })
}

/** `DELETE /identity/users/{user}`. */
export const deleteUser: AdminHandler = (ctx, a, env) =>
  change(ctx, a, async (store, user) => {
    await removeUser(store, user)
    await audited(ctx, a, env, { action: 'user.removed', target: userTarget(user), detail: {} })
    a.res.writeHead(204, { 'cache-control': 'no-store' }).end()
  })

/** `POST /identity/users/{user}/disable` and `/enable`. */
export function enableUser(enabled: boolean): AdminHandler {
  return (ctx, a, env) =>
    change(ctx, a, async (store, user, identity) => {
      await setDisabled(store, user, !enabled)
      await audited(ctx, a, env, {
        action: enabled ? 'user.enabled' : 'user.disabled',
        target: userTarget(user),
        detail: {},
      })
      const now = (await store.users.get(user.id)) ?? user
      sendJson(a.res, 200, presentUser(now, identity))
    })
}

/** `PUT /identity/users/{user}/password`. */
export const resetPassword: AdminHandler = async (ctx, a, env) => {
  const body = await checkedBody(a, env, passwordBody)
  if (body === null) return
  await change(ctx, a, async (store, user, identity) => {
    const weak = passwordProblem(body.password, user)
    if (weak !== null) return sendRefusal(a, fieldsRefusal('GH_ERR_ADMIN_BAD_REQUEST', [weak]))
    await setPasswordHash(store, user, await hashPasswordAsync(body.password))
    await audited(ctx, a, env, { action: 'user.password_changed', target: userTarget(user), detail: {} })
    const now = (await store.users.get(user.id)) ?? user
    sendJson(a.res, 200, presentUser(now, identity))
  })
}

/**
 * `POST /identity/users/{user}/unlock`: for any username, the file's users and names that do not exist
 * included (failed logins are counted for unknown names too, so a lock does not tell which exist).
 */
export const unlockUser: AdminHandler = async (ctx, a, env) => {
  const found = identityFor(ctx, a)
  if (found === null) return
  const reference = a.params.user!
  const user = await findUser(found.host.store, reference)
  const username = user?.username ?? reference
  const cleared = await unlock(found.host.store, username)
  if (cleared)
    await audited(ctx, a, env, {
      action: 'user.unlocked',
      target: { type: 'user', id: user?.id ?? null, name: username },
      detail: {},
    })
  sendJson(a.res, 200, {
    username,
    cleared,
    message: cleared
      ? `cleared the failed logins and lock of '${username}'`
      : `'${username}' has no failed logins or lock to clear`,
  })
}

/** A change to one user the file does not manage, named by id or username. */
async function change(
  ctx: AdminContext,
  a: AdminRequest,
  run: (store: Store, user: StoredUser, identity: IdentityConfig) => Promise<void>,
): Promise<void> {
  const found = identityFor(ctx, a)
  if (found === null) return
  const { store } = found.host
  await refusedAnswered(a, async () => {
    const user = await changeableUser(store, found.identity, a.params.user!)
    await run(store, user, found.identity)
  })
}
