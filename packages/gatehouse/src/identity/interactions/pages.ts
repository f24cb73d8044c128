/** Renders the login and consent pages of an interaction, with its CSRF token. */
import type { Interaction } from 'oidc-provider'
import { clientFacts } from '../client-metadata.ts'
import { allowedScopes } from '../grants.ts'
import { consentPage } from '../views/consent.ts'
import { loginPage } from '../views/login.ts'
import { sendPage } from '../views/page.ts'
import type { InteractionContext, InteractionRequest } from './context.ts'
import { csrfToken } from './csrf.ts'
import { loginPasskeyOffer, passkeyScript } from './passkey.ts'

async function clientOf(c: InteractionContext, interaction: Interaction) {
  const clientId = String(interaction.params['client_id'])
  const client = await c.provider.Client.find(clientId)
  return { client, name: client?.clientName ?? clientId }
}

export async function showLogin(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  status: number,
  state: { username?: string; error?: string } = {},
): Promise<void> {
  const { name } = await clientOf(c, interaction)
  const base = `${c.basePath}/interaction/${interaction.uid}`
  const passkey = await loginPasskeyOffer(c, interaction)
  const page = loginPage({
    action: `${base}/login`,
    abortAction: `${base}/abort`,
    csrf: csrfToken(c.csrfKey, interaction),
    clientName: name,
    username: state.username,
    error: state.error,
    brokers: c.brokers.list().map((b) => ({
      action: `${base}/broker/${b.config.name}`,
      label: b.config.display_name,
    })),
    resetUrl: c.identity.password_reset.enabled ? `${c.basePath}/password-reset` : undefined,
    registerUrl: c.identity.registration.enabled ? `${c.basePath}/register` : undefined,
    passkey,
  })
  sendPage(r.res, status, page.title, page.body, {
    script: passkey !== undefined ? passkeyScript(c) : undefined,
  })
}

export async function showConsent(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
): Promise<void> {
  const { client, name } = await clientOf(c, interaction)
  const details = interaction.prompt.details as {
    missingOIDCScope?: string[]
    missingOIDCClaims?: string[]
    missingResourceScopes?: Record<string, string[]>
  }
  const { allowed } = allowedScopes(details.missingOIDCScope ?? [], client ? clientFacts(client).scopes : [])
  const page = consentPage({
    action: `${c.basePath}/interaction/${interaction.uid}/confirm`,
    csrf: csrfToken(c.csrfKey, interaction),
    clientName: name,
    scopes: allowed,
    claims: details.missingOIDCClaims ?? [],
    resources: details.missingResourceScopes ?? {},
  })
  sendPage(r.res, 200, page.title, page.body)
}
