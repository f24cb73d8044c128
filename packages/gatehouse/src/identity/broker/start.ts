/**
 * POST /interaction/:uid/broker/:name (the login page's "Sign in with ..." button; a form with the
 * interaction's CSRF token, so another site cannot start it): a new state, nonce and PKCE verifier
 * (S256), kept server-side for this interaction (transaction.ts), and the browser sent to the provider.
 */

import type { Interaction } from 'oidc-provider'
import * as client from 'openid-client'
import type { InteractionContext, InteractionRequest } from '../interactions/context.ts'
import { brokerProblemPage } from '../views/link-account.ts'
import { sendPage } from '../views/page.ts'
import { UpstreamError } from './client.ts'
import { saveStarted, setCookie } from './transaction.ts'

export async function startBrokeredSignIn(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  name: string,
): Promise<void> {
  const back = `${c.basePath}/interaction/${interaction.uid}`
  const provider = c.brokers.get(name)
  if (provider === undefined) {
    const page = brokerProblemPage('Sign-in not available', 'There is no such way to sign in here.', back)
    return sendPage(r.res, 404, page.title, page.body)
  }
  const checks = {
    expectedState: client.randomState(),
    expectedNonce: client.randomNonce(),
    pkceCodeVerifier: client.randomPKCECodeVerifier(),
  }
  let url: URL
  try {
    url = await provider.authorizationUrl(checks)
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err
    c.logger.warn({ broker: name, reason: err.reason }, 'external sign-in cannot start')
    const page = brokerProblemPage(
      'Sign-in not available',
      `Signing in with ${provider.config.display_name} is not possible right now. Try again later, or sign in another way.`,
      back,
    )
    return sendPage(r.res, 502, page.title, page.body)
  }
  const id = await saveStarted(c.store.oidc, {
    uid: interaction.uid,
    broker: name,
    state: checks.expectedState,
    nonce: checks.expectedNonce,
    verifier: checks.pkceCodeVerifier,
  })
  c.logger.info(
    { broker: name, client_id: interaction.params['client_id'], ip: r.clientIp },
    'external sign-in started',
  )
  r.res
    .writeHead(303, {
      location: url.href,
      'cache-control': 'no-store',
      'set-cookie': setCookie(id, c.brokers.cookie),
    })
    .end()
}
