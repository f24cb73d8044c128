/**
 * The identity provider's part of the admin API's route table (routes.ts): its users, clients, signing
 * keys and audit trail, served while `identity.enabled` (dispatch.ts answers 404 naming the setting otherwise).
 */
import { AUDIT_ACTIONS } from '../identity/manage/audit.ts'
import { newClientBody } from '../identity/manage/clients.ts'
import { mfaBody } from '../identity/manage/factors.ts'
import { newUserBody, passwordBody } from '../identity/manage/users.ts'
import { listAudit } from './identity-audit.ts'
import { addClient, deleteClient, listClients, showClient } from './identity-clients.ts'
import { deleteFactors, listFactors, putUserMfa } from './identity-factors.ts'
import { listProviderKeys, rotateBody, rotateProviderKeys } from './identity-keys.ts'
import { deleteLink, listLinks } from './identity-links.ts'
import { listUserSessions, signOutUser } from './identity-sessions.ts'
import {
  addUser,
  deleteUser,
  enableUser,
  listUsers,
  resetPassword,
  showUser,
  unlockUser,
} from './identity-users.ts'
import type { AdminRoute, JsonSchema } from './route-types.ts'

const TIME: JsonSchema = { type: 'integer', description: 'Unix time, seconds.' }
const STRINGS: JsonSchema = { type: 'array', items: { type: 'string' } }
const SOURCE: JsonSchema = {
  type: 'string',
  enum: ['config', 'cli'],
  description:
    '`config`: written by a load of the configuration file; `cli`: added with `gatehouse users|clients add` or this API.',
}
const READ_ONLY: JsonSchema = {
  type: 'boolean',
  description: 'Declared in the configuration file: changed there, refused here (409).',
}

const USER: JsonSchema = {
  type: 'object',
  description: 'A user of the identity provider: never its password or the password’s hash.',
  properties: {
    id: { type: 'string', description: 'The subject (`sub`) of its tokens.' },
    username: { type: 'string' },
    email: { type: ['string', 'null'] },
    roles: STRINGS,
    claims: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
    disabled: { type: 'boolean' },
    source: SOURCE,
    read_only: READ_ONLY,
    created_at: TIME,
    updated_at: TIME,
  },
  required: ['id', 'username', 'disabled', 'source', 'read_only'],
}

const THROTTLED_USER: JsonSchema = {
  ...USER,
  properties: {
    ...(USER.properties as Record<string, JsonSchema>),
    login_throttle: {
      type: 'object',
      description: 'Recent failed logins of the username and the lock they set, if any (unlock clears both).',
      properties: {
        failures: { type: 'integer', minimum: 0 },
        locked_until: { ...TIME, type: ['integer', 'null'] },
      },
    },
  },
}

const CLIENT: JsonSchema = {
  type: 'object',
  description: 'An OAuth client of the identity provider: never its secret nor the secret’s hash.',
  properties: {
    client_id: { type: 'string' },
    client_name: { type: ['string', 'null'] },
    type: { type: 'string', enum: ['public', 'confidential'] },
    redirect_uris: STRINGS,
    post_logout_redirect_uris: STRINGS,
    grant_types: STRINGS,
    scopes: STRINGS,
    resources: STRINGS,
    first_party: { type: 'boolean' },
    mfa: {
      type: ['string', 'null'],
      enum: ['off', 'optional', 'required', null],
      description: 'The client’s own second-factor policy, or null for none of its own.',
    },
    source: SOURCE,
    read_only: READ_ONLY,
    created_at: TIME,
    updated_at: TIME,
  },
  required: ['client_id', 'type', 'source', 'read_only'],
}

const NEW_CLIENT: JsonSchema = {
  ...CLIENT,
  properties: {
    ...(CLIENT.properties as Record<string, JsonSchema>),
    client_secret: {
      type: 'string',
      description:
        'A confidential client’s secret, shown in this answer only: Gatehouse keeps a keyed hash of it.',
    },
  },
}

