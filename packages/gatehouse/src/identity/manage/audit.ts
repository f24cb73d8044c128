/**
 * The identity audit trail (issue 14; what Keycloak calls admin and user events): every change an
 * administrator makes to a user, a client, a signing key or a revocation, through the admin API or the
 * CLI, and every change a person makes to their own account on the self-service pages, is one event,
 * recorded twice by `recordAudit`, the one writer: a row in the store (migration 007), which outlives
 * the process and the user it names, and one log line `{type: 'audit', action, actor, target, detail}`
 * on the process that made the change. AUDIT_ACTIONS is the one list of actions; the docs and
 * the tests derive from it.
 *
 * No secret can be in an event. The detail of each action is declared here, field by field, as scalars
 * (no object can be copied in whole); the type of `recordAudit` accepts exactly those fields, and at run
 * time anything else is dropped (and logged as the bug it is) before the event is written anywhere.
 * None of the declared fields is, or could hold, a password, a client secret, a token, a TOTP secret, a
 * recovery code or a passkey credential.
 */
import { hostname, userInfo } from 'node:os'
import type { Logger } from '../../observability/logger.ts'
import type { Revocation } from '../../redis/revocation.ts'
import type { AuditQuery, AuditValue, Store, StoredAuditEvent, StoredClient } from '../../storage/store.ts'
import type { KeyEvent } from '../keys/rotation.ts'
import { findUser } from './users.ts'

/** What an event is about. */
export type AuditTargetType = 'user' | 'client' | 'signing_key' | 'revocation' | 'audit'

/** A detail field's type: a scalar, or a scalar that may be null. */
type FieldType = 'string' | 'number' | 'boolean' | 'string|null' | 'number|null'

interface ActionSpec {
  /** The log line's message. */
  readonly message: string
  readonly target: AuditTargetType
  /** What happened, for the docs. */
  readonly text: string
  readonly detail: Readonly<Record<string, FieldType>>
}

/** Every action, in the order the docs list them. */
export const AUDIT_ACTIONS = {
  'user.added': {
    message: 'identity user added',
    target: 'user',
    text: 'a user was added (its password is not recorded)',
    detail: { roles: 'string', disabled: 'boolean' },
  },
  'user.disabled': {
    message: 'identity user disabled',
    target: 'user',
    text: 'a user was disabled',
    detail: {},
  },
  'user.enabled': {
    message: 'identity user enabled',
    target: 'user',
    text: 'a user was enabled',
    detail: {},
  },
  'user.password_changed': {
    message: 'identity user password changed',
    target: 'user',
    text: 'a user’s password was set (neither password is recorded)',
    detail: {},
  },
  'user.unlocked': {
    message: 'identity user unlocked',
    target: 'user',
    text: 'a username’s failed logins and lock were cleared (the id is null for a name no user has)',
    detail: {},
  },
  'user.removed': {
    message: 'identity user removed',
    target: 'user',
    text: 'a user was removed; its trail stays',
    detail: {},
  },
  'user.mfa_reset': {
    message: 'identity factors reset',
    target: 'user',
    text: 'every second factor and recovery code of a user was removed',
    detail: { factors_removed: 'number' },
  },
  'user.mfa_policy_set': {
    message: 'identity user mfa policy set',
    target: 'user',
    text: 'a user’s own second-factor policy was set (null: cleared)',
    detail: { mfa: 'string|null' },
  },
  'user.link_removed': {
    message: 'identity link removed',
    target: 'user',
    text: 'a user’s link to an external provider was removed',
    detail: { provider: 'string', sign_in_left: 'boolean' },
  },
  'user.signed_out': {
    message: 'account signed out everywhere',
    target: 'user',
    text: 'a user was signed out everywhere: sessions, grants and tokens deleted, a subject revocation recorded where possible',
    detail: {
      sessions_ended: 'number|null',
      artefacts_deleted: 'number|null',
      subject_revoked: 'boolean',
      reason: 'string|null',
    },
  },
  'user.profile_changed': {
    message: 'account profile changed',
    target: 'user',
    text: 'a user changed their own profile: `fields` names what changed (`name`, `email`), never the values',
    // Names, not values: the trail outlives the user (kept until pruned), so a value here is personal
    // data no erasure of the account reaches; an investigation needs that, when and whence it changed.
    detail: { fields: 'string' },
  },
  'user.email_verified': {
    message: 'account e-mail verified',
    target: 'user',
    text: 'a user’s e-mail address was verified by the link mailed to it',
    detail: {},
  },
  'user.factor_added': {
    message: 'account factor added',
    target: 'user',
    text: 'a user added a second factor (`kind` passkey or totp) on the account page',
    detail: { kind: 'string', factor_id: 'string' },
  },
  'user.factor_renamed': {
    message: 'account factor renamed',
    target: 'user',
    text: 'a user renamed one of their second factors (the names are not recorded)',
    detail: { kind: 'string', factor_id: 'string' },
  },
  'user.factor_removed': {
    message: 'account factor removed',
    target: 'user',
    text: 'a user removed one of their second factors; with the last one (`factors_left` 0) the recovery codes went too',
    detail: { kind: 'string', factor_id: 'string', factors_left: 'number' },
  },
  'user.recovery_codes_renewed': {
    message: 'account recovery codes renewed',
    target: 'user',
    text: 'a user made new recovery codes, the old ones void (the codes are not recorded)',
    detail: { count: 'number' },
  },
  'user.session_ended': {
    message: 'account sessions ended',
    target: 'user',
    text: 'sessions of a user other than the one acting were ended with the grants only they held: one from the account page’s list (`session` its uid), or every other after a password change (`session` null)',
    detail: { session: 'string|null', sessions_ended: 'number', reason: 'string' },
  },
  'client.added': {
    message: 'identity client added',
    target: 'client',
    text: 'an OAuth client was added (a confidential one’s secret is not recorded)',
    detail: { type: 'string', grant_types: 'string', mfa: 'string|null', first_party: 'boolean' },
  },
  'client.removed': {
    message: 'identity client removed',
    target: 'client',
    text: 'an OAuth client was removed',
    detail: {},
  },
  'signing_key.rotated': {
    message: 'identity provider signing key rotated',
    target: 'signing_key',
    text: 'a signing key of the identity provider became active at once, retiring the one before (one event per algorithm)',
    detail: { alg: 'string', retired: 'string|null' },
  },
  'signing_key.withdrawn': {
    message: 'signing key withdrawn',
    target: 'signing_key',
    text: 'a signing key (the identity provider’s or an internal-token key) was withdrawn at once',
    detail: {
      key_kind: 'string|null',
      was: 'string|null',
      replaced_by: 'string|null',
      revoked: 'boolean',
      reason: 'string|null',
    },
  },
  'revocation.added': {
    message: 'revoked',
    target: 'revocation',
    text: 'a revocation (subject, session, grant, profile, jwks or key) was recorded; the target id is what was revoked',
    detail: { kind: 'string', reason: 'string|null', expires_at: 'number' },
  },
  'audit.pruned': {
    message: 'identity audit trail pruned',
    target: 'audit',
    text: 'the events recorded before a date were deleted (`gatehouse audit prune`)',
    detail: { before: 'number', removed: 'number' },
  },
} as const satisfies Readonly<Record<string, ActionSpec>>

