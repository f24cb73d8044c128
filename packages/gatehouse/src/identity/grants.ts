/**
 * What a consent grants. Only what the client is allowed to ask for: OpenID scopes outside its
 * `scopes` are recorded as rejected (oidc-provider then neither asks again nor issues them; its own
 * allow-list cannot express "none"), API scopes were already narrowed to the client's by resources.ts.
 * First-party clients get the same grant without a page (`loadExistingGrant`).
 */
import type { Grant, KoaContextWithOIDC } from 'oidc-provider'
import { clientFacts } from './client-metadata.ts'

export interface Requested {
  readonly scopes: readonly string[]
  readonly claims: readonly string[]
  /** indicator → API scopes */
  readonly resources: Readonly<Record<string, readonly string[]>>
}

/** Splits requested OpenID scopes into those the client may have and those it may not. */
export function allowedScopes(
  requested: readonly string[],
  clientScopes: readonly string[],
): { allowed: string[]; refused: string[] } {
  const mine = new Set(clientScopes)
  return {
    allowed: requested.filter((s) => mine.has(s)),
    refused: requested.filter((s) => !mine.has(s)),
  }
}

export function applyConsent(grant: Grant, requested: Requested, clientScopes: readonly string[]): void {
  const { allowed, refused } = allowedScopes(requested.scopes, clientScopes)
  if (allowed.length > 0) grant.addOIDCScope(allowed)
  if (refused.length > 0) grant.rejectOIDCScope(refused)
  if (requested.claims.length > 0) grant.addOIDCClaims([...requested.claims])
  for (const [indicator, scopes] of Object.entries(requested.resources))
    if (scopes.length > 0) grant.addResourceScope(indicator, [...scopes])
}

/**
 * oidc-provider's `loadExistingGrant`: the session's grant for this client, as by default; for a
 * first-party client, that grant (or a new one) extended with everything requested, so no consent
 * prompt ever shows.
 */
export async function loadExistingGrant(ctx: KoaContextWithOIDC): Promise<Grant | undefined> {
  const { oidc } = ctx
  const client = oidc.client!
  const grantId = oidc.result?.consent?.grantId ?? oidc.session!.grantIdFor(client.clientId)
  const existing = grantId !== undefined ? await oidc.provider.Grant.find(grantId) : undefined
  const facts = clientFacts(client)
  if (!facts.firstParty || oidc.account === undefined) return existing
  const grant =
    existing ?? new oidc.provider.Grant({ clientId: client.clientId, accountId: oidc.account.accountId })
  const resources: Record<string, string[]> = {}
  for (const [indicator, server] of Object.entries(oidc.resourceServers ?? {}))
    resources[indicator] = [...oidc.requestParamScopes].filter((s) => server.scopes.has(s))
  applyConsent(
    grant,
    { scopes: [...oidc.requestParamOIDCScopes], claims: [...oidc.requestParamClaims], resources },
    facts.scopes,
  )
  await grant.save()
  return grant
}