const KEY: JsonSchema = {
  type: 'object',
  properties: {
    kid: { type: 'string' },
    alg: { type: 'string' },
    state: { type: 'string', enum: ['next', 'active', 'retired'] },
    created_at: TIME,
    activate_at: TIME,
    retired_at: { ...TIME, type: ['integer', 'null'] },
    delete_after: { ...TIME, type: ['integer', 'null'] },
  },
}

const LINK: JsonSchema = {
  type: 'object',
  description:
    'A link between the user and an identity at an external OpenID Connect provider (`identity.external_providers`): a sign-in with that identity signs in as the user.',
  properties: {
    broker: { type: 'string', description: 'The provider’s configured `name`.' },
    display_name: {
      type: ['string', 'null'],
      description:
        'The provider’s `display_name`; null when it is no longer configured (the link cannot sign in).',
    },
    subject: { type: 'string', description: 'The provider’s `sub` for the person: the link’s key.' },
    email: {
      type: ['string', 'null'],
      description: 'As the provider last sent it; for display, never matched on.',
    },
    username: { type: ['string', 'null'], description: 'The provider’s `preferred_username`; for display.' },
    created_at: TIME,
    last_used_at: { ...TIME, type: ['integer', 'null'] },
  },
  required: ['broker', 'subject', 'created_at'],
}

const LIST_OF = (items: JsonSchema): JsonSchema => ({
  type: 'object',
  properties: { data: { type: 'array', items } },
  required: ['data'],
})

const SESSION: JsonSchema = {
  type: 'object',
  properties: {
    uid: { type: 'string' },
    login_at: { type: ['integer', 'null'] },
    amr: { type: 'array', items: { type: 'string' } },
    clients: { type: 'array', items: { type: 'string' } },
    expires_at: { type: ['integer', 'null'] },
    last_ip: { type: ['string', 'null'] },
    user_agent: { type: ['string', 'null'] },
  },
}

const MFA: JsonSchema = {
  type: ['string', 'null'],
  enum: ['off', 'optional', 'required', null],
  description: 'The user’s own second-factor policy, or null for none of their own.',
}

const FACTORS: JsonSchema = {
  type: 'object',
  description: 'A user’s second factors (never a secret), unused recovery codes, and own mfa policy.',
  properties: {
    data: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          kind: { type: 'string', enum: ['totp', 'passkey'] },
          name: { type: 'string' },
          created_at: TIME,
          last_used_at: { ...TIME, type: ['integer', 'null'] },
          passkey: {
            type: 'object',
            description:
              'A passkey’s credential, `kind` passkey only: never its public key or credential id, a short fingerprint of the id instead.',
            properties: {
              credential: {
                type: 'string',
                description: 'The first 12 hex digits of SHA-256 of the credential id.',
              },
              backed_up: { type: 'boolean', description: 'Synced by its provider (a passkey manager).' },
              transports: { type: 'array', items: { type: 'string' } },
              aaguid: {
                type: 'string',
                description: 'The authenticator model (all zeroes when not attested).',
              },
            },
            required: ['credential', 'backed_up', 'transports', 'aaguid'],
          },
        },
        required: ['id', 'kind', 'name', 'created_at', 'last_used_at'],
      },
    },
    recovery_codes_left: { type: 'integer', minimum: 0 },
    mfa: MFA,
  },
  required: ['data', 'recovery_codes_left', 'mfa'],
}

