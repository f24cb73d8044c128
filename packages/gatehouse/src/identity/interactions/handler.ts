/**
 * The interaction pages under `<issuer path>/interaction/:uid`, where oidc-provider sends the browser
 * when it needs the user (login) or their consent:
 *
 *   GET  /interaction/:uid           the login or consent page, whichever prompt is pending
 *   POST /interaction/:uid/login     username + password                       login.ts
 *   POST /interaction/:uid/confirm   decision=allow|deny                        grants.ts
 *   POST /interaction/:uid/abort     cancel: the client gets access_denied
 *   POST /interaction/:uid/broker/:name, GET /interaction/:uid/broker, POST /interaction/:uid/link
 *                                    sign-in with an external provider                   ../broker/
 *   POST /interaction/:uid/otp, /recovery, /enrol, /finish    the second factor   second-factor.ts
 *   POST /interaction/:uid/passkey, /passkey-verify, /passkey-enrol   passkeys          passkey.ts
 *
 * Every form carries a CSRF token bound to the interaction (csrf.ts); a missing or wrong one is 403.
 * An expired or unknown interaction (no `_interaction` cookie for it) gets an error page, never a
 * redirect.
 */
import type { Interaction } from 'oidc-provider'
import { errors } from 'oidc-provider'
import { resumeBrokeredSignIn, submitLink } from '../broker/resume.ts'
import { startBrokeredSignIn } from '../broker/start.ts'
import { clientFacts } from '../client-metadata.ts'
import { applyConsent } from '../grants.ts'
import { errorPage } from '../views/messages.ts'
import { sendPage } from '../views/page.ts'
import type { InteractionContext, InteractionRequest } from './context.ts'
import { csrfValid } from './csrf.ts'
import { FormError, readForm } from './form.ts'
import { submitLogin } from './login.ts'
import { showConsent, showLogin } from './pages.ts'
import { submitPasskeyEnrol, submitPasskeyLogin, submitPasskeyVerify } from './passkey.ts'
import { loadProgress } from './progress.ts'
import {
  isStepUpOnly,
  showSecondStep,
  startStepUp,
  submitCode,
  submitEnrol,
  submitFinish,
  submitRecoveryCode,
} from './second-factor.ts'

const PATH =
  /^\/interaction\/([A-Za-z0-9_-]{1,64})(?:\/(login|confirm|abort|link|otp|recovery|enrol|finish|passkey|passkey-verify|passkey-enrol)|\/(broker)(?:\/([a-z0-9-]{1,32}))?)?$/

function fail(r: Pick<InteractionRequest, 'res'>, status: number, heading: string, message: string): void {
  const page = errorPage(heading, message)
  sendPage(r.res, status, page.title, page.body)
}

const expired = (r: Pick<InteractionRequest, 'res'>) =>
  fail(
    r,
    400,
    'Sign-in expired',
    'This sign-in request has expired or is no longer valid. Go back to the application and start again.',
  )

