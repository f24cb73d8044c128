/**
 * The second step of a sign-in (issue 14), after the password or, for a step-up, on the session's
 * account alone:
 *
 *   POST /interaction/:uid/otp        a code from the authenticator app
 *   POST /interaction/:uid/recovery   a recovery code (single use)
 *   POST /interaction/:uid/enrol      the first code of a new authenticator app (enrolment)
 *   POST /interaction/:uid/finish     after the recovery codes were shown: finish the sign-in
 *   POST /interaction/:uid/passkey-verify, /passkey-enrol   the same with a passkey      passkey.ts
 *
 * What was proved so far lives in progress.ts (server-side, bound to the interaction). A wrong or
 * replayed code counts against the account and the address exactly as a wrong password does
 * (throttle.ts), so a stolen password does not buy unlimited guesses at the code; the account's count
 * is cleared only once every factor the sign-in needs was proved.
 */
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Interaction } from 'oidc-provider'
import type { StoredFactor, StoredUser } from '../../storage/store.ts'
import { clientFacts } from '../client-metadata.ts'
import { ACR_1FA, ACR_2FA, acrOf, asksTwoFactors, withSecondFactor } from '../factors/policy.ts'
import { hashRecoveryCode, newRecoveryCodes, normalizeRecoveryCode } from '../factors/recovery-codes.ts'
import { secondStepFor } from '../factors/requirement.ts'
import { FactorSecretError, openSecret, sealSecret } from '../factors/seal.ts'
import { groupedKey, matchTotp, newTotpSecret, qrSvg, totpUri } from '../factors/totp.ts'
import { factorSealKey, recoveryCodeKey } from '../secrets.ts'
import { enrolPage, recoveryCodesPage } from '../views/enrol.ts'
import { sendPage } from '../views/page.ts'
import { type SecondFactorMethod, secondFactorPage } from '../views/second-factor.ts'
import type { InteractionContext, InteractionRequest } from './context.ts'
import { csrfToken } from './csrf.ts'
import { enrolPasskeyOffer, passkeyScript, verifyPasskeyOffer } from './passkey.ts'
import { dropProgress, enrolBinding, progressAccount, type SignInProgress, saveProgress } from './progress.ts'
import { throttleKeys } from './throttle.ts'

/** The login prompt's check (provider-config.ts) that asks for the second factor on a 1fa session. */
export const SECOND_FACTOR_CHECK = 'gatehouse_second_factor'

const WRONG_CODE = 'That code is not valid. Enter the code your authenticator app shows now.'
const WRONG_RECOVERY = 'That recovery code is not valid or was already used.'
const LOCKED = 'Too many failed attempts. Wait a while, then try again.'
const nowSeconds = () => Math.floor(Date.now() / 1000)

/** A step-up: the session's account is known and only its second factor is missing. */
export function isStepUpOnly(interaction: Interaction): boolean {
  const reasons = interaction.prompt.reasons
  return (
    interaction.session?.accountId !== undefined &&
    reasons.length > 0 &&
    reasons.every((r) => r === SECOND_FACTOR_CHECK)
  )
}

async function clientOf(c: InteractionContext, interaction: Interaction) {
  const clientId = String(interaction.params['client_id'])
  const client = await c.provider.Client.find(clientId)
  return { name: client?.clientName ?? clientId, mfa: client ? clientFacts(client).mfa : null }
}

/** What the first factor of a sign-in proved: RFC 8176 methods (`[]` when unknown) and its acr. */
export interface FirstFactor {
  readonly amr: readonly string[]
  readonly acr: string
}

/** A password: the first factor of the sign-in form (and of the broker's link page). */
export const PASSWORD: FirstFactor = { amr: ['pwd'], acr: ACR_1FA }

/**
 * After the first factor (a password, a brokered sign-in, or a step-up's session): finishes the sign-in
 * when nothing more is needed, refuses it when two factors are asked of a user who has none and may not
 * enrol, else keeps the progress and sends the browser to the second step (303, so a reload does not
 * post again). A first factor that already proved two (a trusted external provider's `mfa`) meets a
 * client's `acr_values` by itself, but the user's and client's mfa policy still asks for a code.
 */