const AUDIT_EVENT: JsonSchema = {
  type: 'object',
  description:
    'One change an administrator made, through the admin API or the CLI, or a person made to their own account on the self-service pages: never a password, secret, token, one-time code, recovery code or passkey credential.',
  properties: {
    id: { type: 'integer', description: 'Increases with every event recorded: the order of the trail.' },
    at: TIME,
    action: { type: 'string', enum: Object.keys(AUDIT_ACTIONS) },
    actor: {
      type: 'object',
      description:
        '`via` `admin-api`: the client `address` the admin listener saw, and the `node` (its `node_id` that run) and `host` that took the request; `via` `cli`: the operating-system account (`os_user`, `sudo_user` when run through sudo) and `host` that ran the command; `via` `self-service`: the person the target names, on the `channel` `account` (the account page, signed in: `session` is the uid of that session) or through a mailed link (`password-reset`, `registration`, `email-verification`; `session` null), from the client `address` the gateway computed (forwarded headers only from trusted proxies).',
      properties: {
        via: { type: 'string', enum: ['admin-api', 'cli', 'self-service'] },
        channel: {
          type: 'string',
          enum: ['account', 'password-reset', 'registration', 'email-verification'],
        },
        session: { type: ['string', 'null'] },
        address: { type: ['string', 'null'] },
        node: { type: 'string' },
        os_user: { type: 'string' },
        sudo_user: { type: ['string', 'null'] },
        host: { type: 'string' },
      },
      required: ['via'],
    },
    target: {
      type: 'object',
      properties: {
        type: { type: 'string', enum: ['user', 'client', 'signing_key', 'revocation', 'audit'] },
        id: { type: ['string', 'null'], description: 'A user’s id, a client_id, a kid, what was revoked.' },
        name: { type: ['string', 'null'], description: 'A username, a client’s name.' },
      },
      required: ['type', 'id', 'name'],
    },
    detail: {
      type: 'object',
      description: 'The action’s own facts (docs/identity.md lists them), each a scalar.',
      additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
    },
  },
  required: ['id', 'at', 'action', 'actor', 'target', 'detail'],
}

const USER_PARAM = { user: 'The user: its id, or its username.' }
const CLIENT_PARAM = { client: 'The client_id.' }
const TAG_USERS = 'Identity: users'
const TAG_CLIENTS = 'Identity: clients'
const TAG_KEYS = 'Identity: signing keys'
const TAG_AUDIT = 'Identity: audit'

