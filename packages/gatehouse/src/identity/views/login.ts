/** The sign-in form: username or e-mail and password, one generic error, a cancel button. */
import { html, type SafeHtml } from './html.ts'
import { passkeyForm } from './passkey.ts'

export interface LoginView {
  readonly action: string
  readonly abortAction: string
  readonly csrf: string
  readonly clientName: string
  readonly username?: string | undefined
  readonly error?: string | undefined
  /** "Sign in with …" buttons (identity.external_providers), each a form posting to `action`. */
  readonly brokers?: readonly { readonly action: string; readonly label: string }[] | undefined
  /** "Forgot password?" (issue 14), when password reset is on. */
  readonly resetUrl?: string | undefined
  /** "Create an account" (issue 14), when registration is on. */
  readonly registerUrl?: string | undefined
  /** "Sign in with a passkey" (a discoverable credential, no username): where it posts, its options. */
  readonly passkey?: { readonly action: string; readonly options: string } | undefined
}

export function loginPage(v: LoginView): { title: string; body: SafeHtml } {
  const describedBy = v.error !== undefined ? 'login-error' : undefined
  return {
    title: 'Sign in',
    body: html`<h1>Sign in</h1>
<p>to continue to <strong>${v.clientName}</strong></p>
${v.error !== undefined && html`<p id="login-error" class="error" role="alert">${v.error}</p>`}
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="username">Username or e-mail</label>
<input type="text" id="username" name="username" value="${v.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required${v.error === undefined && html` autofocus`}${describedBy !== undefined && html` aria-describedby="${describedBy}"`}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${v.error !== undefined && html` autofocus`}${describedBy !== undefined && html` aria-describedby="${describedBy}"`}>
<div class="actions"><button type="submit">Sign in</button></div>
</form>
${
  v.passkey !== undefined &&
  passkeyForm({
    id: 'passkey-login',
    action: v.passkey.action,
    csrf: v.csrf,
    mode: 'get',
    options: v.passkey.options,
    label: 'Sign in with a passkey',
    secondary: true,
  })
}
${v.resetUrl !== undefined && html`<p><a href="${v.resetUrl}">Forgot password?</a></p>`}
${v.registerUrl !== undefined && html`<p>New here? <a href="${v.registerUrl}">Create an account</a></p>`}
${brokerButtons(v)}
<form method="post" action="${v.abortAction}">
<input type="hidden" name="csrf" value="${v.csrf}">
<div class="actions"><button type="submit" class="secondary">Cancel</button></div>
</form>`,
  }
}

/** POST forms with the CSRF token, not links: another site cannot start an external sign-in. */
function brokerButtons(v: LoginView): SafeHtml | false {
  const brokers = v.brokers ?? []
  return (
    brokers.length > 0 &&
    html`<section aria-labelledby="brokers-heading">
<h2 id="brokers-heading" class="muted">Or sign in with</h2>
${brokers.map(
  (b) => html`<form method="post" action="${b.action}">
<input type="hidden" name="csrf" value="${v.csrf}">
<div class="actions"><button type="submit" class="secondary">Sign in with ${b.label}</button></div>
</form>`,
)}
</section>`
  )
}
