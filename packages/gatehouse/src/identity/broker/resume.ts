/**
 * Back from the external provider, in the interaction (its cookie is sent again below
 * /interaction/:uid):
 *
 *   GET  /interaction/:uid/broker   the identity's link decides: a linked user signs in (a disabled one is
 *                                   refused); otherwise a new account (`create_accounts`, unless an
 *                                   account has the identity's e-mail address), or the link page
 *   POST /interaction/:uid/link     the link page: an existing account's username and password link it
 *                                   (the login form's check and answers, password-check.ts), or its passkey
 *                                   (`choice=passkey`, user verification required), or `choice=create`
 *
 * An e-mail address equal to a local account's never links by itself, verified or not: an address is
 * not proof of an account (a provider may let anyone claim any address, and addresses are reassigned).
 * It only sends the person to the link page instead of making a second account.
 */
import type { Interaction } from 'oidc-provider'
import { StoreConflictError, type StoredUser } from '../../storage/store.ts'
import type { InteractionContext, InteractionRequest } from '../interactions/context.ts'
import { csrfToken } from '../interactions/csrf.ts'
import { assertPasskey, linkPasskeyOffer, passkeyScript } from '../interactions/passkey.ts'
import {
  checkPassword,
  INVALID_CREDENTIALS,
  MAX_IDENTIFIER,
  MISSING_CREDENTIALS,
  sendBusy,
} from '../interactions/password-check.ts'
import { throttleKeys } from '../interactions/throttle.ts'
import { brokerProblemPage, linkAccountPage } from '../views/link-account.ts'
import { sendPage } from '../views/page.ts'
import { createBrokeredAccount } from './accounts.ts'
import type { ExternalProviderClient } from './client.ts'
import { completeBrokeredSignIn } from './finish.ts'
import { type BrokerResult, cookieId, findResult } from './transaction.ts'

const PASSKEY_NOT_ACCEPTED = 'That passkey could not be used. Try again, or use your username and password.'

interface Pending {
  readonly provider: ExternalProviderClient
  readonly result: BrokerResult
  readonly resultId: string
}

/** The identity waiting for this interaction; null (a page sent) when there is none. */
async function pending(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
): Promise<Pending | null> {
  const id = cookieId(r.req)
  const result = id !== null ? await findResult(c.store.oidc, id, interaction.uid) : null
  const provider = result !== null ? c.brokers.get(result.broker) : undefined
  if (id === null || result === null || provider === undefined) {
    const page = brokerProblemPage(
      'Sign-in expired',
      'This sign-in with another provider has expired or was already used. Start again from the sign-in page.',
      `${c.basePath}/interaction/${interaction.uid}`,
    )
    sendPage(r.res, 400, page.title, page.body)
    return null
  }
  return { provider, result, resultId: id }
}

export async function resumeBrokeredSignIn(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
): Promise<void> {
  const p = await pending(c, r, interaction)
  if (p === null) return
  const { identity } = p.result
  const link = await c.store.links.find(p.provider.config.name, identity.subject)
  if (link !== undefined) {
    const user = await c.store.users.get(link.user_id)
    if (user === undefined || user.disabled) return refuseDisabled(c, r, p, link.user_id)
    return completeBrokeredSignIn(c, r, interaction, { user, ...p })
  }
  const emailTaken =
    identity.email !== null && (await c.store.users.findByEmail(identity.email)) !== undefined
  if (p.provider.config.create_accounts && !emailTaken) {
    const user = await createBrokeredAccount(c, p.provider, identity)
    return completeBrokeredSignIn(c, r, interaction, { user, ...p })
  }
  return showLinkPage(c, r, interaction, p, 200)
}

