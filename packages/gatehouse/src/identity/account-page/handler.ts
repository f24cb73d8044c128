/**
 * `<issuer>/account`, the account page (issue 14):
 *
 *   GET  /account                      the page (signed out: off to sign in, sign-in.ts)
 *   GET  /account/callback             back from sign-in
 *   GET  /account/verify-email?token=  confirms a new e-mail address (recovery/verify-email.ts)
 *   POST /account/<action>             a section's form (sections.ts): CSRF token bound to the session
 *
 * A successful action redirects back to the page (303, post/redirect/get) with a notice code; a
 * problem re-renders the page with it beside its section.
 */

import { PASSKEY_SCRIPT_PATH } from '../assets/passkey-script.ts'
import { FormError, readForm } from '../interactions/form.ts'
import { listSessions } from '../manage/sessions.ts'
import { declaredInFile } from '../manage/users.ts'
import { confirmEmail } from '../recovery/verify-email.ts'
import type { SelfServiceContext, SelfServiceRequest } from '../self-service.ts'
import { errorPage } from '../views/messages.ts'
import { sendPage } from '../views/page.ts'
import { formToken, formTokenValid } from './form-guard.ts'
import { ACCOUNT_SECTIONS, type AccountAction, type AccountView, NOTICES, render } from './sections.ts'
import { loadSecurity } from './security.ts'
import { finishSignIn, type SignedIn, signedIn, startSignIn } from './sign-in.ts'
import { accountPage, signedOutEverywherePage } from './views.ts'

const CSRF_PURPOSE = 'account'

function fail(r: SelfServiceRequest, status: number, heading: string, message: string): void {
  const page = errorPage(heading, message)
  sendPage(r.res, status, page.title, page.body)
}

function redirect(c: SelfServiceContext, r: SelfServiceRequest, notice?: string): void {
  const to = `${c.basePath}/account${notice !== undefined ? `?done=${notice}` : ''}`
  r.res.writeHead(303, { location: to, 'cache-control': 'no-store' }).end()
}

export async function handleAccount(c: SelfServiceContext, r: SelfServiceRequest): Promise<void> {
  if (!c.identity.account.enabled) return fail(r, 404, 'Page not found', 'There is no page at this address.')
  const action = r.path === '/account' ? '' : r.path.slice('/account/'.length)
  const method = r.req.method ?? 'GET'
  const get = action === '' || action === 'callback' || action === 'verify-email'
  if (get !== (method === 'GET' || method === 'HEAD')) {
    r.res.setHeader('allow', get ? 'GET, HEAD' : 'POST')
    return fail(r, 405, 'Not allowed', 'This page cannot be used that way.')
  }
  if (action === 'callback') {
    if (await finishSignIn(c, r)) return redirect(c, r)
    return fail(
      r,
      400,
      'Sign-in expired',
      'This sign-in did not complete or has expired. Open your account page again to sign in.',
    )
  }
  if (action === 'verify-email') return confirmEmail(c, r)
  const handler = actionFor(action)
  if (!get && handler === undefined)
    return fail(r, 404, 'Page not found', 'There is no page at this address.')

  const who = await signedIn(c, r)
  if (who === null) {
    if (get) return startSignIn(c, r)
    return fail(r, 403, 'Signed out', 'You are no longer signed in. Open your account page again to sign in.')
  }
  if (get) {
    const done = r.query.get('done') ?? ''
    return show(c, r, who, 200, {}, {}, Object.hasOwn(NOTICES, done) ? NOTICES[done] : undefined)
  }

  let form: URLSearchParams
  try {
    form = await readForm(r.req)
  } catch (err) {
    if (err instanceof FormError) return fail(r, err.status, 'Form not accepted', err.message)
    throw err
  }
  if (!formTokenValid(c.keys.forms, CSRF_PURPOSE, who.sessionId, form.get('csrf'))) {
    c.logger.info({ reason: 'csrf_token_invalid', ip: r.clientIp, action }, 'account form refused')
    return fail(
      r,
      403,
      'Form expired',
      'This form has expired or did not come from this site. Open your account page again.',
    )
  }
  const managed = who.user.source === 'config' || declaredInFile(c.identity, who.user.username)
  if (managed && (action === 'profile' || action === 'password'))
    return fail(
      r,
      403,
      'Managed by your administrator',
      "Your administrator manages this account's profile and password.",
    )
  const outcome = await handler!(c, r, who, form)
  if ('done' in outcome) return redirect(c, r, outcome.done)
  if ('signedOut' in outcome) {
    const page = signedOutEverywherePage(c.basePath)
    return sendPage(r.res, 200, page.title, page.body)
  }
  if ('page' in outcome) return sendPage(r.res, 200, outcome.page.title, outcome.page.body)
  const section = ACCOUNT_SECTIONS.find((s) => action in s.actions)?.id ?? 'profile'
  return show(c, r, who, outcome.status, { [section]: outcome.problem }, outcome.values ?? {})
}

function actionFor(action: string): AccountAction | undefined {
  for (const section of ACCOUNT_SECTIONS)
    if (Object.hasOwn(section.actions, action)) return section.actions[action]
  return undefined
}

async function show(
  c: SelfServiceContext,
  r: SelfServiceRequest,
  who: SignedIn,
  status: number,
  errors: Record<string, string>,
  values: Record<string, string>,
  notice?: string,
): Promise<void> {
  // Re-read: an action may just have changed it.
  const user = (await c.store.users.get(who.user.id)) ?? who.user
  const view: AccountView = {
    basePath: c.basePath,
    csrf: formToken(c.keys.forms, CSRF_PURPOSE, who.sessionId),
    user,
    managed: user.source === 'config' || declaredInFile(c.identity, user.username),
    sessions: await listSessions(c.store, user.id),
    currentSessionUid: who.sessionUid,
    linked: await c.linksOf(user.id),
    errors,
    values,
    security: await loadSecurity(c, who, user),
  }
  const page = accountPage(view, render(ACCOUNT_SECTIONS, view), notice)
  sendPage(r.res, status, page.title, page.body, {
    script: view.security?.registration != null ? `${c.basePath}${PASSKEY_SCRIPT_PATH}` : undefined,
  })
}
