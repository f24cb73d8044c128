/**
 * The second step of a sign-in: one section per way the user can prove a second factor (a code from
 * a passkey, a code from an authenticator app), then a recovery code as the way out.
 */
import { html, type SafeHtml } from './html.ts'
import { passkeyForm } from './passkey.ts'

/** One way to prove the second factor, offered as a section of its own. */
export type SecondFactorMethod =
  | { readonly kind: 'totp'; readonly action: string }
  | { readonly kind: 'passkey'; readonly action: string; readonly options: string }

type FormName = 'totp' | 'recovery' | 'passkey'

export interface SecondFactorView {
  readonly methods: readonly SecondFactorMethod[]
  readonly recoveryAction: string
  readonly abortAction: string
  readonly csrf: string
  readonly clientName: string
  /** Which form the error belongs to. */
  readonly error?: { readonly form: FormName; readonly message: string } | undefined
}

export function secondFactorPage(v: SecondFactorView): { title: string; body: SafeHtml } {
  const errorOf = (form: FormName) =>
    v.error?.form === form
      ? html`<p id="${form}-error" class="error" role="alert">${v.error.message}</p>`
      : ''
  const describedBy = (form: FormName) =>
    v.error?.form === form ? html` aria-describedby="${form}-error"` : ''
  const method = (m: SecondFactorMethod) =>
    m.kind === 'passkey'
      ? html`<section aria-labelledby="passkey-heading">
<h2 id="passkey-heading">Passkey</h2>
${errorOf('passkey')}
${passkeyForm({ id: 'passkey-verify', action: m.action, csrf: v.csrf, mode: 'get', options: m.options, label: 'Use a passkey' })}
</section>`
      : html`<section aria-labelledby="totp-heading">
<h2 id="totp-heading">Code from your authenticator app</h2>
${errorOf('totp')}
<form method="post" action="${m.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="code">6-digit code</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="6" spellcheck="false" required${v.error?.form !== 'recovery' && html` autofocus`}${describedBy('totp')}>
<div class="actions"><button type="submit">Verify</button></div>
</form>
</section>`
  return {
    title: 'Verify it is you',
    body: html`<h1>Verify it is you</h1>
<p>A second step is needed to continue to <strong>${v.clientName}</strong>.</p>
${v.methods.map(method)}
<section aria-labelledby="recovery-heading">
<h2 id="recovery-heading">Lost your device?</h2>
${errorOf('recovery')}
<form method="post" action="${v.recoveryAction}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="recovery_code">Recovery code</label>
<input type="text" id="recovery_code" name="recovery_code" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="32" required${v.error?.form === 'recovery' && html` autofocus`}${describedBy('recovery')}>
<div class="actions"><button type="submit" class="secondary">Use recovery code</button></div>
</form>
</section>
<form method="post" action="${v.abortAction}">
<input type="hidden" name="csrf" value="${v.csrf}">
<div class="actions"><button type="submit" class="secondary">Cancel</button></div>
</form>`,
  }
}
