/**
 * The account page's Security section (issue 14): every second factor of the person, and what they may
 * do with them.
 *
 *   POST /account/passkeys/add       current password + a new passkey (WebAuthn registration) + its name
 *   POST /account/passkeys/rename    a new name for one of their passkeys
 *   POST /account/passkeys/remove    current password; removes one passkey
 *   POST /account/totp/start         current password + a name; shows a new authenticator app's QR code
 *   POST /account/totp/confirm       the app's first code: the app is added (several may be; any signs in)
 *   POST /account/totp/rename        a new name for one of their apps
 *   POST /account/totp/remove        current password; removes one app
 *   POST /account/recovery/regenerate  current password; ten new codes, shown once, the old ones void
 *
 * Adding or removing a factor and new recovery codes need the current password (the proof the page's
 * other sensitive changes ask, counted by the sign-in throttle: reauth.ts); a rename does not. The last
 * factor of a person whose policy is `required` cannot be removed (they would be asked to enrol at the
 * next sign-in anyway; refusing says so here). TOTP and recovery codes are the factors modules' own
 * (factors/totp.ts, recovery-codes.ts, seal.ts); nothing of them is repeated here. Audited (the factor's
 * kind and id, never a secret, a credential or a code; nor its name, typed by the person).
 */
import { randomUUID } from 'node:crypto'
import type { RegistrationResponseJSON } from '@simplewebauthn/server'
import type { StoredFactor, StoredUser } from '../../storage/store.ts'
import { issueChallenge, takeChallenge } from '../factors/challenges.ts'
import {
  MAX_PASSKEY_NAME,
  parseCredential,
  passkeysAvailable,
  registrationOptions,
  relyingParty,
  verifyRegistration,
} from '../factors/passkey.ts'
import { strictest } from '../factors/policy.ts'
import { hashRecoveryCode, newRecoveryCodes } from '../factors/recovery-codes.ts'
import { openSecret, sealSecret } from '../factors/seal.ts'
import { groupedKey, matchTotp, newTotpSecret, qrSvg, totpUri } from '../factors/totp.ts'
import { storePasskey } from '../interactions/passkey.ts'
import { factorSealKey, recoveryCodeKey } from '../secrets.ts'
import type { SelfServiceContext } from '../self-service.ts'
import { auditAccountChange } from '../self-service-audit.ts'
import { html, type SafeHtml, trusted } from '../views/html.ts'
import { passkeyForm } from '../views/passkey.ts'
import { checkCurrentPassword, REAUTH_PROBLEM } from './reauth.ts'
import type { AccountAction, AccountView, ActionOutcome } from './sections.ts'
import type { SignedIn } from './sign-in.ts'
import { when } from './views.ts'

const nowSeconds = () => Math.floor(Date.now() / 1000)
const PENDING_TOTP = 'GatehouseAccountTotp'
const PENDING_TTL = 600
const registerKey = (who: SignedIn) => `account:${who.sessionUid}:register`
const pendingBinding = (who: SignedIn) => `account-enrol:${who.sessionUid}`

/** What the Security section renders from (loaded once per page: handler.ts). */
export interface SecurityView {
  readonly factors: readonly StoredFactor[]
  readonly recoveryCodesLeft: number
  /** The WebAuthn registration options for "Add a passkey" (a fresh challenge per page); null: none possible. */
  readonly registration: string | null
}

export async function loadSecurity(
  c: SelfServiceContext,
  who: SignedIn,
  user: StoredUser,
): Promise<SecurityView> {
  const [factors, left, passkeys] = await Promise.all([
    c.store.factors.list(user.id),
    c.store.factors.recoveryCodesLeft(user.id),
    c.store.factors.passkeys(user.id),
  ])
  if (!passkeysAvailable(c.issuer)) return { factors, recoveryCodesLeft: left, registration: null }
  const challenge = await issueChallenge(c.store.oidc, registerKey(who))
  const options = await registrationOptions(relyingParty(c.issuer), user, passkeys, challenge)
  return { factors, recoveryCodesLeft: left, registration: JSON.stringify(options) }
}

