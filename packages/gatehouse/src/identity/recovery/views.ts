/** The signed-out self-service pages: asking for a reset link, setting a new password, registering. */
import { html, type SafeHtml } from '../views/html.ts'

type Page = { title: string; body: SafeHtml }

const error = (message: string | undefined) =>
  message !== undefined && html`<p id="form-error" class="error" role="alert">${message}</p>`
const describedBy = (message: string | undefined) =>
  message !== undefined && html` aria-describedby="form-error"`

export function resetRequestPage(v: { action: string; csrf: string; error?: string | undefined }): Page {
  return {
    title: 'Reset your password',
    body: html`<h1>Reset your password</h1>
<p>Enter your username or e-mail address. If there is an account, we will send a link to set a new password to its e-mail address.</p>
${error(v.error)}
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="identifier">Username or e-mail</label>
<input type="text" id="identifier" name="identifier" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus${describedBy(v.error)}>
<div class="actions"><button type="submit">Send the link</button></div>
</form>`,
  }
}

export function resetSentPage(ttl: number): Page {
  return {
    title: 'Check your e-mail',
    body: html`<h1>Check your e-mail</h1>
<p role="status">If an account exists for what you entered, we have sent a link to its e-mail address. The link works once, for ${lifetime(ttl)}.</p>`,
  }
}

export function newPasswordPage(v: {
  action: string
  csrf: string
  token: string
  username: string
  error?: string | undefined
}): Page {
  return {
    title: 'Set a new password',
    body: html`<h1>Set a new password</h1>
<p>For your account <strong>${v.username}</strong>.</p>
${error(v.error)}
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="token" value="${v.token}">
<label for="new-password">New password</label>
<input type="password" id="new-password" name="new_password" autocomplete="new-password" required autofocus aria-describedby="new-password-hint">
<p id="new-password-hint" class="muted">At least 12 characters; not your username or e-mail address.</p>
<label for="confirm-password">New password again</label>
<input type="password" id="confirm-password" name="confirm_password" autocomplete="new-password" required${describedBy(v.error)}>
<div class="actions"><button type="submit">Set the password</button></div>
</form>`,
  }
}

export function doneWithLinkPage(heading: string, message: string, accountUrl: string): Page {
  return {
    title: heading,
    body: html`<h1>${heading}</h1>
<p role="status">${message}</p>
<p><a href="${accountUrl}">Go to your account</a></p>`,
  }
}

export function registerPage(v: {
  action: string
  csrf: string
  values: { email?: string; username?: string }
  error?: string | undefined
}): Page {
  return {
    title: 'Create an account',
    body: html`<h1>Create an account</h1>
${error(v.error)}
<form method="post" action="${v.action}" novalidate>
<input type="hidden" name="csrf" value="${v.csrf}">
<label for="email">E-mail</label>
<input type="text" inputmode="email" id="email" name="email" value="${v.values.email ?? ''}" autocomplete="email" autocapitalize="none" spellcheck="false" required${describedBy(v.error)}>
<label for="username">Username</label>
<input type="text" id="username" name="username" value="${v.values.username ?? ''}" autocomplete="username" autocapitalize="none" spellcheck="false" required aria-describedby="username-hint">
<p id="username-hint" class="muted">Letters, digits and . _ @ + - (at most 64).</p>
<label for="new-password">Password</label>
<input type="password" id="new-password" name="password" autocomplete="new-password" required aria-describedby="new-password-hint">
<p id="new-password-hint" class="muted">At least 12 characters; not your username or e-mail address.</p>
<label for="confirm-password">Password again</label>
<input type="password" id="confirm-password" name="confirm_password" autocomplete="new-password" required>
<div class="actions"><button type="submit">Create the account</button></div>
</form>`,
  }
}

/** A link's lifetime in words: minutes up to two hours, then hours. */
export function lifetime(seconds: number): string {
  return seconds < 7200 ? `${Math.round(seconds / 60)} minutes` : `${Math.round(seconds / 3600)} hours`
}

export function registerSentPage(ttl: number): Page {
  return {
    title: 'Check your e-mail',
    body: html`<h1>Check your e-mail</h1>
<p role="status">We have sent a link to the address you entered. Your account is created when you open it (within ${lifetime(ttl)}).</p>`,
  }
}

export function activatePage(v: { action: string; csrf: string; token: string; username: string }): Page {
  return {
    title: 'Create your account',
    body: html`<h1>Create your account</h1>
<p>Create the account <strong>${v.username}</strong>?</p>
<form method="post" action="${v.action}">
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="token" value="${v.token}">
<div class="actions"><button type="submit">Create my account</button></div>
</form>`,
  }
}
