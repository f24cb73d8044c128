/** The consent page: which client asks for what (OpenID scopes, claims, API scopes), allow or deny. */
import { html, type SafeHtml } from './html.ts'

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Confirm who you are',
  profile: 'Your profile: name, username and other profile details',
  email: 'Your e-mail address',
  offline_access: 'Keep access while you are not using it',
}

export interface ConsentView {
  readonly action: string
  readonly csrf: string
  readonly clientName: string
  readonly scopes: readonly string[]
  readonly claims: readonly string[]
  /** indicator → scopes */
  readonly resources: Readonly<Record<string, readonly string[]>>
}

export function consentPage(v: ConsentView): { title: string; body: SafeHtml } {
  const resources = Object.entries(v.resources)
  return {
    title: 'Allow access',
    body: html`<h1>Allow access</h1>
<p><strong>${v.clientName}</strong> would like to:</p>
${v.scopes.length > 0 && html`<ul>${v.scopes.map((s) => html`<li>${SCOPE_TEXT[s] ?? s}</li>`)}</ul>`}
${
  v.claims.length > 0 &&
  html`<p>Read these details about you:</p><ul>${v.claims.map((c) => html`<li>${c}</li>`)}</ul>`
}
${
  resources.length > 0 &&
  html`<p>Use these services on your behalf:</p><dl>${resources.map(
    ([indicator, scopes]) => html`<dt>${indicator}</dt><dd>${scopes.join(', ')}</dd>`,
  )}</dl>`
}
<form method="post" action="${v.action}">
<input type="hidden" name="csrf" value="${v.csrf}">
<div class="actions">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</div>
</form>`,
  }
}