const csrfField = (v: AccountView) => html`<input type="hidden" name="csrf" value="${v.csrf}">`

const passwordField = (id: string, label: string) => html`<label for="${id}">${label}</label>
<input type="password" id="${id}" name="current_password" autocomplete="current-password" required>`

export function securitySection(v: AccountView): SafeHtml {
  const s = v.security
  if (s === undefined) return html``
  const passkeys = s.factors.filter((f) => f.kind === 'passkey')
  const totp = s.factors.filter((f) => f.kind === 'totp')
  const message = v.errors['security']
  const used = (f: StoredFactor) =>
    f.last_used_at === null ? 'never used' : `last used ${when(f.last_used_at)}`
  return html`<section aria-labelledby="security-heading">
<h2 id="security-heading">Security</h2>
${message !== undefined && html`<p id="security-error" class="error" role="alert">${message}</p>`}
<h3 id="passkeys-heading">Passkeys</h3>
${
  passkeys.length === 0
    ? html`<p>No passkeys yet. A passkey signs you in with your fingerprint, face or screen lock instead of a password.</p>`
    : html`<ul class="factors" aria-labelledby="passkeys-heading">${passkeys.map(
        (f, i) => html`<li>
<strong>${f.name}</strong><br><span class="muted">Added ${when(f.created_at)}, ${used(f)}</span>
<form method="post" action="${v.basePath}/account/passkeys/rename" novalidate>
${csrfField(v)}<input type="hidden" name="factor" value="${f.id}">
<label for="passkey-name-${i}">New name for ${f.name}</label>
<input type="text" id="passkey-name-${i}" name="name" value="${f.name}" maxlength="${MAX_PASSKEY_NAME}" required>
<div class="actions"><button type="submit" class="secondary">Rename</button></div>
</form>
<form method="post" action="${v.basePath}/account/passkeys/remove" novalidate>
${csrfField(v)}<input type="hidden" name="factor" value="${f.id}">
${passwordField(`passkey-remove-password-${i}`, `Current password (to remove ${f.name})`)}
<div class="actions"><button type="submit" class="secondary">Remove ${f.name}</button></div>
</form>
</li>`,
      )}</ul>`
}
${
  s.registration === null
    ? html`<p class="muted">Passkeys need this site to be on a domain name, not an IP address.</p>`
    : passkeyForm({
        id: 'passkey-add',
        action: `${v.basePath}/account/passkeys/add`,
        csrf: v.csrf,
        mode: 'create',
        options: s.registration,
        label: 'Add a passkey',
        fields: html`<label for="passkey-new-name">Name of the new passkey</label>
<input type="text" id="passkey-new-name" name="name" value="Passkey" maxlength="${MAX_PASSKEY_NAME}" required>
${passwordField('passkey-add-password', 'Current password (to add a passkey)')}`,
      })
}
<h3 id="totp-heading">Authenticator apps</h3>
${
  totp.length === 0
    ? html`<p>No authenticator app.</p>`
    : html`<ul class="factors" aria-labelledby="totp-heading">${totp.map(
        (f, i) => html`<li>
<strong>${f.name}</strong><br><span class="muted">Added ${when(f.created_at)}, ${used(f)}</span>
<form method="post" action="${v.basePath}/account/totp/rename" novalidate>
${csrfField(v)}<input type="hidden" name="factor" value="${f.id}">
<label for="totp-name-${i}">New name for ${f.name}</label>
<input type="text" id="totp-name-${i}" name="name" value="${f.name}" maxlength="${MAX_PASSKEY_NAME}" required>
<div class="actions"><button type="submit" class="secondary">Rename ${f.name}</button></div>
</form>
<form method="post" action="${v.basePath}/account/totp/remove" novalidate>
${csrfField(v)}<input type="hidden" name="factor" value="${f.id}">
${passwordField(`totp-remove-password-${i}`, `Current password (to remove ${f.name})`)}
<div class="actions"><button type="submit" class="secondary">Remove ${f.name}</button></div>
</form>
</li>`,
      )}</ul>`
}
<form method="post" action="${v.basePath}/account/totp/start" novalidate>
${csrfField(v)}
<label for="totp-new-name">Name of the app</label>
<input type="text" id="totp-new-name" name="name" value="${totp.length === 0 ? 'Authenticator app' : `Authenticator app ${totp.length + 1}`}" maxlength="${MAX_PASSKEY_NAME}" required>
${passwordField('totp-start-password', 'Current password (to set up an app)')}
<div class="actions"><button type="submit" class="secondary">Set up an authenticator app</button></div>
</form>
<h3>Recovery codes</h3>
<p id="recovery-left">${s.recoveryCodesLeft === 1 ? '1 recovery code left.' : `${s.recoveryCodesLeft} recovery codes left.`}</p>
<form method="post" action="${v.basePath}/account/recovery/regenerate" novalidate>
${csrfField(v)}
${passwordField('recovery-password', 'Current password (for new recovery codes)')}
<div class="actions"><button type="submit" class="secondary">Make new recovery codes</button></div>
</form>
</section>`
}

