/**
 * The page after a sign-in with an external provider that no local account is linked to: prove an
 * existing account with its password or one of its passkeys to link them, or (when the provider may create accounts) create a
 * new one, or cancel. Nothing here is decided by the e-mail address the provider sent.
 */
import { html, type SafeHtml } from './html.ts'
import { passkeyForm } from './passkey.ts'

export interface LinkAccountView {
  readonly action: string
  readonly abortAction: string
  readonly csrf: string
  readonly providerName: string
  /** How the provider named the person (e-mail or username), for them to recognise. */
  readonly externalName: string | null
  readonly canCreate: boolean
  readonly username?: string | undefined
  readonly error?: string | undefined
  /** "Link with a passkey": the WebAuthn options (its challenge kept server-side). */
  readonly passkey?: { readonly options: string } | undefined
}

export function linkAccountPage(v: LinkAccountView): { title: string; body: SafeHtml } {
  const describedBy = v.error !== undefined ? html` aria-describedby="link-error"` : false
  return {
    title: 'Link your account',
    body: html`<h1>Link your account</h1>
<p>You signed in with <strong>${v.providerName}</strong>${v.externalName !== null && html` as <strong>${v.externalName}</strong>`}. No account here is linked to it yet.</p>
<p>To use it for your existing account, enter that account's username and password once. After that, signing in with ${v.providerName} is enough.</p>
${v.error !== undefined && html`<p id="link-error" class="error" role="alert">${v.error}</p>`}
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="username">Username or e-mail</label>
<input type="text" id="username" name="username" value="${v.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required${v.error === undefined && html` autofocus`}${describedBy}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${v.error !== undefined && html` autofocus`}${describedBy}>
<div class="actions"><button type="submit">Link and sign in</button></div>
</form>
${
  v.passkey !== undefined &&
  passkeyForm({
    id: 'passkey-link',
    action: v.action,
    csrf: v.csrf,
    mode: 'get',
    options: v.passkey.options,
    label: 'Link with a passkey',
    secondary: true,
    fields: html`<input type="hidden" name="choice" value="passkey">`,
  })
}
${
  v.canCreate &&
  html`<form method="post" action="${v.action}">
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="choice" value="create">
<p class="muted">No account here yet?</p>
<div class="actions"><button type="submit" class="secondary">Create a new account</button></div>
</form>`
}
<form method="post" action="${v.abortAction}">
<input type="hidden" name="csrf" value="${v.csrf}">
<div class="actions"><button type="submit" class="secondary">Cancel</button></div>
</form>`,
  }
}

/** A failed external sign-in: what happened, and the way back to the sign-in page when there is one. */
export function brokerProblemPage(
  heading: string,
  message: string,
  back: string | null,
): { title: string; body: SafeHtml } {
  return {
    title: heading,
    body: html`<h1>${heading}</h1><p role="alert">${message}</p>${
      back !== null && html`<p><a href="${back}">Back to sign-in</a></p>`
    }`,
  }
}
