/** The pages with nothing to fill in: errors, the logout question and its answer. */
import { html, type SafeHtml } from './html.ts'

export function errorPage(heading: string, message: string): { title: string; body: SafeHtml } {
  return { title: heading, body: html`<h1>${heading}</h1><p role="alert">${message}</p>` }
}

/** `form` is oidc-provider's logout form (its xsrf field inside); the buttons go in it. */
export function logoutPage(issuerHost: string, form: SafeHtml): { title: string; body: SafeHtml } {
  return {
    title: 'Sign out',
    body: html`<h1>Sign out</h1>
<p>Do you want to sign out of your account at <strong>${issuerHost}</strong>? You will need to sign in again in every application that uses it.</p>
${form}`,
  }
}

export function logoutButtons(): SafeHtml {
  return html`<div class="actions">
<button type="submit" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" class="secondary">No, stay signed in</button>
</div>`
}

export function signedOutPage(clientName: string | undefined): { title: string; body: SafeHtml } {
  return {
    title: 'Signed out',
    body: html`<h1>Signed out</h1>
<p>You have signed out${clientName !== undefined && html` of <strong>${clientName}</strong>`}. You can close this window.</p>`,
  }
}
