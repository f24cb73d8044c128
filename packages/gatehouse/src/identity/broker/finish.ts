/**
 * The one way a brokered sign-in ends. A brokered sign-in is a first factor, like a password: the link is
 * touched, and the rest is the sign-in form's own path (interactions/second-factor.ts `continueSignIn`),
 * so the mfa policy (the strictest of provider, client and user) asks for the second factor, enrols one
 * or refuses exactly as after a password, and a code after it makes the sign-in two factors (`otp`,
 * `mfa`, urn:gatehouse:acr:2fa) whatever the provider's amr said. The `_gh_broker` cookie is cleared here.
 */
import type { Interaction } from 'oidc-provider'
import type { StoredUser } from '../../storage/store.ts'
import type { InteractionContext, InteractionRequest } from '../interactions/context.ts'
import { continueSignIn } from '../interactions/second-factor.ts'
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
  const first = brokeredAuthentication(provider.config, result.identity.amr)
  c.logger.info(
    {
      user_id: user.id,
      broker: provider.config.name,
      client_id: interaction.params['client_id'],
      ip: r.clientIp,
      amr: first.amr,
      acr: first.acr,
    },
    'external sign-in accepted',
  )
  r.res.appendHeader('set-cookie', setCookie(null, c.brokers.cookie))
  await continueSignIn(c, r, interaction, user, first)
}