/** Serves `path` (the request path below the issuer's). */
export async function handleInteraction(
  c: InteractionContext,
  req: InteractionRequest['req'],
  res: InteractionRequest['res'],
  path: string,
  clientIp: string,
): Promise<void> {
  const m = PATH.exec(path)
  if (m === null) {
    fail({ res }, 404, 'Page not found', 'There is no page at this address.')
    return
  }
  const uid = m[1]!
  const action = m[2] ?? m[3]
  const broker = m[4]
  const method = req.method ?? 'GET'
  // GET /interaction/:uid/broker is the way back from an external provider; POST …/broker/:name leaves.
  const page = action === undefined || (action === 'broker' && broker === undefined)
  // Not HEAD on the way back: it would complete the sign-in.
  const allowed = page ? (action === 'broker' ? ['GET'] : ['GET', 'HEAD']) : ['POST']
  if (!allowed.includes(method)) {
    res.setHeader('allow', allowed.join(', '))
    fail({ res }, 405, 'Not allowed', 'This page cannot be used that way.')
    return
  }
  const r: InteractionRequest = { req, res, uid, clientIp }
  try {
    let interaction: Interaction
    try {
      interaction = await c.provider.interactionDetails(req, res)
    } catch (err) {
      if (err instanceof errors.SessionNotFound) return expired(r)
      throw err
    }
    if (interaction.uid !== uid) return expired(r)
    if (action === undefined) return await show(c, r, interaction)
    if (page) {
      if (interaction.prompt.name !== 'login') return expired(r)
      return await resumeBrokeredSignIn(c, r, interaction)
    }

    const form = await readForm(req)
    if (!csrfValid(c.csrfKey, interaction, form.get('csrf'))) {
      c.logger.info({ reason: 'csrf_token_invalid', ip: clientIp, action }, 'interaction form refused')
      return fail(
        r,
        403,
        'Form expired',
        'This form has expired or did not come from this site. Go back to the application and try again.',
      )
    }
    switch (action) {
      case 'login':
        if (interaction.prompt.name !== 'login') return expired(r)
        return await submitLogin(c, r, interaction, form)
      case 'passkey':
        if (interaction.prompt.name !== 'login') return expired(r)
        return await submitPasskeyLogin(c, r, interaction, form)
      case 'broker':
      case 'link':
        if (interaction.prompt.name !== 'login') return expired(r)
        return action === 'link'
          ? await submitLink(c, r, interaction, form)
          : await startBrokeredSignIn(c, r, interaction, broker!)
      case 'confirm':
        if (interaction.prompt.name !== 'consent') return expired(r)
        return await confirm(c, r, interaction, form.get('decision'))
      case 'otp':
      case 'recovery':
      case 'enrol':
      case 'finish':
      case 'passkey-verify':
      case 'passkey-enrol': {
        const progress = interaction.prompt.name === 'login' ? await loadProgress(c, interaction) : undefined
        if (progress === undefined) return expired(r)
        if (action === 'otp') return await submitCode(c, r, interaction, progress, form.get('code') ?? '')
        if (action === 'enrol') return await submitEnrol(c, r, interaction, progress, form.get('code') ?? '')
        if (action === 'finish') return await submitFinish(c, r, interaction, progress)
        if (action === 'passkey-verify') return await submitPasskeyVerify(c, r, interaction, progress, form)
        if (action === 'passkey-enrol') return await submitPasskeyEnrol(c, r, interaction, progress, form)
        return await submitRecoveryCode(c, r, interaction, progress, form.get('recovery_code') ?? '')
      }
      default:
        return await c.provider.interactionFinished(
          req,
          res,
          { error: 'access_denied', error_description: 'End-User aborted interaction' },
          { mergeWithLastSubmission: false },
        )
    }
  } catch (err) {
    if (res.headersSent) {
      res.destroy()
      return
    }
    if (err instanceof FormError) return fail(r, err.status, 'Form not accepted', err.message)
    if (err instanceof errors.SessionNotFound) return expired(r)
    c.logger.error({ err, path: `${c.basePath}${path}` }, 'interaction page failed')
    fail(
      r,
      500,
      'Something went wrong',
      'The request could not be completed. Go back to the application and try again.',
    )
  }
}

async function show(c: InteractionContext, r: InteractionRequest, interaction: Interaction): Promise<void> {
  switch (interaction.prompt.name) {
    case 'login': {
      const progress = await loadProgress(c, interaction)
      if (progress !== undefined) return showSecondStep(c, r, interaction, progress)
      if (isStepUpOnly(interaction) && (await startStepUp(c, r, interaction))) return
      return showLogin(c, r, interaction, 200)
    }
    case 'consent':
      return showConsent(c, r, interaction)
    default:
      return expired(r)
  }
}

async function confirm(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  decision: string | null,
): Promise<void> {
  const clientId = String(interaction.params['client_id'])
  const accountId = interaction.session?.accountId
  if (decision !== 'allow' || accountId === undefined) {
    c.logger.info({ client_id: clientId, user_id: accountId, reason: 'consent_denied' }, 'consent denied')
    return c.provider.interactionFinished(
      r.req,
      r.res,
      { error: 'access_denied', error_description: 'End-User denied the request' },
      { mergeWithLastSubmission: false },
    )
  }
  const client = await c.provider.Client.find(clientId)
  if (client === undefined) return expired(r)
  const details = interaction.prompt.details as {
    missingOIDCScope?: string[]
    missingOIDCClaims?: string[]
    missingResourceScopes?: Record<string, string[]>
  }
  const existing =
    interaction.grantId !== undefined ? await c.provider.Grant.find(interaction.grantId) : undefined
  const grant = existing ?? new c.provider.Grant({ accountId, clientId })
  applyConsent(
    grant,
    {
      scopes: details.missingOIDCScope ?? [],
      claims: details.missingOIDCClaims ?? [],
      resources: details.missingResourceScopes ?? {},
    },
    clientFacts(client).scopes,
  )
  const grantId = await grant.save()
  c.logger.info({ client_id: clientId, user_id: accountId }, 'consent given')
  await c.provider.interactionFinished(
    r.req,
    r.res,
    { consent: existing === undefined ? { grantId } : {} },
    { mergeWithLastSubmission: true },
  )
}
