/**
 * The state of one external sign-in, kept server-side (the store's oidc artefacts, so any node can
 * finish it and expired ones are swept with the rest) and found through a random id in a cookie:
 *
 * - `BrokerLogin`: started from the login page of interaction `uid`: provider, state, nonce, PKCE
 *   verifier. The callback consumes it before anything else, so a replayed callback finds it used.
 * - `BrokerResult`: the identity the provider vouched for, waiting for the interaction `uid` to use it
 *   (sign in, create an account, or link after a password). Consumed when the sign-in completes.
 *
 * The cookie (`_gh_broker`, HttpOnly, SameSite=Lax, path the issuer's) holds only the id: 256 random
 * bits, useless without the browser's own interaction cookie, since each record names its interaction.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { OidcStore } from '../../storage/store.ts'
import type { UpstreamIdentity } from './client.ts'

export const COOKIE = '_gh_broker'
/** Seconds a started sign-in may take at the provider (a person typing a password, a second factor). */
export const LOGIN_TTL = 600
/** Seconds an identity waits for its interaction (the link page: a person finding their password). */
export const RESULT_TTL = 900

export interface StartedLogin {
  readonly uid: string
  readonly broker: string
  readonly state: string
  readonly nonce: string
  readonly verifier: string
}

export interface BrokerResult {
  readonly uid: string
  readonly broker: string
  readonly identity: UpstreamIdentity
}

const nowSeconds = () => Math.floor(Date.now() / 1000)
const newId = () => randomBytes(32).toString('base64url')

export async function saveStarted(store: OidcStore, login: StartedLogin): Promise<string> {
  const id = newId()
  await store.upsert('BrokerLogin', id, { ...login }, LOGIN_TTL, nowSeconds())
  return id
}

/**
 * The started sign-in `id` names, consumed now (single use); null when there is none, it expired, or it
 * was used already.
 */
export async function takeStarted(store: OidcStore, id: string): Promise<StartedLogin | null> {
  const now = nowSeconds()
  const found = await store.find('BrokerLogin', id, now)
  if (found === undefined || found.consumed_at !== null) return null
  await store.consume('BrokerLogin', id, now)
  const p = found.payload
  const fields = [p.uid, p.broker, p.state, p.nonce, p.verifier]
  if (!fields.every((v) => typeof v === 'string')) return null
  return p as unknown as StartedLogin
}

export async function saveResult(store: OidcStore, result: BrokerResult): Promise<string> {
  const id = newId()
  await store.upsert(
    'BrokerResult',
    id,
    { ...result, identity: { ...result.identity } },
    RESULT_TTL,
    nowSeconds(),
  )
  return id
}

/** The unused identity `id` names for interaction `uid`; null otherwise. */
export async function findResult(store: OidcStore, id: string, uid: string): Promise<BrokerResult | null> {
  const found = await store.find('BrokerResult', id, nowSeconds())
  if (found === undefined || found.consumed_at !== null) return null
  const p = found.payload as unknown as BrokerResult
  if (p.uid !== uid || typeof p.broker !== 'string' || typeof p.identity?.subject !== 'string') return null
  return p
}

export function consumeResult(store: OidcStore, id: string): Promise<void> {
  return store.consume('BrokerResult', id, nowSeconds())
}

/** The id in the request's `_gh_broker` cookie, or null. */
export function cookieId(req: IncomingMessage): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) {
      const value = part.slice(eq + 1).trim()
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : null
    }
  }
  return null
}

/** The Set-Cookie value for `id` (null: clear it). */
export function setCookie(id: string | null, o: { path: string; secure: boolean }): string {
  const attributes = `Path=${o.path}; HttpOnly; SameSite=Lax${o.secure ? '; Secure' : ''}`
  return id === null
    ? `${COOKIE}=; ${attributes}; Max-Age=0`
    : `${COOKIE}=${id}; ${attributes}; Max-Age=${Math.max(LOGIN_TTL, RESULT_TTL)}`
}