export function identityRoutes(): AdminRoute[] {
  const users = { tag: TAG_USERS, identity: true } as const
  const clients = { tag: TAG_CLIENTS, identity: true } as const
  const changeErrors = ['GH_ERR_ADMIN_MANAGED_BY_CONFIG', 'GH_ERR_STORE_UNAVAILABLE'] as const
  return [
    {
      ...users,
      method: 'GET',
      path: '/identity/users',
      summary: 'The identity provider’s users (never a password hash)',
      responses: { 200: { description: 'The users.', schema: LIST_OF(USER) } },
      errors: ['GH_ERR_STORE_UNAVAILABLE'],
      handle: listUsers,
    },
    {
      ...users,
      method: 'POST',
      path: '/identity/users',
      summary: 'Add a user; the password is hashed with argon2id',
      description:
        'The fields of `identity.users` in the configuration, with the password in clear (at least 12 characters; not the username, the e-mail address or a most common password). A username the configuration file declares is refused with 409 `GH_ERR_ADMIN_MANAGED_BY_CONFIG`; one taken with 409 `GH_ERR_ADMIN_CONFLICT`. Each problem is named in `fields`.',
      body: { schema: newUserBody, name: 'IdentityUserWrite', required: true },
      responses: { 201: { description: 'Added.', schema: USER } },
      errors: ['GH_ERR_ADMIN_BAD_REQUEST', 'GH_ERR_ADMIN_CONFLICT', ...changeErrors],
      handle: addUser,
    },
    {
      ...users,
      method: 'GET',
      path: '/identity/users/{user}',
      summary: 'A user, with its failed logins and lock',
      params: USER_PARAM,
      responses: { 200: { description: 'The user.', schema: THROTTLED_USER } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND', 'GH_ERR_STORE_UNAVAILABLE'],
      handle: showUser,
    },
    {
      ...users,
      method: 'DELETE',
      path: '/identity/users/{user}',
      summary: 'Remove a user',
      params: USER_PARAM,
      responses: { 204: { description: 'Removed.' } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND', ...changeErrors],
      handle: deleteUser,
    },
    {
      ...users,
      method: 'POST',
      path: '/identity/users/{user}/disable',
      summary: 'Disable a user: no sign-in, no token refresh',
      description:
        'Access tokens already issued stay valid until they expire; `POST /revocations` with `{"subject": "<id>"}` ends them too.',
      params: USER_PARAM,
      responses: { 200: { description: 'Disabled; the user now.', schema: USER } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND', ...changeErrors],
      handle: enableUser(false),
    },
    {
      ...users,
      method: 'POST',
      path: '/identity/users/{user}/enable',
      summary: 'Enable a disabled user',
      params: USER_PARAM,
      responses: { 200: { description: 'Enabled; the user now.', schema: USER } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND', ...changeErrors],
      handle: enableUser(true),
    },
    {
      ...users,
      method: 'PUT',
      path: '/identity/users/{user}/password',
      summary: 'Set a user’s password (a reset)',
      params: USER_PARAM,
      body: { schema: passwordBody, name: 'IdentityPasswordWrite', required: true },
      responses: { 200: { description: 'Changed; the user now.', schema: USER } },
      errors: ['GH_ERR_ADMIN_BAD_REQUEST', 'GH_ERR_ADMIN_NOT_FOUND', ...changeErrors],
      handle: resetPassword,
    },
    {
      ...users,
      method: 'POST',
      path: '/identity/users/{user}/unlock',
      summary: 'Clear a username’s failed logins and lock',
      description:
        'For any username, the configuration file’s users and names that do not exist included: failed logins are counted for unknown names too, so a lock does not tell which exist.',
      params: USER_PARAM,
      responses: {
        200: {
          description: 'Whether there was anything to clear.',
          schema: {
            type: 'object',
            properties: {
              username: { type: 'string' },
              cleared: { type: 'boolean' },
              message: { type: 'string' },
            },
          },
        },
      },
      errors: ['GH_ERR_STORE_UNAVAILABLE'],
      handle: unlockUser,
    },
    {
      ...users,
      method: 'GET',
      path: '/identity/users/{user}/links',
      summary: 'A user’s links to external OpenID Connect providers',
      params: USER_PARAM,
      responses: { 200: { description: 'The links, oldest first.', schema: LIST_OF(LINK) } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND', 'GH_ERR_STORE_UNAVAILABLE'],
      handle: listLinks,
    },
    {
      ...users,
      method: 'DELETE',
      path: '/identity/users/{user}/links/{provider}',
      summary: 'Remove a user’s link to an external provider',
      description:
        'That identity no longer signs in as the user; its next sign-in is treated as a first one. Allowed for the configuration file’s users too. A user left with neither a password nor a link cannot sign in until given one (`PUT /identity/users/{user}/password`).',
      params: { ...USER_PARAM, provider: 'The provider’s configured `name`.' },
      responses: { 204: { description: 'Removed.' } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND', 'GH_ERR_STORE_UNAVAILABLE'],
      handle: deleteLink,
    },
    {
      ...users,
      method: 'GET',
      path: '/identity/users/{user}/sessions',
      summary: 'A user’s sessions at the identity provider',
      description:
        'Each session by its public `uid` (never its cookie value), when the person signed in (`login_at`, epoch seconds), how (`amr`), the clients it signed into, when it expires, and the client address and User-Agent it was last used from (null when not recorded).',
      params: USER_PARAM,
      responses: { 200: { description: 'The sessions, oldest first.', schema: LIST_OF(SESSION) } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND', 'GH_ERR_STORE_UNAVAILABLE'],
      handle: listUserSessions,
    },
    {
      ...users,
      method: 'POST',
      path: '/identity/users/{user}/signout',
      summary: 'Sign a user out everywhere',
      description:
        'Deletes every session, grant, code and token of the account, and records a subject revocation, so internal tokens and gateway sessions issued until now end on every node (`POST /revocations` with `{"subject": "<id>"}`). Allowed for the configuration file’s users too: the user itself is unchanged.',
      params: USER_PARAM,
      responses: {
        200: {
          description: 'Signed out.',
          schema: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              username: { type: 'string' },
              sessions_ended: { type: 'integer' },
              artefacts_deleted: { type: 'integer' },
              subject_revoked: { type: 'boolean' },
            },
          },
        },
      },
      errors: ['GH_ERR_ADMIN_NOT_FOUND', 'GH_ERR_IDENTITY_SIGNOUT_INCOMPLETE', 'GH_ERR_STORE_UNAVAILABLE'],
      handle: signOutUser,
    },
    {
      ...users,
      method: 'GET',
      path: '/identity/users/{user}/factors',
      summary: 'A user’s second factors (never a secret) and recovery codes left',
      params: USER_PARAM,
      responses: { 200: { description: 'The factors.', schema: FACTORS } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND', 'GH_ERR_STORE_UNAVAILABLE'],
      handle: listFactors,
    },
    {
      ...users,
      method: 'DELETE',
      path: '/identity/users/{user}/factors',
      summary: 'Remove every second factor and recovery code of a user (a lost device)',
      description:
        'For any user, the configuration file’s too. Where a policy requires a second factor, the user sets one up again at the next sign-in. Sessions already signed in with two factors stay so until they end (`POST /revocations` ends them).',
      params: USER_PARAM,
      responses: {
        200: {
          description: 'Removed; how many factors, and the factors now.',
          schema: {
            ...FACTORS,
            properties: {
              ...(FACTORS.properties as Record<string, JsonSchema>),
              factors_removed: { type: 'integer', minimum: 0 },
            },
          },
        },
      },
      errors: ['GH_ERR_ADMIN_NOT_FOUND', 'GH_ERR_STORE_UNAVAILABLE'],
      handle: deleteFactors,
    },
    {
      ...users,
      method: 'PUT',
      path: '/identity/users/{user}/mfa',
      summary: 'Set a user’s own second-factor policy',
      description:
        'The strictest of the user’s, the client’s `mfa` and `identity.mfa` applies. A user the configuration file declares has the policy the file gives (`identity.users[i].mfa`): refused with 409 `GH_ERR_ADMIN_MANAGED_BY_CONFIG`.',
      params: USER_PARAM,
      body: { schema: mfaBody, name: 'IdentityUserMfaWrite', required: true },
      responses: { 200: { description: 'Set; the factors and policy now.', schema: FACTORS } },
      errors: [
        'GH_ERR_ADMIN_BAD_REQUEST',
        'GH_ERR_ADMIN_NOT_FOUND',
        'GH_ERR_ADMIN_MANAGED_BY_CONFIG',
        'GH_ERR_STORE_UNAVAILABLE',
      ],
      handle: putUserMfa,
    },
    {
      ...clients,
      method: 'GET',
      path: '/identity/clients',
      summary: 'The identity provider’s OAuth clients (never a secret)',
      responses: { 200: { description: 'The clients.', schema: LIST_OF(CLIENT) } },
      errors: ['GH_ERR_STORE_UNAVAILABLE'],
      handle: listClients,
    },
    {
      ...clients,
      method: 'POST',
      path: '/identity/clients',
      summary: 'Add a client; a confidential one’s secret is in this answer only',
      description:
        'The fields of `identity.clients` in the configuration but the secret, checked by the same rules: a confidential client (the default) gets a generated secret, shown once in the 201 answer as `client_secret`; `public: true` makes one without. A client_id the configuration file declares is refused with 409 `GH_ERR_ADMIN_MANAGED_BY_CONFIG`; one taken with 409 `GH_ERR_ADMIN_CONFLICT`.',
      body: { schema: newClientBody, name: 'IdentityClientWrite', required: true },
      responses: { 201: { description: 'Added.', schema: NEW_CLIENT } },
      errors: ['GH_ERR_ADMIN_BAD_REQUEST', 'GH_ERR_ADMIN_CONFLICT', ...changeErrors],
      handle: addClient,
    },
    {
      ...clients,
      method: 'GET',
      path: '/identity/clients/{client}',
      summary: 'A client',
      params: CLIENT_PARAM,
      responses: { 200: { description: 'The client.', schema: CLIENT } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND', 'GH_ERR_STORE_UNAVAILABLE'],
      handle: showClient,
    },
    {
      ...clients,
      method: 'DELETE',
      path: '/identity/clients/{client}',
      summary: 'Remove a client',
      params: CLIENT_PARAM,
      responses: { 204: { description: 'Removed.' } },
      errors: ['GH_ERR_ADMIN_NOT_FOUND', ...changeErrors],
      handle: deleteClient,
    },
    {
      tag: TAG_KEYS,
      identity: true,
      method: 'GET',
      path: '/identity/keys',
      summary: 'The identity provider’s signing keys: kid, alg, state, dates (never key material)',
      description: '`POST /signing-keys/{kid}/revoke` withdraws one at once, on every node.',
      responses: { 200: { description: 'The keys.', schema: LIST_OF(KEY) } },
      errors: ['GH_ERR_STORE_UNAVAILABLE'],
      handle: listProviderKeys,
    },
    {
      tag: TAG_KEYS,
      identity: true,
      method: 'POST',
      path: '/identity/keys/rotate',
      summary: 'Rotate now: the next key signs, the active one is retired',
      description:
        'For every algorithm of `identity.keys.algorithms`, or the body’s `alg`. The new key was not published ahead: verifiers fetch the JWKS again when they first see its kid. This node serves it before answering; the others within a second.',
      body: { schema: rotateBody, name: 'IdentityKeyRotation', required: false },
      responses: {
        201: {
          description: 'Rotated: what changed, and the keys now.',
          schema: {
            type: 'object',
            properties: {
              events: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { kid: { type: 'string' }, alg: { type: 'string' }, event: { type: 'string' } },
                },
              },
              data: { type: 'array', items: KEY },
            },
          },
        },
      },
      errors: ['GH_ERR_ADMIN_BAD_REQUEST', 'GH_ERR_STORE_UNAVAILABLE'],
      handle: rotateProviderKeys,
    },
    {
      tag: TAG_AUDIT,
      identity: true,
      method: 'GET',
      path: '/identity/audit',
      summary: 'The audit trail of identity changes, newest first',
      description:
        'Every change to a user, client, signing key or revocation made through this API or the CLI, on any node sharing the store, kept until pruned (`gatehouse audit prune`). Name at most one of `user`, `client`, `key`, `revocation`. A removed user’s trail stays: name it by its former id or username.',
      query: [
        {
          name: 'user',
          description: 'Events about this user: its id or username (a removed user’s too).',
          schema: { type: 'string' },
        },
        { name: 'client', description: 'Events about this client_id.', schema: { type: 'string' } },
        { name: 'key', description: 'Events about this signing key (kid).', schema: { type: 'string' } },
        {
          name: 'revocation',
          description: 'Revocations of this subject, session, grant, issuer or kid.',
          schema: { type: 'string' },
        },
        {
          name: 'action',
          description: 'Events of this action only.',
          schema: { type: 'string', enum: Object.keys(AUDIT_ACTIONS) },
        },
        {
          name: 'before',
          description: 'Events older than this event id: the previous page’s `next` link carries it.',
          schema: { type: 'integer', minimum: 1 },
        },
        {
          name: 'size',
          description: 'Events per page. Default: 100.',
          schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
        },
      ],
      responses: {
        200: {
          description: 'A page of events, and the link to the next (null on the last page).',
          schema: {
            type: 'object',
            properties: {
              data: { type: 'array', items: AUDIT_EVENT },
              next: { type: ['string', 'null'] },
            },
            required: ['data', 'next'],
          },
        },
      },
      errors: ['GH_ERR_ADMIN_BAD_REQUEST', 'GH_ERR_STORE_UNAVAILABLE'],
      handle: listAudit,
    },
  ]
}
