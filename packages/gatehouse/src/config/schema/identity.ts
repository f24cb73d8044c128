/**
 * The `identity` section: Gatehouse's built-in OAuth 2.0 / OpenID Connect provider (oidc-provider as the
 * protocol engine). Everything a deployment chooses is here; everything security depends on has a safe
 * default (short token lifetimes, PKCE for every client, JWT access tokens scoped to one resource). The
 * users and clients listed here are seeded into the store at load; the CLI manages others.
 */
import { z } from 'zod'
import { externalProviders } from './external-providers.ts'
import {
  identityAccount,
  identityEmail,
  identityPasswordReset,
  identityRegistration,
} from './identity-self-service.ts'
import { name } from './typedefs.ts'

const seconds = (max: number) => z.int().min(1).max(max)

/** An absolute http(s) URL without fragment; http only for loopback hosts (RFC 8252 §7.3, RFC 9700 §2.1). */
const redirectUri = z
  .url({ protocol: /^(https?|[a-z][a-z0-9+.-]*)$/, error: 'expected an absolute URL' })
  .refine((u) => !u.includes('#'), { error: 'must not contain a fragment (RFC 6749 §3.1.2)' })
  .refine(
    (u) => {
      const url = new URL(u)
      if (url.protocol !== 'http:') return true
      return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
    },
    { error: 'http is only allowed for loopback hosts (localhost, 127.0.0.1, [::1]); use https' },
  )

const scopeToken = z
  .string()
  .regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { error: 'expected a scope token (RFC 6749 §3.3)' })

export const resourceServer = z.strictObject({
  indicator: z
    .url({ error: 'expected an absolute URL (RFC 8707 resource indicator)' })
    .describe(
      "The API's resource indicator (RFC 8707): the `aud` of its access tokens, e.g. `https://api.shop.example`.",
    ),
  scopes: z
    .array(scopeToken)
    .default([])
    .describe('Scopes this API understands, e.g. `orders:read`. Default: none (identity only).'),
  access_token_ttl: seconds(86_400)
    .optional()
    .describe('Lifetime of its access tokens, in seconds. Default: `identity.ttl.access_token`.'),
  claims: z
    .array(z.string().min(1))
    .default(['roles'])
    .describe(
      "User claims copied into its access tokens (from the user's `roles` and profile `claims`), e.g. `[roles, country, customer_type]`. Default: `[roles]`.",
    ),
})

/** A second-factor policy: the strictest of the provider's, the client's and the user's applies. */
export const mfaPolicy = z.enum(['off', 'optional', 'required'])

export const identityClient = z.strictObject({
  client_id: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{1,128}$/, { error: 'must be 1-128 characters of letters, digits and . _ ~ -' })
    .describe('The client identifier.'),
  client_secret: z
    .string()
    .min(32, { error: 'must be at least 32 characters (generate one: openssl rand -hex 32)' })
    // RFC 6749 §2.3.1 wants the secret form-encoded inside HTTP Basic, which many clients skip: with
    // only unreserved characters both readings agree.
    .regex(/^[A-Za-z0-9._~-]+$/, {
      error:
        'must use only letters, digits and . _ ~ - (e.g. openssl rand -hex 32), so HTTP Basic needs no encoding',
    })
    .optional()
    .describe(
      'Secret of a confidential client (use `{vault://env/NAME}`); stored only as a keyed hash. Omit for a public client (browser or mobile app), which then authenticates with PKCE alone.',
    ),
  client_name: z
    .string()
    .max(200)
    .optional()
    .describe('Name shown on the consent page. Default: the client_id.'),
  redirect_uris: z
    .array(redirectUri)
    .default([])
    .describe(
      'Where authorization responses may go, compared exactly (RFC 9700 §2.1). Required for authorization_code.',
    ),
  post_logout_redirect_uris: z
    .array(redirectUri)
    .default([])
    .describe('Where RP-initiated logout may send the browser back to. Default: none.'),
  grant_types: z
    .array(z.enum(['authorization_code', 'refresh_token', 'client_credentials']))
    .min(1)
    .default(['authorization_code', 'refresh_token'])
    .describe(
      'Grants the client may use. The implicit and password grants are not offered (RFC 9700 §2.1.2, §2.4). Default: `[authorization_code, refresh_token]`.',
    ),
  scopes: z
    .array(scopeToken)
    .default(['openid', 'profile', 'email', 'offline_access'])
    .describe('Scopes the client may ask for. Default: `[openid, profile, email, offline_access]`.'),
  resources: z
    .array(z.url())
    .default([])
    .describe(
      'Resource indicators (from `identity.resources`) the client may get access tokens for. Default: none.',
    ),
  first_party: z
    .boolean()
    .default(false)
    .describe('Skip the consent page for this client (your own applications). Default: false.'),
  mfa: mfaPolicy
    .optional()
    .describe(
      "Second factor for sign-ins to this client: `off`, `optional` (asked when the user has one) or `required` (a user without one enrols while signing in). The strictest of this, the user's own and `identity.mfa` applies. Default: none of its own.",
    ),
})

