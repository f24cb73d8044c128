/**
 * Accounts for oidc-provider (its `findAccount`), from the store. A disabled or deleted user has no
 * account: their session stops resolving, their refresh tokens are refused (`invalid_grant`), and the
 * login prompt comes back. Claims follow the standard scopes (claims.ts masks them by scope):
 * `preferred_username` is the username, the other profile claims come from the user's `claims`, and
 * `email_verified` is true only when the user's claims say so (Gatehouse does not verify addresses).
 */
import type { Account, AccountClaims, FindAccount } from 'oidc-provider'
import type { Store, StoredUser } from '../storage/store.ts'

export function findAccountIn(store: Store): FindAccount {
  return async (_ctx, sub) => {
    const user = await store.users.get(sub)
    if (user === undefined || user.disabled) return undefined
    return accountOf(user)
  }
}

export function accountOf(user: StoredUser): Account {
  return {
    accountId: user.id,
    /** For resources.ts, which copies configured claims into access tokens. */
    user,
    claims(): AccountClaims {
      const claims: AccountClaims = { ...user.claims, sub: user.id, preferred_username: user.username }
      if (user.email !== null) {
        claims['email'] = user.email
        claims['email_verified'] = user.claims['email_verified'] === true
      }
      claims['updated_at'] = user.updated_at
      return claims
    },
  }
}