export async function submitLink(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  form: URLSearchParams,
): Promise<void> {
  const p = await pending(c, r, interaction)
  if (p === null) return
  if (form.get('choice') === 'create') {
    if (!p.provider.config.create_accounts) return showLinkPage(c, r, interaction, p, 400)
    // The identity may have been linked since the page was shown (another tab): that link wins.
    if ((await c.store.links.find(p.provider.config.name, p.result.identity.subject)) !== undefined)
      return resumeBrokeredSignIn(c, r, interaction)
    const user = await createBrokeredAccount(c, p.provider, p.result.identity)
    return completeBrokeredSignIn(c, r, interaction, { user, ...p })
  }
  if (form.get('choice') === 'passkey') {
    const proved = await assertPasskey(c, r, interaction, 'link', form.get('credential'), undefined)
    if (!proved.ok) {
      c.logger.info(
        { broker: p.provider.config.name, ip: r.clientIp, reason: proved.reason, detail: proved.detail },
        'account link refused',
      )
      return showLinkPage(c, r, interaction, p, 200, {
        error: proved.locked
          ? 'Too many failed attempts. Wait a while, then try again.'
          : PASSKEY_NOT_ACCEPTED,
      })
    }
    await c.throttle.success(throttleKeys(proved.value.user.username, r.clientIp))
    return linkAndSignIn(c, r, interaction, p, proved.value.user, 'passkey', '')
  }
  const identifier = (form.get('username') ?? '').trim()
  const verdict = await checkPassword(c, {
    account: { identifier },
    password: form.get('password') ?? '',
    clientIp: r.clientIp,
    audit: { message: 'account link refused', fields: { broker: p.provider.config.name } },
  })
  if (verdict.ok) return linkAndSignIn(c, r, interaction, p, verdict.user, 'password', identifier)
  if (verdict.reason === 'bounds')
    return showLinkPage(c, r, interaction, p, 400, {
      username: identifier.slice(0, MAX_IDENTIFIER),
      error: MISSING_CREDENTIALS,
    })
  if (verdict.reason === 'busy') return sendBusy(r.res)
  return showLinkPage(c, r, interaction, p, 200, { username: identifier, error: INVALID_CREDENTIALS })
}

/** Links the pending external identity to `user`, proved by `how`, and finishes the sign-in. */
async function linkAndSignIn(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  p: Pending,
  user: StoredUser,
  how: 'password' | 'passkey',
  identifier: string,
): Promise<void> {
  const now = () => Math.floor(Date.now() / 1000)
  const log = { broker: p.provider.config.name, user_id: user.id, ip: r.clientIp }
  const broker = p.provider.config.name
  const { identity } = p.result
  try {
    await c.store.links.insert({
      broker,
      subject: identity.subject,
      user_id: user.id,
      email: identity.email,
      username: identity.username,
      created_at: now(),
      last_used_at: null,
    })
  } catch (err) {
    if (!(err instanceof StoreConflictError)) throw err
    if (err.field === 'subject') return resumeBrokeredSignIn(c, r, interaction)
    c.logger.info({ ...log, reason: 'already_linked' }, 'account link refused')
    return showLinkPage(c, r, interaction, p, 409, {
      username: identifier,
      error: `This account is already linked to another ${p.provider.config.display_name} identity. Remove that link first.`,
    })
  }
  c.logger.info({ user_id: user.id, broker, actor: 'self', how }, 'identity link created')
  return completeBrokeredSignIn(c, r, interaction, { user, ...p })
}

async function showLinkPage(
  c: InteractionContext,
  r: InteractionRequest,
  interaction: Interaction,
  p: Pending,
  status: number,
  state: { username?: string; error?: string } = {},
): Promise<void> {
  const base = `${c.basePath}/interaction/${interaction.uid}`
  const { identity } = p.result
  const passkey = await linkPasskeyOffer(c, interaction)
  const page = linkAccountPage({
    action: `${base}/link`,
    abortAction: `${base}/abort`,
    csrf: csrfToken(c.csrfKey, interaction),
    providerName: p.provider.config.display_name,
    externalName: identity.email ?? identity.username,
    canCreate: p.provider.config.create_accounts,
    username: state.username,
    error: state.error,
    passkey,
  })
  sendPage(r.res, status, page.title, page.body, {
    script: passkey !== undefined ? passkeyScript(c) : undefined,
  })
}

function refuseDisabled(c: InteractionContext, r: InteractionRequest, p: Pending, userId: string): void {
  c.logger.info(
    { reason: 'user_disabled', user_id: userId, broker: p.provider.config.name, ip: r.clientIp },
    'login failed',
  )
  const page = brokerProblemPage(
    'Sign-in refused',
    'The account linked to this identity cannot sign in. Contact the administrator.',
    null,
  )
  sendPage(r.res, 403, page.title, page.body)
}
