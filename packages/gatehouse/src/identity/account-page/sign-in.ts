/**
 * Who is signed in on the account page: the provider's own session (its signed, HttpOnly cookie is
 * scoped to the issuer's path, which the page is under), resolved like oidc-provider resolves it, so
 * what the page shows and what the provider believes cannot differ, and signing out anywhere signs out
 * here. A visitor without a session is sent through an ordinary authorization request of the account
 * client (account-client.ts: code + PKCE S256, state in a short cookie of this path); the callback
 * checks state, the code's client, redirect URI and PKCE, consumes the code and goes back to the page.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type Provider from 'oidc-provider'
import type { StoredUser } from '../../storage/store.ts'
import type { SelfServiceContext, SelfServiceRequest } from '../self-service.ts'
import { ACCOUNT_CLIENT_ID, accountCallback } from './account-client.ts'
import { readCookie, setCookie } from './form-guard.ts'

const STATE_COOKIE = 'gh_account_signin'
const STATE_TTL = 600

export interface SignedIn {
  readonly user: StoredUser
  /** The session's id: the cookie's value, never shown. */
  readonly sessionId: string
  readonly sessionUid: string
  /** When the person last signed in, epoch seconds. */
  readonly loginTs: number
}

type SessionModel = {
  jti: string
  uid: string
  accountId?: string
  loginTs?: number
}

export async function signedIn(c: SelfServiceContext, r: SelfServiceRequest): Promise<SignedIn | null> {
  const provider = c.provider as Provider & { createContext(req: unknown, res: unknown): unknown }
  const session = (await (provider.Session as unknown as { get(ctx: unknown): Promise<SessionModel> }).get(
    provider.createContext(r.req, r.res),
  )) as SessionModel
  if (session.accountId === undefined || typeof session.loginTs !== 'number') return null
  const user = await c.store.users.get(session.accountId)
  if (user === undefined || user.disabled) return null
  return { user, sessionId: session.jti, sessionUid: session.uid, loginTs: session.loginTs }
}

function cookiePath(c: SelfServiceContext): string {
  return `${c.basePath}/account`
}

const secure = (c: SelfServiceContext) => c.issuer.startsWith('https:')

/** Sends the browser to sign in; `fresh` asks for the password again (max_age=0). */
export function startSignIn(c: SelfServiceContext, r: SelfServiceRequest, fresh = false): void {
  const state = randomBytes(24).toString('base64url')
  const verifier = randomBytes(32).toString('base64url')
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  setCookie(r.res, STATE_COOKIE, `${state}.${verifier}`, {
    path: cookiePath(c),
    secure: secure(c),
    sameSite: 'Lax',
    maxAge: STATE_TTL,
  })
  const params = new URLSearchParams({
    client_id: ACCOUNT_CLIENT_ID,
    response_type: 'code',
    scope: 'openid',
    redirect_uri: accountCallback(c.issuer),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  })
  if (fresh) params.set('max_age', '0')
  r.res.writeHead(303, { location: `${c.basePath}/auth?${params}`, 'cache-control': 'no-store' }).end()
}

/** The callback: true when the sign-in completed (the caller redirects to the page). */
export async function finishSignIn(c: SelfServiceContext, r: SelfServiceRequest): Promise<boolean> {
  const cookie = readCookie(r.req, STATE_COOKIE) ?? ''
  setCookie(r.res, STATE_COOKIE, '', { path: cookiePath(c), secure: secure(c), sameSite: 'Lax', maxAge: 0 })
  const [state = '', verifier = ''] = cookie.split('.')
  const presented = r.query.get('state') ?? ''
  if (state === '' || !sameText(state, presented)) return false
  const value = r.query.get('code')
  if (value === null || value.length > 512) return false
  const code = (await c.provider.AuthorizationCode.find(value)) as
    | (InstanceType<Provider['AuthorizationCode']> & { codeChallenge?: string })
    | undefined
  if (code === undefined || !code.isValid) return false
  await code.consume()
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  return (
    code.clientId === ACCOUNT_CLIENT_ID &&
    code.redirectUri === accountCallback(c.issuer) &&
    typeof code.codeChallenge === 'string' &&
    sameText(code.codeChallenge, challenge)
  )
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