export async function continueSignIn(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  user: StoredUser,
  first: FirstFactor,
): Promise<void> {
  const client = await clientOf(c, interaction)
  const need = await secondStepFor(
    c.store,
    c.identity.mfa,
    client.mfa,
    user.id,
    asksTwoFactors(interaction.params['acr_values']) && first.acr !== ACR_2FA,
  )
  if (need.step === 'none') {
    await c.throttle.success(throttleKeys(user.username, r.clientIp))
    return finishSignIn(c, r, interaction, user.id, first)
  }
  if (need.step === 'unmet') {
    c.logger.info(
      { user_id: user.id, client_id: interaction.params['client_id'], reason: 'no_second_factor' },
      'second factor required but none enrolled',
    )
    return c.provider.interactionFinished(
      r.req,
      r.res,
      {
        error: 'unmet_authentication_requirements',
        error_description: 'a second factor is required and the account has none',
      },
      { mergeWithLastSubmission: false },
    )
  }
  await saveProgress(c, interaction, { accountId: user.id, amr: first.amr })
  r.res.writeHead(303, {
    location: `${c.basePath}/interaction/${interaction.uid}`,
    'cache-control': 'no-store',
  })
  r.res.end()
}

/** A step-up: starts the second step on the session's account, without the password. */
export async function startStepUp(c: InteractionContext, r: InteractionRequest, interaction: Interaction) {
  const user = await c.store.users.get(interaction.session!.accountId)
  if (user === undefined || user.disabled) return false
  // The session is the first factor, whatever it was (a brokered one may have `amr: []`).
  const amr = (interaction.session?.amr as string[] | undefined) ?? ['pwd']
  const acr = (interaction.session?.acr as string | undefined) ?? acrOf(amr)
  await continueSignIn(c, r, interaction, user, { amr, acr })
  return true
}

/** The page of the second step this sign-in is at (the code, the enrolment, or the recovery codes). */
export async function showSecondStep(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  progress: SignInProgress,
  state: { error?: { form: 'totp' | 'recovery' | 'passkey'; message: string }; status?: number } = {},
): Promise<void> {
  const base = `${c.basePath}/interaction/${interaction.uid}`
  const csrf = csrfToken(c.csrfKey, interaction)
  if (progress.done !== undefined) {
    const page = recoveryCodesPage({ action: `${base}/finish`, csrf, codes: null })
    return sendPage(r.res, 200, page.title, page.body)
  }
  const client = await clientOf(c, interaction)
  const factors = await c.store.factors.list(progress.accountId)
  const hasTotp = factors.some((f) => f.kind === 'totp')
  const passkeys = await c.store.factors.passkeys(progress.accountId)
  if (!hasTotp && passkeys.length === 0) return showEnrol(c, r, interaction, progress, state.error)
  const methods: SecondFactorMethod[] = []
  if (passkeys.length > 0) methods.push(await verifyPasskeyOffer(c, interaction, passkeys))
  if (hasTotp) methods.push({ kind: 'totp', action: `${base}/otp` })
  const page = secondFactorPage({
    methods,
    recoveryAction: `${base}/recovery`,
    abortAction: `${base}/abort`,
    csrf,
    clientName: client.name,
    error: state.error,
  })
  sendPage(r.res, state.status ?? 200, page.title, page.body, {
    script: passkeys.length > 0 ? passkeyScript(c) : undefined,
  })
}

async function showEnrol(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  progress: SignInProgress,
  error?: { form: 'totp' | 'recovery' | 'passkey'; message: string },
): Promise<void> {
  const key = factorSealKey(c.identity.secret!)
  let sealed = progress.enrolSecret
  if (sealed === undefined) {
    sealed = sealSecret(key, enrolBinding(interaction.uid), newTotpSecret())
    await saveProgress(c, interaction, { ...progress, enrolSecret: sealed })
  }
  const secret = openSecret(key, enrolBinding(interaction.uid), sealed)
  const user = await c.store.users.get(progress.accountId)
  const uri = totpUri(secret, new URL(c.identity.issuer!).host, user?.username ?? progress.accountId)
  const offer = user !== undefined ? await enrolPasskeyOffer(c, interaction, user) : undefined
  const base = `${c.basePath}/interaction/${interaction.uid}`
  const page = enrolPage({
    action: `${base}/enrol`,
    abortAction: `${base}/abort`,
    csrf: csrfToken(c.csrfKey, interaction),
    clientName: (await clientOf(c, interaction)).name,
    qrSvg: await qrSvg(uri),
    manualKey: groupedKey(secret),
    uri,
    error: error?.form === 'totp' ? error.message : undefined,
    passkey:
      offer !== undefined
        ? { ...offer, error: error?.form === 'passkey' ? error.message : undefined }
        : undefined,
  })
  sendPage(r.res, 200, page.title, page.body, { script: offer !== undefined ? passkeyScript(c) : undefined })
}