async function reauth(
  c: SelfServiceContext,
  r: { clientIp: string },
  who: SignedIn,
  form: URLSearchParams,
): Promise<ActionOutcome | null> {
  const check = await checkCurrentPassword(c, who.user, form.get('current_password') ?? '', r.clientIp)
  return check === 'ok' ? null : { problem: REAUTH_PROBLEM[check], status: check === 'wrong' ? 200 : 429 }
}

function nameOf(form: URLSearchParams): string | null {
  const name = (form.get('name') ?? '').trim()
  return name === '' || name.length > MAX_PASSKEY_NAME || /[\p{Cc}]/u.test(name) ? null : name
}

const NAME_PROBLEM = `Give it a name of 1 to ${MAX_PASSKEY_NAME} characters.`

const addPasskey: AccountAction = async (c, r, who, form) => {
  // Taken first, whatever follows: a challenge is good for one try.
  const challenge = await takeChallenge(c.store.oidc, registerKey(who))
  const name = nameOf(form)
  const denied = await reauth(c, r, who, form)
  if (denied !== null) return denied
  if (name === null) return { problem: NAME_PROBLEM, status: 400 }
  const response = parseCredential<RegistrationResponseJSON>(form.get('credential'))
  if (response === null || challenge === undefined)
    return { problem: 'The passkey was not created. Try again.', status: 400 }
  const checked = await verifyRegistration(relyingParty(c.issuer), response, challenge)
  if (!checked.ok) {
    c.logger.info(
      { user_id: who.user.id, reason: checked.reason, detail: checked.detail },
      'passkey registration refused',
    )
    return { problem: 'That passkey could not be registered. Try again.', status: 400 }
  }
  const factor = await storePasskey(c, who.user, checked.value, name, who.user.id)
  if (factor === null) return { problem: 'That passkey is registered already.', status: 409 }
  await auditAccountChange(c, r, who, 'user.factor_added', { kind: 'passkey', factor_id: factor.id })
  return { done: 'passkey-added' }
}

async function ownFactor(
  c: SelfServiceContext,
  who: SignedIn,
  form: URLSearchParams,
  kind: StoredFactor['kind'],
) {
  const factor = await c.store.factors.get(form.get('factor') ?? '')
  return factor !== undefined && factor.user_id === who.user.id && factor.kind === kind ? factor : undefined
}

