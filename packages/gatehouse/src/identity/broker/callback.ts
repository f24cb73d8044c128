/**
 * GET <issuer>/broker/callback, where every external provider sends the browser back. The started
 * sign-in named by the `_gh_broker` cookie is consumed first (a replayed callback finds it used), the
 * `state` must be its own, the provider's error is shown for what it is, and the code is exchanged with
 * the PKCE verifier and the ID token checked (client.ts). The identity then waits server-side for its
 * interaction (transaction.ts) and the browser goes back to `/interaction/:uid/broker`, where its
 * interaction cookie is sent again. Every failure is a page saying what happened, 4xx (or 502 when the
 * provider could not be reached), never a 500 and never a sign-in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { InteractionContext } from '../interactions/context.ts'
import { brokerProblemPage } from '../views/link-account.ts'
import { sendPage } from '../views/page.ts'
import { safeCode, UpstreamError } from './client.ts'
import { cookieId, saveResult, setCookie, takeStarted } from './transaction.ts'

export async function handleBrokerCallback(
  c: InteractionContext,
  req: IncomingMessage,
  res: ServerResponse,
  query: string,
  clientIp: string,
): Promise<void> {
  // GET only: the callback uses up the sign-in, which a HEAD (a link checker, a prefetch) must not.
  if (req.method !== 'GET') {
    res.setHeader('allow', 'GET')
    return problem(405, 'Not allowed', 'This page cannot be used that way.', null)
  }
  const id = cookieId(req)
  const started = id !== null ? await takeStarted(c.store.oidc, id) : null
  function problem(status: number, heading: string, message: string, uid: string | null, log?: object) {
    if (log !== undefined) c.logger.info({ ip: clientIp, ...log }, 'external sign-in failed')
    const page = brokerProblemPage(heading, message, uid !== null ? `${c.basePath}/interaction/${uid}` : null)
    res.setHeader('set-cookie', setCookie(null, c.brokers.cookie))
    sendPage(res, status, page.title, page.body)
  }
  if (started === null)
    return problem(
      400,
      'Sign-in expired',
      'This sign-in has expired or was already completed. Go back to the application and start again.',
      null,
      { reason: 'broker_transaction_unknown' },
    )
  const { uid, broker } = started
  const provider = c.brokers.get(broker)
  const params = new URLSearchParams(query)
  if (provider === undefined || params.get('state') !== started.state)
    return problem(
      400,
      'Sign-in refused',
      'The answer from the other provider did not belong to this sign-in, so it was not used.',
      uid,
      { reason: provider === undefined ? 'broker_unknown' : 'state_mismatch', broker },
    )
  const name = provider.config.display_name
  const error = params.get('error')
  if (error !== null) {
    const denied = error === 'access_denied'
    const unavailable = error === 'temporarily_unavailable' || error === 'server_error'
    return problem(
      denied ? 403 : unavailable ? 502 : 400,
      denied ? 'Sign-in cancelled' : 'Sign-in failed',
      denied
        ? `${name} did not sign you in: it was cancelled or not allowed. You can sign in another way.`
        : `${name} could not sign you in (${safeCode(error)}). Try again later, or sign in another way.`,
      uid,
      { reason: 'broker_error', broker, error: safeCode(error) },
    )
  }
  try {
    const identity = await provider.exchange(query, {
      expectedState: started.state,
      expectedNonce: started.nonce,
      pkceCodeVerifier: started.verifier,
    })
    const resultId = await saveResult(c.store.oidc, { uid, broker, identity })
    res
      .writeHead(303, {
        location: `${c.basePath}/interaction/${uid}/broker`,
        'cache-control': 'no-store',
        'set-cookie': setCookie(resultId, c.brokers.cookie),
      })
      .end()
  } catch (err) {
    if (!(err instanceof UpstreamError)) throw err
    if (err.kind === 'unavailable')
      return problem(
        502,
        'Sign-in failed',
        `${name} could not be reached to finish signing you in. Try again later, or sign in another way.`,
        uid,
        { reason: 'broker_unavailable', broker, error: err.reason },
      )
    return problem(
      400,
      'Sign-in refused',
      `The answer from ${name} did not pass the checks, so it was not used. Go back and try again.`,
      uid,
      { reason: 'broker_refused', broker, error: err.reason },
    )
  }
}
