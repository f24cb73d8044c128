/**
 * Step-up for browser sessions (issue 14): a route's `require` that a session does not meet sends the
 * person through the provider again. The route's plugin instance need not be the one answering
 * login_path (the shop's order route has its own), so what to ask for travels in login_path's query —
 * `acr_values`, `amr`, `max_age` (and `prompt=login`, for a link that wants a fresh sign-in) — and from there in the sealed sign-in cookie, so the
 * callback can check the new ID token against it. Asking for a stronger sign-in than a route needs is
 * harmless, so the query is taken from anyone; only its shape is checked. A sign-in that comes back
 * without what it asked for is refused once at the callback (a page), never sent round again.
 */
import type { RequestState } from '../../pipeline/request-state.ts'
import { type AuthContext, acrValuesFor, type Requirement, type Unmet, unmet } from '../_shared/step-up.ts'
import { safeReturnTo } from './origin.ts'

/** What a step-up sign-in asked for, kept in the sign-in cookie for the callback. */
export interface StepUp {
  readonly acr: readonly string[] | null
  readonly amr: readonly string[] | null
  readonly maxAge: number | null
  readonly prompt: 'login' | null
}

const VALUES = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}( [\x21\x23-\x5b\x5d-\x7e]{1,255}){0,15}$/

/**
 * login_path's query for a step-up to `r`; `returnTo` first when given. A sign-in too old is not sent
 * with `prompt=login`: `max_age` already obliges the provider to authenticate the person again (OIDC Core
 * §3.1.2.1), and a `prompt` without `consent` makes oidc-provider-based providers (the built-in one
 * among them) drop `offline_access`, so the stepped-up session would lose its refresh token.
 */
export function stepUpQuery(r: Requirement, returnTo: string | null): string {
  const q = new URLSearchParams()
  if (returnTo !== null) q.set('return_to', returnTo)
  const acr = acrValuesFor(r)
  if (acr.length > 0) q.set('acr_values', acr.join(' '))
  if (r.amr !== undefined) q.set('amr', r.amr.join(' '))
  if (r.max_age !== undefined) q.set('max_age', String(r.max_age))
  return q.toString()
}

/** login_path with the step-up query, coming back to this page (a navigation). */
export function stepUpLocation(state: RequestState, loginPath: string, r: Requirement): string {
  const back = safeReturnTo(`${state.path}${state.query}`) ?? safeReturnTo(state.path)
  return `${loginPath}?${stepUpQuery(r, back)}`
}

/**
 * The step-up a login_path query asks for: null when it asks none, 'invalid' when a parameter is
 * malformed (a 400 page, rather than silently asking for less).
 */
export function stepUpOf(query: URLSearchParams): StepUp | null | 'invalid' {
  const acr = list(query.get('acr_values'))
  const amr = list(query.get('amr'))
  const maxAgeText = query.get('max_age')
  const promptText = query.get('prompt')
  if (acr === 'invalid' || amr === 'invalid') return 'invalid'
  if (maxAgeText !== null && !/^\d{1,9}$/.test(maxAgeText)) return 'invalid'
  if (promptText !== null && promptText !== 'login') return 'invalid'
  const maxAge = maxAgeText !== null ? Number(maxAgeText) : null
  const prompt = promptText !== null ? 'login' : null
  if (acr === null && amr === null && maxAge === null && prompt === null) return null
  return { acr, amr, maxAge, prompt }
}

function list(text: string | null): readonly string[] | null | 'invalid' {
  if (text === null) return null
  return VALUES.test(text) ? text.split(' ') : 'invalid'
}

/** The authorization request's parameters for a step-up (OIDC Core §3.1.2.1). */
export function authorizationParameters(s: StepUp): Record<string, string> {
  const p: Record<string, string> = {}
  if (s.acr !== null) p.acr_values = s.acr.join(' ')
  if (s.maxAge !== null) p.max_age = String(s.maxAge)
  if (s.prompt !== null) p.prompt = s.prompt
  return p
}

/**
 * Whether a new sign-in gave what the step-up asked for: the ID token's acr is one asked for (when any
 * were), its amr has every method asked for, and its auth_time is within max_age. `prompt=login` alone
 * asks for a fresh sign-in: auth_time must be no older than the sign-in's start.
 */
export function stepUpMet(s: StepUp, auth: AuthContext, now: number, startedAt: number): Unmet | null {
  const r: Requirement = {
    ...(s.acr !== null ? { acr: [...s.acr] } : {}),
    ...(s.amr !== null ? { amr: [...s.amr] } : {}),
    ...(s.maxAge !== null ? { max_age: s.maxAge } : {}),
  }
  if (s.prompt !== null && (auth.authTime === null || auth.authTime < startedAt - CLOCK_SKEW))
    return 'max_age'
  return r.acr === undefined && r.amr === undefined && r.max_age === undefined ? null : unmet(r, auth, now)
}

/** Seconds a provider's clock may be behind the gateway's. */
const CLOCK_SKEW = 60

/** The step-up in a sign-in cookie's claims; null when absent, undefined when malformed. */
export function stepUpFromClaims(v: unknown): StepUp | null | undefined {
  if (v === null || v === undefined) return null
  if (typeof v !== 'object' || Array.isArray(v)) return undefined
  const { acr, amr, maxAge, prompt } = v as Record<string, unknown>
  const strings = (x: unknown) => x === null || (Array.isArray(x) && x.every((s) => typeof s === 'string'))
  if (!strings(acr) || !strings(amr)) return undefined
  if (maxAge !== null && !Number.isSafeInteger(maxAge)) return undefined
  if (prompt !== null && prompt !== 'login') return undefined
  return {
    acr: acr as string[] | null,
    amr: amr as string[] | null,
    maxAge: maxAge as number | null,
    prompt: prompt as 'login' | null,
  }
}