type Attempt = (
  user: StoredUser,
  now: number,
) => Promise<{ ok: true; factor?: StoredFactor } | { ok: false; reason: string }>

/** A code or recovery code: throttled like a password, counted when wrong, the sign-in finished when right. */
async function attempt(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  progress: SignInProgress,
  form: 'totp' | 'recovery',
  check: Attempt,
): Promise<void> {
  const user = await progressAccount(c, interaction, progress)
  const keys = throttleKeys(user.username, r.clientIp)
  const gate = await c.throttle.gate(keys, nowSeconds())
  if (gate.delayMs > 0) await sleep(gate.delayMs)
  const log = { user_id: user.id, client_id: interaction.params['client_id'], ip: r.clientIp, method: form }
  if (gate.locked !== null) {
    c.logger.info(
      { ...log, reason: gate.locked === 'account' ? 'account_locked' : 'address_locked' },
      'second factor refused',
    )
    return showSecondStep(c, r, interaction, progress, { error: { form, message: LOCKED } })
  }
  const result = await check(user, nowSeconds())
  if (!result.ok) {
    const locked = await c.throttle.failure(keys, nowSeconds())
    c.logger.info({ ...log, reason: result.reason, locked: locked ?? undefined }, 'second factor failed')
    const message = locked !== null ? LOCKED : form === 'totp' ? WRONG_CODE : WRONG_RECOVERY
    return showSecondStep(c, r, interaction, progress, { error: { form, message } })
  }
  await c.throttle.success(keys)
  c.logger.info({ ...log, factor_id: result.factor?.id }, 'second factor verified')
  await dropProgress(c, interaction)
  await finishSignIn(c, r, interaction, user.id, twoFactors(progress.amr, 'otp'))
}

/** `POST /otp`: a code from any of the user's authenticator apps, each time step once. */
export function submitCode(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  progress: SignInProgress,
  code: string,
): Promise<void> {
  return attempt(c, r, interaction, progress, 'totp', async (user, now) => {
    const key = factorSealKey(c.identity.secret!)
    const typed = code.replace(/\s/g, '')
    for (const factor of await c.store.factors.list(user.id)) {
      if (factor.kind !== 'totp') continue
      const secret = openedOrNull(key, factor)
      if (secret === null) {
        // Sealed under another identity.secret: unusable until that secret is restored (or a reset).
        c.logger.warn(
          { user_id: user.id, factor_id: factor.id, reason: 'factor_secret_unusable' },
          'second factor unusable',
        )
        continue
      }
      const step = matchTotp(secret, typed, now * 1000)
      if (step === null) continue
      if (await c.store.factors.acceptStep(factor.id, step, now)) return { ok: true, factor }
      return { ok: false, reason: 'code_replayed' }
    }
    return { ok: false, reason: 'wrong_code' }
  })
}

/** `POST /recovery`: spends one recovery code. */
export function submitRecoveryCode(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  progress: SignInProgress,
  typed: string,
): Promise<void> {
  return attempt(c, r, interaction, progress, 'recovery', async (user, now) => {
    const code = normalizeRecoveryCode(typed)
    if (code === null) return { ok: false, reason: 'wrong_recovery_code' }
    const hash = hashRecoveryCode(recoveryCodeKey(c.identity.secret!), code)
    if (!(await c.store.factors.consumeRecoveryCode(user.id, hash, now)))
      return { ok: false, reason: 'wrong_recovery_code' }
    const left = await c.store.factors.recoveryCodesLeft(user.id)
    c.logger.info(
      { user_id: user.id, actor: 'user', recovery_codes_left: left },
      'identity recovery code used',
    )
    return { ok: true }
  })
}

