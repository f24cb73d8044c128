/**
 * The identity provider's OAuth clients in the store, changed the same way whoever asks: `gatehouse
 * clients` (cli/clients.ts) and the admin API (admin/identity-clients.ts), with the schema and rules of
 * `identity.clients`. A confidential client's secret is generated here (32 random bytes), handed back
 * once to the caller, and stored only as a hash keyed by identity.secret. Clients the configuration file
 * declares belong to the file and are refused here.
 */
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import {
  checkClientRules,
  clientSecretKey,
  hashClientSecret,
  type IdentityConfig,
} from '../../config/normalize-identity.ts'
import { identityClient } from '../../config/schema/identity.ts'
import { type Store, StoreConflictError, type StoredClient } from '../../storage/store.ts'
import { type FieldProblem, IdentityChangeRefused, invalid } from './refusal.ts'

/** A client as `identity.clients` takes one (its secret generated, or none for a public client). */
export type NewClient = z.output<typeof identityClient>

/**
 * The body of `POST /identity/clients`: the fields of `identity.clients` but the secret, which is
 * generated and shown once in the answer; `public` for a client without one.
 */
export const newClientBody = identityClient.omit({ client_secret: true }).extend({
  public: z
    .boolean()
    .default(false)
    .describe(
      'A public client (a browser or mobile app): no secret, PKCE alone. Default: false, a confidential client whose generated secret the answer shows once.',
    ),
})

/** A new confidential client's secret: 32 random bytes, the entropy that makes a keyed hash enough. */
export function newClientSecret(): string {
  return randomBytes(32).toString('base64url')
}

/** The problems of a client beyond its schema (its resources are declared APIs, its grants fit). */
export function clientProblems(client: NewClient, identity: IdentityConfig): FieldProblem[] {
  const problems: FieldProblem[] = []
  const indicators = new Set(identity.resources.map((r) => r.indicator))
  checkClientRules(client, indicators, (path, message) => problems.push({ path, message }))
  return problems
}

export function declaredInFile(identity: IdentityConfig, clientId: string): boolean {
  return identity.clients.some((c) => c.client_id === clientId)
}

/** Refuses a new client that breaks a rule, that the file declares, or whose client_id is taken. */
export async function checkClient(store: Store, identity: IdentityConfig, client: NewClient): Promise<void> {
  const problems = clientProblems(client, identity)
  if (problems.length > 0) throw invalid(problems)
  if (declaredInFile(identity, client.client_id)) throw managed(client.client_id)
  if (await store.clients.get(client.client_id))
    throw taken(`client_id '${client.client_id}' is already taken`)
  if (client.client_secret !== undefined && identity.secret === undefined)
    throw new IdentityChangeRefused(
      'unconfigured',
      "identity.secret is not set: a confidential client's secret is stored as a hash keyed by it",
      [],
      'identity.secret',
    )
}

/** Adds a client managed outside the file (source `cli`: the CLI or the admin API); checks again. */
export async function createClient(
  store: Store,
  identity: IdentityConfig,
  client: NewClient,
): Promise<StoredClient> {
  await checkClient(store, identity, client)
  const now = Math.floor(Date.now() / 1000)
  const secret = client.client_secret
  const stored: StoredClient = {
    client_id: client.client_id,
    secret_hash: secret === undefined ? null : hashClientSecret(clientSecretKey(identity.secret!), secret),
    client_name: client.client_name ?? null,
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris,
    grant_types: client.grant_types,
    scopes: client.scopes,
    resources: client.resources,
    first_party: client.first_party,
    mfa: client.mfa ?? null,
    source: 'cli',
    created_at: now,
    updated_at: now,
  }
  try {
    await store.clients.insert(stored)
  } catch (err) {
    if (err instanceof StoreConflictError) throw taken(`client_id '${client.client_id}' is already taken`)
    throw err
  }
  return stored
}

/** The client that may be changed here: refused when there is none or the file manages it. */
export async function changeableClient(
  store: Store,
  identity: IdentityConfig,
  clientId: string,
): Promise<StoredClient> {
  // The file decides, whether or not a load of it has written the client to the store yet.
  if (declaredInFile(identity, clientId)) throw managed(clientId)
  const client = await store.clients.get(clientId)
  if (client === undefined) throw new IdentityChangeRefused('not_found', `no client '${clientId}'`)
  if (client.source === 'config') throw managed(clientId)
  return client
}

export async function removeClient(store: Store, client: StoredClient): Promise<void> {
  await store.clients.remove(client.client_id)
}

/** A client as the admin API shows it: never its secret nor the secret's hash. */
export function presentClient(client: StoredClient, identity: IdentityConfig): Record<string, unknown> {
  return {
    client_id: client.client_id,
    client_name: client.client_name,
    type: client.secret_hash === null ? 'public' : 'confidential',
    redirect_uris: client.redirect_uris,
    post_logout_redirect_uris: client.post_logout_redirect_uris,
    grant_types: client.grant_types,
    scopes: client.scopes,
    resources: client.resources,
    first_party: client.first_party,
    mfa: client.mfa,
    source: client.source,
    read_only: client.source === 'config' || declaredInFile(identity, client.client_id),
    created_at: client.created_at,
    updated_at: client.updated_at,
  }
}

function managed(clientId: string): IdentityChangeRefused {
  const what = `client '${clientId}'`
  return new IdentityChangeRefused(
    'managed',
    `${what} is declared in the configuration file (identity.clients); change it there`,
    [],
    what,
  )
}

function taken(message: string): IdentityChangeRefused {
  return new IdentityChangeRefused('taken', message, [{ path: 'client_id', message: 'is already taken' }])
}