export type AuditAction = keyof typeof AUDIT_ACTIONS

type Scalar<T extends FieldType> = T extends 'string'
  ? string
  : T extends 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'string|null'
        ? string | null
        : number | null

type Declared<A extends AuditAction> = (typeof AUDIT_ACTIONS)[A]['detail']

/**
 * The detail an action takes: exactly its declared fields (an action without any takes `{}` only: an
 * empty object type would take anything).
 */
export type AuditDetailOf<A extends AuditAction> = [keyof Declared<A>] extends [never]
  ? Readonly<Record<string, never>>
  : {
      readonly [K in keyof Declared<A>]: Declared<A>[K] extends FieldType ? Scalar<Declared<A>[K]> : never
    }

/** Where a person changed their own account: the account page (signed in), or a link mailed to them. */
export type SelfServiceChannel = 'account' | 'password-reset' | 'registration' | 'email-verification'

/** Who made a change. */
export type AuditActor =
  | {
      readonly via: 'admin-api'
      /** The client's address as the admin listener saw it (not a forwarded header: it could be forged). */
      readonly address: string | null
      /** The node that took the request: its id this run (`node_id` of the admin API's `GET /`)... */
      readonly node: string
      /** ... and its host. */
      readonly host: string
    }
  | {
      readonly via: 'cli'
      /** The operating-system account that ran the command. */
      readonly os_user: string
      /** Who ran it through sudo (SUDO_USER), when it was. */
      readonly sudo_user: string | null
      readonly host: string
    }
  | {
      /** The person the target names, on their own pages (identity/self-service.ts). */
      readonly via: 'self-service'
      readonly channel: SelfServiceChannel
      /** The client's address as the gateway computed it (forwarded headers only from trusted proxies). */
      readonly address: string
      /** The account page's session that made it: its public uid (not the cookie); null for a link. */
      readonly session: string | null
    }

export interface AuditTarget {
  readonly type: AuditTargetType
  readonly id: string | null
  readonly name: string | null
}

export interface AuditEvent<A extends AuditAction> {
  readonly action: A
  readonly actor: AuditActor
  readonly target: AuditTarget
  readonly detail: AuditDetailOf<A>
}

/** The target of an event about a user. */
export const userTarget = (user: { readonly id: string; readonly username: string }): AuditTarget => ({
  type: 'user',
  id: user.id,
  name: user.username,
})

