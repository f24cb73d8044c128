/** What the signed-out pages share: their CSRF cookie and token, a bounded form, error pages. */
import { FORM_COOKIE, formCookie, formToken, formTokenValid, readCookie } from '../account-page/form-guard.ts'
import { FormError, readForm } from '../interactions/form.ts'
import type { SelfServiceContext, SelfServiceRequest } from '../self-service.ts'
import { errorPage } from '../views/messages.ts'
import { sendPage } from '../views/page.ts'

const PURPOSE = 'signed-out'

export function fail(r: SelfServiceRequest, status: number, heading: string, message: string): void {
  const page = errorPage(heading, message)
  sendPage(r.res, status, page.title, page.body)
}

export function notFound(r: SelfServiceRequest): void {
  fail(r, 404, 'Page not found', 'There is no page at this address.')
}

/** The token for a form on this answer (setting the cookie it is bound to when the browser has none). */
export function csrfFor(c: SelfServiceContext, r: SelfServiceRequest): string {
  const cookie = formCookie(r.req, r.res, c.basePath || '/', c.issuer.startsWith('https:'))
  return formToken(c.keys.forms, PURPOSE, cookie)
}

/** The submitted form when its token fits the cookie; else the refusal is sent and null returned. */
export async function checkedForm(
  c: SelfServiceContext,
  r: SelfServiceRequest,
): Promise<URLSearchParams | null> {
  let form: URLSearchParams
  try {
    form = await readForm(r.req)
  } catch (err) {
    if (err instanceof FormError) {
      fail(r, err.status, 'Form not accepted', err.message)
      return null
    }
    throw err
  }
  const cookie = readCookie(r.req, FORM_COOKIE) ?? ''
  if (!formTokenValid(c.keys.forms, PURPOSE, cookie, form.get('csrf'))) {
    c.logger.info({ reason: 'csrf_token_invalid', ip: r.clientIp, path: r.path }, 'self-service form refused')
    fail(r, 403, 'Form expired', 'This form has expired or did not come from this site. Open the page again.')
    return null
  }
  return form
}

/** Counts one request against `key` within `window` seconds; true while at most `max` were counted. */
export async function withinLimit(
  c: SelfServiceContext,
  key: string,
  window: number,
  max: number,
): Promise<boolean> {
  const state = await c.store.throttle.recordFailure(key, Math.floor(Date.now() / 1000), window)
  return state.failures <= max
}