export const identityUser = z.strictObject({
  id: z
    .string()
    .regex(/^[A-Za-z0-9._~-]{1,64}$/, { error: 'must be 1-64 characters of letters, digits and . _ ~ -' })
    .optional()
    .describe(
      "The user's subject (`sub`), fixed, e.g. for a user-info service that knows its users by id. It cannot change once the user exists. Default: a random UUID at first start.",
    ),
  username: z
    .string()
    .regex(/^[A-Za-z0-9._@+-]{1,64}$/, { error: 'must be 1-64 characters of letters, digits and . _ @ + -' })
    .describe('Login name, unique.'),
  email: z.email().optional().describe('E-mail address (the `email` claim), unique when set.'),
  password: z
    .string()
    .describe(
      'The password (use `{vault://env/NAME}`), hashed with argon2id at load; or an `$argon2id$` hash. At least 12 characters.',
    ),
  roles: z.array(name).default([]).describe('Roles, sent to APIs in the `roles` claim. Default: none.'),
  claims: z
    .record(
      z.string().regex(/^[a-z][a-z0-9_]*$/, { error: 'claim names are lower_snake_case' }),
      z.union([z.string(), z.number(), z.boolean()]),
    )
    .default({})
    .describe('Profile claims, e.g. `{ name: Alice, country: GB, customer_type: premium }`. Default: none.'),
  disabled: z
    .boolean()
    .default(false)
    .describe('A disabled user cannot log in or refresh tokens. Default: false.'),
  mfa: mfaPolicy
    .optional()
    .describe(
      "The user's own second-factor policy: `off`, `optional` (asked when the user has one) or `required` (the user enrols while signing in if they have none). The strictest of this, the client's `mfa` and `identity.mfa` applies. The file decides it for the users it declares (a load without the key clears it; the admin API and `gatehouse users mfa set` refuse to change it). Default: none of their own.",
    ),
})

export const identitySettings = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Run the built-in identity provider. Default: false.'),
    issuer: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
      .refine((u) => !u.includes('?') && !u.includes('#') && !u.endsWith('/'), {
        error: 'must have no query, fragment or trailing slash',
      })
      .optional()
      .describe(
        "The provider's issuer URL, e.g. `https://id.shop.example` or `http://localhost:8000/auth`. Its endpoints are served on the proxy listener under the issuer's path. Required when enabled.",
      ),
    secret: z
      .string()
      .min(32, { error: 'must be at least 32 characters (openssl rand -base64 32)' })
      .optional()
      .describe(
        'Root secret (use `{vault://env/GATEHOUSE_IDENTITY_SECRET}`): encrypts signing keys at rest, signs cookies, keys the client-secret hashes. Changing it makes stored keys unreadable. Required when enabled.',
      ),
    ttl: z
      .strictObject({
        access_token: seconds(86_400).default(300).describe('Access tokens, seconds. Default: 300.'),
        refresh_token: seconds(31_536_000)
          .default(1_209_600)
          .describe(
            'Refresh tokens (sliding: each rotation starts a new period), seconds. Default: 1209600 (14 days).',
          ),
        authorization_code: seconds(600).default(60).describe('Authorization codes, seconds. Default: 60.'),
        id_token: seconds(86_400).default(3600).describe('ID tokens, seconds. Default: 3600.'),
        client_credentials: seconds(86_400)
          .default(300)
          .describe('client_credentials access tokens, seconds. Default: 300.'),
        session: seconds(31_536_000)
          .default(1_209_600)
          .describe('Login sessions, seconds. Default: 1209600.'),
        interaction: seconds(86_400)
          .default(3600)
          .describe('A login or consent in progress, seconds. Default: 3600.'),
        grant: seconds(31_536_000)
          .default(1_209_600)
          .describe("A user's grant to a client, seconds. Default: 1209600."),
      })
      .prefault({})
      .describe('Token and session lifetimes, all in seconds.'),
    keys: z
      .strictObject({
        algorithms: z
          .array(z.enum(['ES256', 'RS256', 'EdDSA', 'PS256']))
          .min(1)
          .default(['ES256', 'RS256'])
          .describe(
            'Signing algorithms; the first signs access and ID tokens by default, the others serve clients that ask for them. Default: `[ES256, RS256]`.',
          ),
        rotation_interval: seconds(31_536_000)
          .default(7_776_000)
          .describe('Seconds between automatic key rotations. Default: 7776000 (90 days).'),
        publish_ahead: seconds(2_592_000)
          .default(86_400)
          .describe(
            'Seconds a new key is published in the JWKS before it signs, so verifiers have it cached. Default: 86400.',
          ),
      })
      .prefault({})
      .describe('Signing keys: generated, encrypted at rest with `identity.secret`, rotated on schedule.'),
    login: z
      .strictObject({
        max_failures: z
          .int()
          .min(1)
          .max(100)
          .default(5)
          .describe('Failed logins per account (or per IP ×4) before it is locked. Default: 5.'),
        lockout: seconds(86_400).default(900).describe('How long a lock lasts, seconds. Default: 900.'),
        backoff: z
          .int()
          .min(0)
          .max(10_000)
          .default(250)
          .describe(
            'Milliseconds added to the answer per recent failure (up to 5 s), slowing guessing. Default: 250.',
          ),
      })
      .prefault({})
      .describe('Brute-force protection of the login page. `gatehouse users unlock` clears a lock.'),
    mfa: mfaPolicy
      .default('optional')
      .describe(
        "Second factor (one-time codes) for every sign-in, unless a client or user asks for more: `off` (never asked unless a client requests `acr_values` urn:gatehouse:acr:2fa), `optional` (asked when the user has one; a user may enrol when a client asks for it) or `required` (a user without one enrols while signing in). The strictest of this, the client's `mfa` and the user's applies. Default: optional.",
      ),
    resources: z
      .array(resourceServer)
      .default([])
      .describe('APIs (resource servers) access tokens can be issued for.'),
    clients: z
      .array(identityClient)
      .default([])
      .describe('Clients seeded into the store at load (others: `gatehouse clients add`).'),
    users: z
      .array(identityUser)
      .default([])
      .describe('Users seeded into the store at load (others: `gatehouse users add`).'),
    external_providers: externalProviders,
    account: identityAccount,
    email: identityEmail,
    registration: identityRegistration,
    password_reset: identityPasswordReset,
  })
  .prefault({})
  .describe('The built-in OAuth 2.0 / OpenID Connect identity provider.')
