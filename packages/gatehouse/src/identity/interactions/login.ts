/**
 * The sign-in form's submission. Every failure (unknown user, wrong password, disabled user, locked
 * account or address) gets the same answer, "Invalid username or password", and costs the same
 * (password-check.ts: bounds, decoy hash, throttle, logging with a stable reason and never the
 * password). The account's failure count is cleared once the whole sign-in succeeds (second-factor.ts).
 */
import type { Interaction } from 'oidc-provider'
import type { InteractionContext, InteractionRequest } from './context.ts'
import { showLogin } from './pages.ts'
import {
  checkPassword,
  INVALID_CREDENTIALS,
  MAX_IDENTIFIER,
  MISSING_CREDENTIALS,
  sendBusy,
} from './password-check.ts'
import { continueSignIn, PASSWORD } from './second-factor.ts'

export async function submitLogin(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  form: URLSearchParams,
): Promise<void> {
  const identifier = (form.get('username') ?? '').trim()
  const clientId = interaction.params['client_id']
  const verdict = await checkPassword(c, {
    account: { identifier },
    password: form.get('password') ?? '',
    clientIp: r.clientIp,
    audit: { message: 'login failed', fields: { client_id: clientId } },
  })
  if (verdict.ok) {
    c.logger.info({ user_id: verdict.user.id, client_id: clientId, ip: r.clientIp }, 'password accepted')
    return continueSignIn(c, r, interaction, verdict.user, PASSWORD)
  }
  if (verdict.reason === 'bounds')
    return showLogin(c, r, interaction, 400, {
      username: identifier.slice(0, MAX_IDENTIFIER),
      error: MISSING_CREDENTIALS,
    })
  if (verdict.reason === 'busy') return sendBusy(r.res)
  // 200, not 401: a 401 must carry a WWW-Authenticate challenge (RFC 9110 §15.5.2), and a form has none.
  return showLogin(c, r, interaction, 200, { username: identifier, error: INVALID_CREDENTIALS })
}
