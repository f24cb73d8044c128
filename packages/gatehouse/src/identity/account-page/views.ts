/**
 * The account page's markup: one h1, a section (h2) per entry of sections.ts, every form with its CSRF
 * token, every field labelled, errors announced (role=alert) and tied to their fields.
 */
import { html, type SafeHtml } from '../views/html.ts'
import type { AccountView } from './sections.ts'
import { describeAgent } from './session-origin.ts'

export function when(seconds: number | null): string {
  if (seconds === null) return 'unknown time'
  return `${new Date(seconds * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`
}

const csrfField = (v: AccountView) => html`<input type="hidden" name="csrf" value="${v.csrf}">`

function problem(v: AccountView, id: string): SafeHtml | false {
  const message = v.errors[id]
  return message !== undefined && html`<p id="${id}-error" class="error" role="alert">${message}</p>`
}

const describedBy = (v: AccountView, id: string) =>
  v.errors[id] !== undefined && html` aria-describedby="${id}-error"`

export function accountPage(
  v: AccountView,
  sections: readonly SafeHtml[],
  notice: string | undefined,
): { title: string; body: SafeHtml } {
  return {
    title: 'Your account',
    body: html`<h1>Your account</h1>
<p>Signed in as <strong>${v.user.username}</strong>. <a href="${v.basePath}/session/end">Sign out</a></p>
${notice !== undefined && html`<p role="status"><strong>${notice}</strong></p>`}
${sections}`,
  }
}

export function profileSection(v: AccountView): SafeHtml {
  const name = v.values['name'] ?? String(v.user.claims['name'] ?? '')
  const email = v.values['email'] ?? v.user.email ?? ''
  const verified = v.user.claims['email_verified'] === true
  return html`<section aria-labelledby="profile-heading">
<h2 id="profile-heading">Profile</h2>
${problem(v, 'profile')}
${
  v.managed
    ? html`<p>Name: ${name || '(none)'}<br>E-mail: ${email || '(none)'}</p>
<p class="muted">Your administrator manages this account's profile and password.</p>`
    : html`<form method="post" action="${v.basePath}/account/profile" novalidate>
${csrfField(v)}
<label for="name">Name</label>
<input type="text" id="name" name="name" value="${name}" autocomplete="name" maxlength="200"${describedBy(v, 'profile')}>
<label for="email">E-mail</label>
<input type="text" inputmode="email" id="email" name="email" value="${email}" autocomplete="email" autocapitalize="none" spellcheck="false" maxlength="320" aria-describedby="email-status">
<p id="email-status" class="muted">${email === '' ? 'No e-mail address.' : verified ? 'Verified.' : 'Not verified.'}</p>
<label for="profile-current-password">Current password (needed to change your e-mail)</label>
<input type="password" id="profile-current-password" name="current_password" autocomplete="current-password">
<div class="actions"><button type="submit">Save profile</button></div>
</form>`
}
</section>`
}

export function passwordSection(v: AccountView): SafeHtml {
  if (v.managed) return html``
  return html`<section aria-labelledby="password-heading">
<h2 id="password-heading">Password</h2>
${problem(v, 'password')}
<form method="post" action="${v.basePath}/account/password" novalidate>
${csrfField(v)}
<label for="current-password">Current password</label>
<input type="password" id="current-password" name="current_password" autocomplete="current-password" required${describedBy(v, 'password')}>
<label for="new-password">New password</label>
<input type="password" id="new-password" name="new_password" autocomplete="new-password" required aria-describedby="new-password-hint">
<p id="new-password-hint" class="muted">At least 12 characters; not your username or e-mail address.</p>
<label for="confirm-password">New password again</label>
<input type="password" id="confirm-password" name="confirm_password" autocomplete="new-password" required>
<div class="actions"><button type="submit">Change password</button></div>
</form>
</section>`
}

export function sessionsSection(v: AccountView): SafeHtml {
  return html`<section aria-labelledby="sessions-heading">
<h2 id="sessions-heading">Where you are signed in</h2>
${problem(v, 'sessions')}
<ul class="sessions">
${v.sessions.map((s) => {
  const current = s.uid === v.currentSessionUid
  const apps = s.clients.filter((c) => c !== 'gatehouse-account')
  return html`<li>
<strong>Signed in ${when(s.login_at)}</strong>${current && html` (this browser)`}<br>
${s.last_ip !== null && html`<span class="muted">Last used from ${s.last_ip}${s.user_agent !== null && describeAgent(s.user_agent) !== '' ? `, ${describeAgent(s.user_agent)}` : ''}</span><br>`}
<span class="muted">${apps.length > 0 ? `Applications: ${apps.join(', ')}` : 'No applications yet'}</span>
${
  !current &&
  html`<form method="post" action="${v.basePath}/account/sessions/signout">
${csrfField(v)}
<input type="hidden" name="session" value="${s.uid}">
<div class="actions"><button type="submit" class="secondary" aria-label="Sign out the session signed in ${when(s.login_at)}">Sign out</button></div>
</form>`
}
</li>`
})}
</ul>
</section>`
}

export function signOutEverywhereSection(v: AccountView): SafeHtml {
  return html`<section aria-labelledby="everywhere-heading">
<h2 id="everywhere-heading">Sign out everywhere</h2>
${problem(v, 'everywhere')}
<p>Ends every session of your account, this one included, and every application's access to it.</p>
<form method="post" action="${v.basePath}/account/signout-everywhere">
${csrfField(v)}
<div class="actions"><button type="submit">Sign out everywhere</button></div>
</form>
</section>`
}

export function signedOutEverywherePage(basePath: string): { title: string; body: SafeHtml } {
  return {
    title: 'Signed out everywhere',
    body: html`<h1>Signed out everywhere</h1>
<p role="status">Every session of your account has ended, on every device and in every application.</p>
<p><a href="${basePath}/account">Sign in again</a></p>`,
  }
}
