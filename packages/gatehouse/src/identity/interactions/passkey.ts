/**
 * Passkeys in a sign-in (issue 14):
 *
 *   POST /interaction/:uid/passkey          a passkey alone (discoverable; the login page's button)
 *   POST /interaction/:uid/passkey-verify   a passkey as the second factor after the password
 *   POST /interaction/:uid/passkey-enrol    a new passkey where a second factor must be enrolled
 *
 * Each page that offers a passkey makes a challenge bound to the interaction and the purpose
 * (factors/challenges.ts), taken once when the answer comes back. A passkey alone must have verified
 * the user (UV: a PIN or biometric on the authenticator), which makes it two factors by itself:
 * amr ["hwk","mfa"], acr 2fa; without UV it is refused on that path. After a password it is the
 * second factor whether or not UV was done: ["pwd","hwk","mfa"]. Failed assertions count in the login
 * throttle like wrong passwords and codes; a disabled user's passkey signs nobody in; a counter that
 * does not go forward is refused and logged as a possible cloned authenticator.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server'
import type { Interaction } from 'oidc-provider'
import type { StoredFactor, StoredPasskey, StoredUser } from '../../storage/store.ts'
import { PASSKEY_SCRIPT_PATH } from '../assets/passkey-script.ts'
import { issueChallenge, takeChallenge } from '../factors/challenges.ts'
import { credentialFingerprint } from '../factors/fingerprint.ts'
import {
  authenticationOptions,
  type PasskeyCheck,
  parseCredential,
  passkeysAvailable,
  registrationOptions,
  relyingParty,
  verifyAssertion,
  verifyRegistration,
} from '../factors/passkey.ts'
import { ACR_2FA } from '../factors/policy.ts'
import type { InteractionContext, InteractionRequest } from './context.ts'
import { showLogin } from './pages.ts'
import { dropProgress, progressAccount, type SignInProgress } from './progress.ts'
import { enrolled, finishSignIn, showSecondStep, twoFactors } from './second-factor.ts'
import { throttleKeys } from './throttle.ts'

const PASSKEY_FAILED = 'That passkey could not be used to sign in. Try again, or sign in with your password.'
const PASSKEY_WRONG = 'That passkey could not be verified. Try again, or use another way below.'
const LOCKED = 'Too many failed attempts. Wait a while, then try again.'
const nowSeconds = () => Math.floor(Date.now() / 1000)

type Purpose = 'login' | 'verify' | 'enrol' | 'link'
const challengeKey = (interaction: Interaction, purpose: Purpose) =>
  `interaction:${interaction.uid}:${purpose}`

/** The script URL the pages that offer a passkey load. */
export const passkeyScript = (c: InteractionContext): string => `${c.basePath}${PASSKEY_SCRIPT_PATH}`

/**
 * The options of an assertion by any discoverable passkey of this RP, with user verification (a passkey
 * alone is both factors), its challenge kept for `purpose`; undefined where passkeys cannot work.
 */
async function discoverableOptions(c: InteractionContext, interaction: Interaction, purpose: Purpose) {
  if (!passkeysAvailable(c.identity.issuer!)) return undefined
  const challenge = await issueChallenge(c.store.oidc, challengeKey(interaction, purpose))
  const options = await authenticationOptions(
    relyingParty(c.identity.issuer!),
    undefined,
    'required',
    challenge,
  )
  return JSON.stringify(options)
}

/** The login page's "Sign in with a passkey". */
export async function loginPasskeyOffer(c: InteractionContext, interaction: Interaction) {
  const options = await discoverableOptions(c, interaction, 'login')
  if (options === undefined) return undefined
  return { action: `${c.basePath}/interaction/${interaction.uid}/passkey`, options }
}

/** The broker's link page: an existing account proved with its passkey. */
export async function linkPasskeyOffer(c: InteractionContext, interaction: Interaction) {
  const options = await discoverableOptions(c, interaction, 'link')
  return options === undefined ? undefined : { options }
}

/** The second step's passkey section: the user's passkeys listed, UV preferred. */
export async function verifyPasskeyOffer(
  c: InteractionContext,
  interaction: Interaction,
  passkeys: readonly StoredPasskey[],
) {
  const challenge = await issueChallenge(c.store.oidc, challengeKey(interaction, 'verify'))
  const options = await authenticationOptions(
    relyingParty(c.identity.issuer!),
    passkeys,
    'preferred',
    challenge,
  )
  return {
    kind: 'passkey' as const,
    action: `${c.basePath}/interaction/${interaction.uid}/passkey-verify`,
    options: JSON.stringify(options),
  }
}

