/**
 * The passkey script the provider's pages load from `<issuer>/assets/passkey.js` (mount.ts): kept in a
 * module, not a file beside it, so the published package (dist/) carries it with no copy step. Hand-written
 * and small rather than a bundle: it only converts base64url and calls navigator.credentials.
 */
import { createHash } from 'node:crypto'

export const PASSKEY_SCRIPT_PATH = '/assets/passkey.js'

export const PASSKEY_SCRIPT = String.raw`// Gatehouse passkeys: the browser half of WebAuthn for the provider's pages, served as a file of its own
// (the pages' CSP allows script from 'self' only, never inline). A form with data-passkey="create" or
// "get" carries the options the server made (its challenge kept server-side) in data-passkey-options;
// its button asks the browser for a passkey, and the answer is posted in the hidden field "credential",
// base64url-encoded as WebAuthn's JSON (what @simplewebauthn/server reads). Nothing is sent elsewhere.
;(() => {
  const b64 = {
    decode(s) {
      const t = s.replace(/-/g, '+').replace(/_/g, '/')
      const bin = atob(t + '='.repeat((4 - (t.length % 4)) % 4))
      return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer
    },
    encode(buf) {
      let bin = ''
      for (const byte of new Uint8Array(buf)) bin += String.fromCharCode(byte)
      return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
    },
  }
  const creds = (list) => (list ?? []).map((c) => ({ ...c, id: b64.decode(c.id) }))

  function creationOptions(o) {
    return {
      ...o,
      challenge: b64.decode(o.challenge),
      user: { ...o.user, id: b64.decode(o.user.id) },
      excludeCredentials: creds(o.excludeCredentials),
    }
  }
  function requestOptions(o) {
    return { ...o, challenge: b64.decode(o.challenge), allowCredentials: creds(o.allowCredentials) }
  }

  function toJSON(cred) {
    const r = cred.response
    const response = { clientDataJSON: b64.encode(r.clientDataJSON) }
    if (r.attestationObject !== undefined) {
      response.attestationObject = b64.encode(r.attestationObject)
      response.transports = typeof r.getTransports === 'function' ? r.getTransports() : []
    } else {
      response.authenticatorData = b64.encode(r.authenticatorData)
      response.signature = b64.encode(r.signature)
      if (r.userHandle) response.userHandle = b64.encode(r.userHandle)
    }
    return {
      id: cred.id,
      rawId: b64.encode(cred.rawId),
      type: cred.type,
      response,
      authenticatorAttachment: cred.authenticatorAttachment ?? undefined,
      clientExtensionResults: cred.getClientExtensionResults(),
    }
  }

  function say(form, message) {
    const out = form.querySelector('[data-passkey-status]')
    if (out) out.textContent = message
  }

  async function run(form, button) {
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(form, 'This browser cannot use passkeys.')
      return
    }
    const options = JSON.parse(form.dataset.passkeyOptions)
    button.disabled = true
    try {
      const cred =
        form.dataset.passkey === 'create'
          ? await navigator.credentials.create({ publicKey: creationOptions(options) })
          : await navigator.credentials.get({ publicKey: requestOptions(options) })
      if (!cred) throw new Error('no credential')
      form.querySelector('input[name="credential"]').value = JSON.stringify(toJSON(cred))
      form.submit()
    } catch (err) {
      button.disabled = false
      say(
        form,
        err && err.name === 'InvalidStateError'
          ? 'This passkey is already registered.'
          : 'No passkey was used. The prompt was cancelled, timed out, or found no passkey for this site.',
      )
    }
  }

  for (const form of document.querySelectorAll('form[data-passkey]')) {
    const button = form.querySelector('button[data-passkey-button]')
    if (!button) continue
    button.hidden = false
    button.addEventListener('click', (event) => {
      event.preventDefault()
      if (typeof form.reportValidity === 'function' && !form.reportValidity()) return
      void run(form, button)
    })
  }
})()
`

/** Strong validator for conditional requests; the script changes only with a release. */
export const PASSKEY_SCRIPT_ETAG = `"${createHash('sha256').update(PASSKEY_SCRIPT).digest('base64url').slice(0, 22)}"`