/** Renames one of the person's factors of `kind` (no password asked: a name changes nothing it guards). */
const renameFactor =
  (kind: StoredFactor['kind'], what: string): AccountAction =>
  async (c, r, who, form) => {
    const factor = await ownFactor(c, who, form, kind)
    if (factor === undefined) return { problem: `That ${what} is not one of yours.`, status: 404 }
    const name = nameOf(form)
    if (name === null) return { problem: NAME_PROBLEM, status: 400 }
    await c.store.factors.rename(who.user.id, factor.id, name)
    await auditAccountChange(c, r, who, 'user.factor_renamed', { kind, factor_id: factor.id })
    return { done: `${kind}-renamed` }
  }

/**
 * Removes a factor of the person after the password, unless it is the last and the policy requires
 * one; the recovery codes go with the last factor (they only stand in for one).
 */
async function removeFactor(
  c: SelfServiceContext,
  r: { clientIp: string },
  who: SignedIn,
  form: URLSearchParams,
  remove: StoredFactor,
  done: string,
): Promise<ActionOutcome> {
  const denied = await reauth(c, r, who, form)
  if (denied !== null) return denied
  const all = await c.store.factors.list(who.user.id)
  const left = all.filter((f) => f.id !== remove.id)
  const policy = strictest(c.identity.mfa, await c.store.factors.policy(who.user.id))
  if (left.length === 0 && policy === 'required')
    return {
      problem:
        'Your account must keep a second factor: add another passkey or an authenticator app before removing this one.',
      status: 409,
    }
  await c.store.factors.remove(remove.id)
  if (left.length === 0) await c.store.factors.replaceRecoveryCodes(who.user.id, [], nowSeconds())
  await auditAccountChange(c, r, who, 'user.factor_removed', {
    kind: remove.kind,
    factor_id: remove.id,
    factors_left: left.length,
  })
  return { done }
}

const removePasskey: AccountAction = async (c, r, who, form) => {
  const factor = await ownFactor(c, who, form, 'passkey')
  if (factor === undefined) return { problem: 'That passkey is not one of yours.', status: 404 }
  return removeFactor(c, r, who, form, factor, 'passkey-removed')
}

const removeTotp: AccountAction = async (c, r, who, form) => {
  const factor = await ownFactor(c, who, form, 'totp')
  if (factor === undefined) return { problem: 'That authenticator app is not one of yours.', status: 404 }
  return removeFactor(c, r, who, form, factor, 'totp-removed')
}

/** The page that shows a new app's QR code and asks its first code (the pending secret kept server-side). */
async function totpPage(
  c: SelfServiceContext,
  who: SignedIn,
  csrf: string,
  sealed: string,
  error?: string,
): Promise<ActionOutcome> {
  const secret = openSecret(factorSealKey(c.identity.secret!), pendingBinding(who), sealed)
  const uri = totpUri(secret, new URL(c.issuer).host, who.user.username)
  const svg = await qrSvg(uri)
  return {
    page: {
      title: 'Set up an authenticator app',
      body: html`<h1>Set up an authenticator app</h1>
<p>Add your account to an authenticator app (such as one on your phone), then enter the code it shows.</p>
<figure class="qr-figure">${trusted(svg)}<figcaption id="qr-label">QR code to scan with your authenticator app</figcaption></figure>
<p>Cannot scan it? Enter this key in the app instead (time-based, 6 digits):</p>
<p><code id="manual-key" class="key">${groupedKey(secret)}</code></p>
${error !== undefined && html`<p id="totp-error" class="error" role="alert">${error}</p>`}
<form method="post" action="${c.basePath}/account/totp/confirm" novalidate>
<input type="hidden" name="csrf" value="${csrf}">
<label for="code">6-digit code from the app</label>
<input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*" maxlength="6" spellcheck="false" required autofocus${error !== undefined && html` aria-describedby="totp-error"`}>
<div class="actions"><button type="submit">Turn on</button></div>
</form>
<p><a href="${c.basePath}/account">Back to your account</a></p>`,
    },
  }
}