/**
 * `POST /enrol`: the first code proves the app holds the pending secret; the factor is then stored
 * (sealed to its own id), ten recovery codes replace any old ones, and they are shown this once.
 */
export async function submitEnrol(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  progress: SignInProgress,
  code: string,
): Promise<void> {
  if (progress.enrolSecret === undefined) return showSecondStep(c, r, interaction, progress)
  const key = factorSealKey(c.identity.secret!)
  const secret = openSecret(key, enrolBinding(interaction.uid), progress.enrolSecret)
  const now = nowSeconds()
  const step = matchTotp(secret, code.replace(/\s/g, ''), now * 1000)
  if (step === null) return showEnrol(c, r, interaction, progress, { form: 'totp', message: WRONG_CODE })
  const id = randomUUID()
  const factor: StoredFactor = {
    id,
    user_id: progress.accountId,
    kind: 'totp',
    name: 'Authenticator app',
    secret: sealSecret(key, id, secret),
    last_step: step,
    created_at: now,
    last_used_at: now,
  }
  await c.store.factors.insert(factor)
  c.logger.info(
    { user_id: progress.accountId, actor: 'user', factor_id: id, kind: 'totp' },
    'identity factor enrolled',
  )
  const user = await c.store.users.get(progress.accountId)
  if (user !== undefined) await enrolled(c, r, interaction, progress, user, 'otp')
}

/**
 * After a first factor was enrolled during a sign-in (`method`: its amr): ten recovery codes replace
 * any old ones and are shown this once; the sign-in finishes with the next "continue".
 */
export async function enrolled(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  progress: SignInProgress,
  user: StoredUser,
  method: string,
): Promise<void> {
  const now = nowSeconds()
  const codes = newRecoveryCodes()
  const hashKey = recoveryCodeKey(c.identity.secret!)
  await c.store.factors.replaceRecoveryCodes(
    user.id,
    codes.map((code) => hashRecoveryCode(hashKey, code)),
    now,
  )
  c.logger.info(
    { user_id: user.id, actor: 'user', recovery_codes: codes.length },
    'identity recovery codes issued',
  )
  const done = twoFactors(progress.amr, method)
  await saveProgress(c, interaction, { accountId: user.id, amr: done.amr, done })
  await c.throttle.success(throttleKeys(user.username, r.clientIp))
  const page = recoveryCodesPage({
    action: `${c.basePath}/interaction/${interaction.uid}/finish`,
    csrf: csrfToken(c.csrfKey, interaction),
    codes,
  })
  sendPage(r.res, 200, page.title, page.body)
}

/** `POST /finish`: the sign-in whose factors are all proved (after an enrolment) ends. */
export async function submitFinish(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  progress: SignInProgress,
): Promise<void> {
  if (progress.done === undefined) return showSecondStep(c, r, interaction, progress)
  await dropProgress(c, interaction)
  await finishSignIn(c, r, interaction, progress.accountId, progress.done)
}

/** The first factor's methods with a second one proved after it: two factors, whatever the first was. */
export function twoFactors(first: readonly string[], second: string): FirstFactor {
  return { amr: withSecondFactor(first, second), acr: ACR_2FA }
}

/** Ends the sign-in with the methods proved (amr and acr from them, policy.ts). */
export async function finishSignIn(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  accountId: string,
  proved: FirstFactor,
): Promise<void> {
  const { amr, acr } = proved
  c.logger.info(
    { user_id: accountId, client_id: interaction.params['client_id'], amr, acr },
    'login succeeded',
  )
  await c.provider.interactionFinished(
    r.req,
    r.res,
    { login: { accountId, amr: [...amr], acr } },
    { mergeWithLastSubmission: false },
  )
}

function openedOrNull(key: Buffer, factor: StoredFactor): string | null {
  try {
    return openSecret(key, factor.id, factor.secret)
  } catch (err) {
    if (err instanceof FactorSecretError) return null
    throw err
  }
}
