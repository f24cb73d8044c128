/**
 * Setting up an authenticator app while signing in: the QR code (inline SVG, no image request), the
 * key to type by hand and the otpauth link, then the first code, which proves the app has the secret.
 * After it, the recovery codes, shown this once.
 */
import { html, type SafeHtml, trusted } from './html.ts'
import { passkeyForm } from './passkey.ts'

export interface EnrolView {
  readonly action: string
  readonly abortAction: string
  readonly csrf: string
  readonly clientName: string
  /** Inline SVG from factors/totp.ts qrSvg (generated, not user input). */
  readonly qrSvg: string
  readonly manualKey: string
  readonly uri: string
  readonly error?: string | undefined
  /** A passkey may be registered instead of an app: where it posts, its options, its problem. */
  readonly passkey?:
    | { readonly action: string; readonly options: string; readonly error?: string | undefined }
    | undefined
}

export function enrolPage(v: EnrolView): { title: string; body: SafeHtml } {
  return {
    title: 'Set up two-step verification',
    body: html`<h1>Set up two-step verification</h1>
<p><strong>${v.clientName}</strong> needs a second step when you sign in.${v.passkey !== undefined && ' Add a passkey, or an authenticator app.'}</p>
${
  v.passkey !== undefined &&
  html`<section aria-labelledby="enrol-passkey-heading">
<h2 id="enrol-passkey-heading">A passkey</h2>
<p>Your device or security key keeps it, unlocked with your fingerprint, face or screen lock.</p>
${v.passkey.error !== undefined && html`<p id="enrol-passkey-error" class="error" role="alert">${v.passkey.error}</p>`}
${passkeyForm({ id: 'passkey-enrol', action: v.passkey.action, csrf: v.csrf, mode: 'create', options: v.passkey.options, label: 'Add a passkey' })}
</section>`
}
<section aria-labelledby="enrol-app-heading">
<h2 id="enrol-app-heading">An authenticator app</h2>
<p>Add this account to an authenticator app (such as one on your phone), then enter the code it shows.</p>
<figure class="qr-figure">${trusted(v.qrSvg)}<figcaption id="qr-label">QR code to scan with your authenticator app</figcaption></figure>
<p>Cannot scan it? Enter this key in the app instead (time-based, 6 digits):</p>
<p><code id="manual-key" class="key">${v.manualKey}</code></p>
<p class="muted">On this device: <a href="${v.uri}">open the authenticator app</a>.</p>
${v.error !== undefined && html`<p id="enrol-error" class="error" role="alert">${v.error}</p>`}
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="code">6-digit code from the app</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="6" spellcheck="false" required autofocus${v.error !== undefined && html` aria-describedby="enrol-error"`}>
<div class="actions"><button type="submit">Turn on</button></div>
</form>
</section>
<form method="post" action="${v.abortAction}">
<input type="hidden" name="csrf" value="${v.csrf}">
<div class="actions"><button type="submit" class="secondary">Cancel</button></div>
</form>`,
  }
}

export interface RecoveryCodesView {
  readonly action: string
  readonly csrf: string
  /** The new codes, or null when they were already shown (a reload). */
  readonly codes: readonly string[] | null
}

export function recoveryCodesPage(v: RecoveryCodesView): { title: string; body: SafeHtml } {
  return {
    title: 'Save your recovery codes',
    body: html`<h1>Save your recovery codes</h1>
${
  v.codes === null
    ? html`<p>Two-step verification is on. Your recovery codes were shown when you set it up; they are not shown again.</p>`
    : html`<p>Two-step verification is on. If you lose your device, each of these codes signs you in once. Keep them somewhere safe: they are not shown again.</p>
<ul class="codes" aria-label="Recovery codes">${v.codes.map((c) => html`<li><code>${c}</code></li>`)}</ul>`
}
<form method="post" action="${v.action}">
<input type="hidden" name="csrf" value="${v.csrf}">
<div class="actions"><button type="submit" autofocus>Continue</button></div>
</form>`,
  }
}
