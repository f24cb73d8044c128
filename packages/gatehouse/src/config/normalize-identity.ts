/**
 * The identity section's rules that span keys (an enabled provider needs an issuer and a secret; a
 * client's resources must be declared APIs; a public client cannot use client_credentials; usernames,
 * e-mails and client ids are unique), and its secrets turned into what is stored: user passwords into
 * argon2id hashes, client secrets into keyed SHA-256 hashes. Client secrets are high-entropy random
 * strings (≥ 32 characters), so a fast keyed hash is enough and keeps token requests cheap; a memory-hard
 * hash is for what humans choose.
 */
import { createHmac, hkdfSync } from 'node:crypto'
import type { z } from 'zod'
import { hashPasswordOnce, looksHashed, parsePhc } from '../crypto/argon2id.ts'
import { checkExternalProviders } from './schema/external-providers.ts'
import type { identityClient, identitySettings } from './schema/identity.ts'
import { checkSelfService } from './schema/identity-self-service-rules.ts'

type RawIdentity = z.output<typeof identitySettings>

export interface IdentityUserSeed {
  /** The subject the file fixes, or null for a random one at first start. */
  readonly id: string | null
  readonly username: string
  readonly email: string | null
  /** argon2id PHC string. */
  readonly password_hash: string
  readonly roles: readonly string[]
  readonly claims: Readonly<Record<string, string | number | boolean>>
  readonly disabled: boolean
  /** The user's own second-factor policy, or null: none of their own (a stored one is cleared at load). */
  readonly mfa: 'off' | 'optional' | 'required' | null
}

export interface IdentityClientSeed {
  readonly client_id: string
  /** `hmac-sha256$<base64>` of the secret, or null for a public client. */
  readonly secret_hash: string | null
  readonly client_name: string | null
  readonly redirect_uris: readonly string[]
  readonly post_logout_redirect_uris: readonly string[]
  readonly grant_types: readonly string[]
  readonly scopes: readonly string[]
  readonly resources: readonly string[]
  readonly first_party: boolean
  /** The client's own second-factor policy, or null. */
  readonly mfa: 'off' | 'optional' | 'required' | null
}

export type IdentityConfig = Omit<RawIdentity, 'users' | 'clients'> & {
  readonly users: readonly IdentityUserSeed[]
  readonly clients: readonly IdentityClientSeed[]
}

const MIN_PASSWORD = 12

/** The key of client-secret hashes, derived from identity.secret (RFC 5869). */
export function clientSecretKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'gatehouse', 'client secrets', 32))
}

export function hashClientSecret(key: Buffer, secret: string): string {
  return `hmac-sha256$${createHmac('sha256', key).update(secret).digest('base64')}`
}

/**
 * A client's rules beyond its schema, shared with `gatehouse clients add`: its resources are declared
 * APIs (`indicators`), and its grants fit together. Issue paths are relative to the client (`resources[0]`).
 */
export function checkClientRules(
  c: Pick<z.output<typeof identityClient>, 'resources' | 'grant_types' | 'redirect_uris' | 'client_secret'>,
  indicators: ReadonlySet<string>,
  issue: (path: string, message: string) => void,
): void {
  for (const [k, r] of c.resources.entries())
    if (!indicators.has(r)) issue(`resources[${k}]`, `no resource '${r}' in identity.resources`)
  if (c.grant_types.includes('authorization_code') && c.redirect_uris.length === 0)
    issue('redirect_uris', 'at least one is required for the authorization_code grant')
  if (c.grant_types.includes('client_credentials') && c.client_secret === undefined)
    issue(
      'client_secret',
      'is required for the client_credentials grant (a public client cannot keep a secret)',
    )
  if (c.grant_types.includes('refresh_token') && !c.grant_types.includes('authorization_code'))
    issue('grant_types', 'refresh_token needs authorization_code')
}

export function normalizeIdentity(
  raw: RawIdentity,
  issue: (path: string, message: string) => void,
): IdentityConfig {
  const at = 'identity'
  if (raw.enabled) {
    if (raw.issuer === undefined) issue(`${at}.issuer`, 'is required when the identity provider is enabled')
    if (raw.secret === undefined)
      issue(
        `${at}.secret`,
        'is required when the identity provider is enabled; use {vault://env/GATEHOUSE_IDENTITY_SECRET}',
      )
  }
  checkSelfService(raw, issue)
  if (raw.issuer !== undefined && new URL(raw.issuer).protocol === 'http:') {
    const host = new URL(raw.issuer).hostname
    if (!['localhost', '127.0.0.1', '[::1]'].includes(host))
      issue(`${at}.issuer`, 'must be https unless the host is localhost or a loopback address')
  }

  const indicators = new Set<string>()
  for (const [i, r] of raw.resources.entries()) {
    if (indicators.has(r.indicator))
      issue(`${at}.resources[${i}].indicator`, `duplicate resource '${r.indicator}'`)
    indicators.add(r.indicator)
  }

  const key = raw.secret !== undefined ? clientSecretKey(raw.secret) : null
  const clientIds = new Set<string>()
  const clients = raw.clients.map((c, i): IdentityClientSeed => {
    const p = `${at}.clients[${i}]`
    if (clientIds.has(c.client_id)) issue(`${p}.client_id`, `duplicate client_id '${c.client_id}'`)
    clientIds.add(c.client_id)
    checkClientRules(c, indicators, (path, message) => issue(`${p}.${path}`, message))
    return {
      client_id: c.client_id,
      secret_hash:
        c.client_secret !== undefined && key !== null ? hashClientSecret(key, c.client_secret) : null,
      client_name: c.client_name ?? null,
      redirect_uris: c.redirect_uris,
      post_logout_redirect_uris: c.post_logout_redirect_uris,
      grant_types: c.grant_types,
      scopes: c.scopes,
      resources: c.resources,
      first_party: c.first_party,
      mfa: c.mfa ?? null,
    }
  })

  const usernames = new Set<string>()
  const emails = new Set<string>()
  const ids = new Set<string>()
  const users = raw.users.map((u, i): IdentityUserSeed => {
    const p = `${at}.users[${i}]`
    if (usernames.has(u.username.toLowerCase())) issue(`${p}.username`, `duplicate username '${u.username}'`)
    usernames.add(u.username.toLowerCase())
    if (u.email !== undefined) {
      if (emails.has(u.email.toLowerCase())) issue(`${p}.email`, 'duplicate e-mail address')
      emails.add(u.email.toLowerCase())
    }
    let password_hash = ''
    if (looksHashed(u.password)) {
      const parsed = parsePhc(u.password)
      if (typeof parsed === 'string') issue(`${p}.password`, parsed)
      else password_hash = u.password
    } else if (u.password.length < MIN_PASSWORD) {
      issue(`${p}.password`, `must be at least ${MIN_PASSWORD} characters`)
    } else {
      password_hash = hashPasswordOnce(`identity-user\0${u.username}`, u.password)
    }
    if (u.id !== undefined) {
      if (ids.has(u.id)) issue(`${p}.id`, `duplicate id '${u.id}'`)
      ids.add(u.id)
    }
    return {
      id: u.id ?? null,
      username: u.username,
      email: u.email ?? null,
      password_hash,
      roles: u.roles,
      claims: u.claims,
      disabled: u.disabled,
      mfa: u.mfa ?? null,
    }
  })

  checkExternalProviders(raw.external_providers, issue)

  const { users: _u, clients: _c, ...rest } = raw
  return { ...rest, users, clients }
}