/** The enrolment page's passkey section. */
export async function enrolPasskeyOffer(c: InteractionContext, interaction: Interaction, user: StoredUser) {
  if (!passkeysAvailable(c.identity.issuer!)) return undefined
  const challenge = await issueChallenge(c.store.oidc, challengeKey(interaction, 'enrol'))
  const existing = await c.store.factors.passkeys(user.id)
  const options = await registrationOptions(relyingParty(c.identity.issuer!), user, existing, challenge)
  return {
    action: `${c.basePath}/interaction/${interaction.uid}/passkey-enrol`,
    options: JSON.stringify(options),
  }
}

interface Asserted {
  readonly user: StoredUser
  readonly factor: StoredFactor
  readonly userVerified: boolean
}

/**
 * Checks an assertion against the challenge of `purpose`, throttled under the user's and the
 * address's keys. `expectUser`: the passkey must be this user's (the second step). A passkey alone
 * (`login`, `link`: it is the whole proof of the account) must have verified its user.
 */
export async function assertPasskey(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  purpose: Purpose,
  credentialText: string | null,
  expectUser: string | undefined,
): Promise<PasskeyCheck<Asserted> & { locked?: boolean }> {
  const response = parseCredential<AuthenticationResponseJSON>(credentialText)
  const challenge = await takeChallenge(c.store.oidc, challengeKey(interaction, purpose))
  if (response === null) return { ok: false, reason: 'passkey_response_malformed' }
  const found = await c.store.factors.findPasskey(response.id)
  const user = found !== undefined ? await c.store.users.get(found.factor.user_id) : undefined
  // An unknown credential still counts against the address (and a key of its own, never a real user's).
  const keys = throttleKeys(user?.username ?? `passkey:${credentialFingerprint(response.id)}`, r.clientIp)
  const gate = await c.throttle.gate(keys, nowSeconds())
  if (gate.delayMs > 0) await sleep(gate.delayMs)
  if (gate.locked !== null)
    return {
      ok: false,
      reason: gate.locked === 'account' ? 'account_locked' : 'address_locked',
      locked: true,
    }
  const refuse = async (reason: string, detail?: string) => {
    const locked = await c.throttle.failure(keys, nowSeconds())
    return { ok: false as const, reason, detail, locked: locked !== null }
  }
  if (challenge === undefined) return refuse('passkey_challenge_missing')
  if (found === undefined || user === undefined) return refuse('passkey_unknown')
  if (expectUser !== undefined && user.id !== expectUser) return refuse('passkey_of_another_user')
  if (user.disabled) return refuse('user_disabled')
  const checked = await verifyAssertion(
    relyingParty(c.identity.issuer!),
    response,
    challenge,
    found.passkey,
    purpose === 'login' || purpose === 'link',
  )
  if (!checked.ok) {
    if (checked.reason === 'passkey_counter_replayed')
      c.logger.warn(
        { user_id: user.id, factor_id: found.factor.id, reason: checked.reason },
        'passkey counter did not go forward: possibly a cloned authenticator',
      )
    return refuse(checked.reason, checked.detail)
  }
  if ((purpose === 'login' || purpose === 'link') && !checked.value.userVerified)
    return refuse('passkey_user_not_verified')
  if (!(await c.store.factors.acceptCounter(found.factor.id, checked.value.counter, nowSeconds()))) {
    c.logger.warn(
      { user_id: user.id, factor_id: found.factor.id, reason: 'passkey_counter_replayed' },
      'passkey counter did not go forward: possibly a cloned authenticator',
    )
    return refuse('passkey_counter_replayed')
  }
  return { ok: true, value: { user, factor: found.factor, userVerified: checked.value.userVerified } }
}