/** The target of an event about a client. */
export const clientTarget = (client: {
  readonly client_id: string
  readonly client_name: string | null
}): AuditTarget => ({ type: 'client', id: client.client_id, name: client.client_name })

/** What `client.added` records of a client: never its secret nor the secret's hash. */
export function clientDetail(client: StoredClient): AuditDetailOf<'client.added'> {
  return {
    type: client.secret_hash === null ? 'public' : 'confidential',
    grant_types: client.grant_types.join(','),
    mfa: client.mfa,
    first_party: client.first_party,
  }
}

/**
 * The `signing_key.rotated` events of a rotation's key events: one per key made active, naming the key it
 * retired (of the same algorithm).
 */
export function rotations(events: readonly KeyEvent[]): Omit<AuditEvent<'signing_key.rotated'>, 'actor'>[] {
  return events
    .filter((e) => e.event === 'activated')
    .map((e) => ({
      action: 'signing_key.rotated',
      target: { type: 'signing_key', id: e.kid, name: null },
      detail: {
        alg: e.alg,
        retired:
          events
            .filter((r) => r.event === 'retired' && r.alg === e.alg)
            .map((r) => r.kid)
            .join(',') || null,
      },
    }))
}

/** The `revocation.added` event of a revocation just recorded. */
export function revocationAdded(r: Revocation): Omit<AuditEvent<'revocation.added'>, 'actor'> {
  return {
    action: 'revocation.added',
    target: { type: 'revocation', id: r.id, name: null },
    detail: { kind: r.kind, reason: r.reason, expires_at: Math.floor(r.until / 1000) },
  }
}

/** The `signing_key.withdrawn` event of the key `kid`. */
export function keyWithdrawn(
  kid: string,
  detail: AuditDetailOf<'signing_key.withdrawn'>,
): Omit<AuditEvent<'signing_key.withdrawn'>, 'actor'> {
  return { action: 'signing_key.withdrawn', target: { type: 'signing_key', id: kid, name: null }, detail }
}

/** The CLI's actor: this process's operating-system account and host. */
export function cliActor(): AuditActor {
  let osUser: string
  try {
    osUser = userInfo().username
  } catch {
    // A uid without a passwd entry (a container): the number is still who it was.
    osUser = String(process.getuid?.() ?? 'unknown')
  }
  return { via: 'cli', os_user: osUser, sudo_user: process.env.SUDO_USER || null, host: hostname() }
}

const nowSeconds = () => Math.floor(Date.now() / 1000)

/**
 * Writes the event, after the change it tells of succeeded: the log line, then the row (`store` null: a
 * process without the identity provider's store, the line only). Never throws: the change stands even
 * when its row cannot be written, which is logged at warn with the event.
 */
export async function recordAudit<A extends AuditAction>(
  store: Store | null,
  logger: Logger,
  event: AuditEvent<A>,
): Promise<StoredAuditEvent | null> {
  const spec: ActionSpec = AUDIT_ACTIONS[event.action]
  const detail = declaredOnly(spec, event, logger)
  const { action, actor, target } = event
  logger.info({ type: 'audit', action, actor, target, detail }, spec.message)
  if (store === null) return null
  try {
    return await store.audit.record({ at: nowSeconds(), action, actor, target, detail })
  } catch (err) {
    logger.warn(
      { audit: { action, actor, target, detail }, err: (err as Error)?.message ?? String(err) },
      'audit event not recorded in the store',
    )
    return null
  }
}

/** The event's detail with only its action's declared fields, each a scalar (else null). */
function declaredOnly(
  spec: ActionSpec,
  event: AuditEvent<AuditAction>,
  logger: Logger,
): Record<string, AuditValue> {
  const given = event.detail as Readonly<Record<string, unknown>>
  const detail: Record<string, AuditValue> = {}
  for (const field of Object.keys(spec.detail)) {
    const value = given[field]
    detail[field] =
      typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null
  }
  const undeclared = Object.keys(given).filter((k) => !Object.hasOwn(spec.detail, k))
  // Names only: the value of a field nobody declared is exactly what must not be written.
  if (undeclared.length > 0)
    logger.error({ action: event.action, undeclared }, 'audit detail fields not declared were dropped')
  return detail
}

/** Whether `name` is an action (the admin API's and the CLI's `action` filter). */
export function isAuditAction(name: string): name is AuditAction {
  return Object.hasOwn(AUDIT_ACTIONS, name)
}

/**
 * The store query for the events about a target named by `value`: a user as it is now (by id or
 * username: its id), else `value` as a removed user's id or username; a client, key or revocation by id.
 */
export async function targetQuery(
  store: Store,
  type: AuditTargetType,
  value: string,
): Promise<NonNullable<AuditQuery['target']>> {
  if (type !== 'user') return { type, id: value }
  const user = await findUser(store, value)
  return user !== undefined ? { type, id: user.id } : { type, id: value, name: value }
}