const startTotp: AccountAction = async (c, r, who, form) => {
  const denied = await reauth(c, r, who, form)
  if (denied !== null) return denied
  const name = nameOf(form)
  if (name === null) return { problem: NAME_PROBLEM, status: 400 }
  const sealed = sealSecret(factorSealKey(c.identity.secret!), pendingBinding(who), newTotpSecret())
  await c.store.oidc.upsert(PENDING_TOTP, who.sessionUid, { sealed, name }, PENDING_TTL, nowSeconds())
  return totpPage(c, who, form.get('csrf') ?? '', sealed)
}

const confirmTotp: AccountAction = async (c, r, who, form) => {
  const pending = await c.store.oidc.find(PENDING_TOTP, who.sessionUid, nowSeconds())
  const sealed = pending?.payload['sealed']
  const pendingName = pending?.payload['name']
  if (typeof sealed !== 'string')
    return { problem: 'The authenticator app setup expired. Start it again.', status: 400 }
  const key = factorSealKey(c.identity.secret!)
  const secret = openSecret(key, pendingBinding(who), sealed)
  const now = nowSeconds()
  const step = matchTotp(secret, (form.get('code') ?? '').replace(/\s/g, ''), now * 1000)
  if (step === null)
    return totpPage(
      c,
      who,
      form.get('csrf') ?? '',
      sealed,
      'That code is not valid. Enter the code your authenticator app shows now.',
    )
  if ((await c.store.oidc.take(PENDING_TOTP, who.sessionUid, now)) === undefined)
    return { problem: 'The authenticator app setup expired. Start it again.', status: 400 }
  const id = randomUUID()
  await c.store.factors.insert({
    id,
    user_id: who.user.id,
    kind: 'totp',
    name: typeof pendingName === 'string' ? pendingName : 'Authenticator app',
    secret: sealSecret(key, id, secret),
    last_step: step,
    created_at: now,
    last_used_at: now,
  })
  await auditAccountChange(c, r, who, 'user.factor_added', { kind: 'totp', factor_id: id })
  return { done: 'totp-added' }
}

const regenerateCodes: AccountAction = async (c, r, who, form) => {
  const denied = await reauth(c, r, who, form)
  if (denied !== null) return denied
  if ((await c.store.factors.list(who.user.id)).length === 0)
    return {
      problem: 'Add a passkey or an authenticator app first: recovery codes stand in for one.',
      status: 409,
    }
  const codes = newRecoveryCodes()
  const key = recoveryCodeKey(c.identity.secret!)
  await c.store.factors.replaceRecoveryCodes(
    who.user.id,
    codes.map((code) => hashRecoveryCode(key, code)),
    nowSeconds(),
  )
  await auditAccountChange(c, r, who, 'user.recovery_codes_renewed', { count: codes.length })
  return {
    page: {
      title: 'Your new recovery codes',
      body: html`<h1>Your new recovery codes</h1>
<p>Each of these codes signs you in once if you lose your passkeys and authenticator app. Keep them somewhere safe: they are not shown again, and your old codes no longer work.</p>
<ul class="codes" aria-label="Recovery codes">${codes.map((code) => html`<li><code>${code}</code></li>`)}</ul>
<p><a href="${c.basePath}/account">Back to your account</a></p>`,
    },
  }
}

export const SECURITY_ACTIONS: Readonly<Record<string, AccountAction>> = {
  'passkeys/add': addPasskey,
  'passkeys/rename': renameFactor('passkey', 'passkey'),
  'passkeys/remove': removePasskey,
  'totp/start': startTotp,
  'totp/confirm': confirmTotp,
  'totp/rename': renameFactor('totp', 'authenticator app'),
  'totp/remove': removeTotp,
  'recovery/regenerate': regenerateCodes,
}

export const SECURITY_NOTICES: Readonly<Record<string, string>> = {
  'passkey-added': 'Your passkey was added.',
  'passkey-renamed': 'Your passkey was renamed.',
  'passkey-removed': 'Your passkey was removed.',
  'totp-added': 'Your authenticator app was added.',
  'totp-renamed': 'Your authenticator app was renamed.',
  'totp-removed': 'Your authenticator app was removed.',
}
