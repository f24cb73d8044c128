/**
 * The one way a brokered sign-in ends: the local user is signed in to the interaction with the amr/acr
 * the external sign-in earned (amr.ts). A brokered sign-in is a first factor: the second-factor step
 * (issue 14, mfa policy) belongs here, before `interactionFinished`, so a user with `mfa: required` is
 * asked for it whichever way the first factor was proved. The `_gh_broker` cookie is cleared with it.
 */
import type { Interaction } from 'oidc-provider'
import type { StoredUser } from '../../storage/store.ts'
import type { InteractionContext, InteractionRequest } from '../interactions/context.ts'
import { brokeredAuthentication } from './amr.ts'
import type { ExternalProviderClient } from './client.ts'
import { type BrokerResult, consumeResult, setCookie } from './transaction.ts'

export async function completeBrokeredSignIn(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  signIn: { user: StoredUser; provider: ExternalProviderClient; result: BrokerResult; resultId: string },
): Promise<void> {
  const { user, provider, result } = signIn
  await consumeResult(c.store.oidc, signIn.resultId)
  const now = Math.floor(Date.now() / 1000)
  await c.store.links.touch(
    provider.config.name,
    result.identity.subject,
    { email: result.identity.email, username: result.identity.username },
    now,
  )
  const { amr, acr } = brokeredAuthentication(provider.config, result.identity.amr)
  c.logger.info(
    {
      user_id: user.id,
      broker: provider.config.name,
      client_id: interaction.params['client_id'],
      ip: r.clientIp,
      amr,
      acr,
    },
    'login succeeded',
  )
  r.res.appendHeader('set-cookie', setCookie(null, c.brokers.cookie))
  await c.provider.interactionFinished(
    r.req,
    r.res,
    { login: { accountId: user.id, amr, acr } },
    { mergeWithLastSubmission: false },
  )
}