/** `POST /passkey`: a passkey alone; the login page again, with a generic error, when it fails. */
export async function submitPasskeyLogin(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  form: URLSearchParams,
): Promise<void> {
  const result = await assertPasskey(c, r, interaction, 'login', form.get('credential'), undefined)
  const log = { client_id: interaction.params['client_id'], ip: r.clientIp, method: 'passkey' }
  if (!result.ok) {
    c.logger.info(
      { ...log, reason: result.reason, detail: result.detail, locked: result.locked },
      'login failed',
    )
    return showLogin(c, r, interaction, 200, { error: result.locked ? LOCKED : PASSKEY_FAILED })
  }
  const { user, factor } = result.value
  await c.throttle.success(throttleKeys(user.username, r.clientIp))
  c.logger.info({ ...log, user_id: user.id, factor_id: factor.id }, 'passkey accepted')
  // The passkey verified the user itself (UV): something held and something known or are.
  await finishSignIn(c, r, interaction, user.id, { amr: ['hwk', 'mfa'], acr: ACR_2FA })
}

/** `POST /passkey-verify`: the second factor after the password (or a step-up). */
export async function submitPasskeyVerify(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  progress: SignInProgress,
  form: URLSearchParams,
): Promise<void> {
  await progressAccount(c, interaction, progress)
  const result = await assertPasskey(c, r, interaction, 'verify', form.get('credential'), progress.accountId)
  const log = {
    user_id: progress.accountId,
    client_id: interaction.params['client_id'],
    ip: r.clientIp,
    method: 'passkey',
  }
  if (!result.ok) {
    c.logger.info(
      { ...log, reason: result.reason, detail: result.detail, locked: result.locked },
      'second factor failed',
    )
    return showSecondStep(c, r, interaction, progress, {
      error: { form: 'passkey', message: result.locked ? LOCKED : PASSKEY_WRONG },
    })
  }
  await c.throttle.success(throttleKeys(result.value.user.username, r.clientIp))
  c.logger.info({ ...log, factor_id: result.value.factor.id }, 'second factor verified')
  await dropProgress(c, interaction)
  await finishSignIn(c, r, interaction, progress.accountId, twoFactors(progress.amr, 'hwk'))
}

/** `POST /passkey-enrol`: registers the passkey, then the recovery codes (shown once), as for an app. */
export async function submitPasskeyEnrol(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  progress: SignInProgress,
  form: URLSearchParams,
): Promise<void> {
  const user = await progressAccount(c, interaction, progress)
  const response = parseCredential<RegistrationResponseJSON>(form.get('credential'))
  const challenge = await takeChallenge(c.store.oidc, challengeKey(interaction, 'enrol'))
  const checked =
    response === null || challenge === undefined
      ? ({
          ok: false,
          reason: response === null ? 'passkey_response_malformed' : 'passkey_challenge_missing',
        } as const)
      : await verifyRegistration(relyingParty(c.identity.issuer!), response, challenge)
  if (!checked.ok) {
    c.logger.info(
      { user_id: user.id, reason: checked.reason, detail: 'detail' in checked ? checked.detail : undefined },
      'passkey registration refused',
    )
    return showSecondStep(c, r, interaction, progress, {
      error: { form: 'passkey', message: 'That passkey could not be registered. Try again.' },
    })
  }
  const factor = await storePasskey(c, user, checked.value, 'Passkey', 'user')
  if (factor === null)
    return showSecondStep(c, r, interaction, progress, {
      error: { form: 'passkey', message: 'That passkey is registered already.' },
    })
  await enrolled(c, r, interaction, progress, user, 'hwk')
}

/**
 * Stores a verified passkey as a factor of the user (audited); null when its credential is registered
 * already (to anyone).
 */
export async function storePasskey(
  c: Pick<InteractionContext, 'store' | 'logger'>,
  user: StoredUser,
  passkey: Omit<StoredPasskey, 'factor_id'>,
  name: string,
  actor: string,
): Promise<StoredFactor | null> {
  const id = randomUUID()
  const now = nowSeconds()
  const factor: StoredFactor = {
    id,
    user_id: user.id,
    kind: 'passkey',
    name,
    secret: '',
    last_step: null,
    created_at: now,
    last_used_at: null,
  }
  try {
    await c.store.factors.insertPasskey(factor, { ...passkey, factor_id: id })
  } catch (err) {
    if ((err as { field?: unknown }).field === 'credential_id') return null
    throw err
  }
  c.logger.info(
    {
      user_id: user.id,
      actor,
      factor_id: id,
      kind: 'passkey',
      credential: credentialFingerprint(passkey.credential_id),
      backed_up: passkey.backed_up,
    },
    'identity factor enrolled',
  )
  return factor
}
