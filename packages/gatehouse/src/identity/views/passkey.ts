/**
 * A passkey form: the options the server made (its challenge kept server-side) in a data attribute,
 * the answer posted in the hidden `credential` field by the passkey script (assets/passkey-script.ts).
 * The button starts hidden and the script shows it, so a browser without script (or without WebAuthn
 * support, which the script reports in the status line) is never offered a button that does nothing.
 */
import { html, type SafeHtml } from './html.ts'

export interface PasskeyFormView {
  readonly id: string
  readonly action: string
  readonly csrf: string
  /** `create`: register a new passkey; `get`: sign in or verify with one. */
  readonly mode: 'create' | 'get'
  /** The WebAuthn options as JSON (escaped into the attribute like any other value). */
  readonly options: string
  readonly label: string
  /** More fields of the same form (a name, the current password), rendered before the button. */
  readonly fields?: SafeHtml | undefined
  readonly secondary?: boolean | undefined
}

export function passkeyForm(v: PasskeyFormView): SafeHtml {
  return html`<form method="post" action="${v.action}" id="${v.id}" data-passkey="${v.mode}" data-passkey-options="${v.options}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="credential" value="">
${v.fields}
<p class="muted" role="status" data-passkey-status></p>
<div class="actions"><button type="button"${v.secondary === true && html` class="secondary"`} data-passkey-button hidden>${v.label}</button></div>
</form>`
}
