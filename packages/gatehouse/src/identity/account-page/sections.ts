/**
 * The account page's sections, in page order. A section is a heading, its markup and the form actions
 * it posts to (`POST <issuer>/account/<action>`); a module adds one by adding an entry here (the
 * second-factor devices of issue 14's factors work are one). Linked sign-ins come from the broker
 * (`SelfServiceContext.linksOf`); without any, that section shows nothing.
 */
import type { StoredUser } from '../../storage/store.ts'
import type { LinkView } from '../broker/links.ts'
import type { AccountSession } from '../manage/sessions.ts'
import type { SelfServiceContext, SelfServiceRequest } from '../self-service.ts'
import type { SafeHtml } from '../views/html.ts'
import { linkedSection, removeLink } from './linked.ts'
import { changePassword } from './password.ts'
import { updateProfile } from './profile.ts'
import { SECURITY_ACTIONS, SECURITY_NOTICES, type SecurityView, securitySection } from './security.ts'
import { endEverySession, endOneSession } from './session-actions.ts'
import type { SignedIn } from './sign-in.ts'
import { passwordSection, profileSection, sessionsSection, signOutEverywhereSection } from './views.ts'

/** What every section renders from. */
export interface AccountView {
  readonly basePath: string
  readonly csrf: string
  readonly user: StoredUser
  /** The configuration file declares the user: its profile and password change there, not here. */
  readonly managed: boolean
  readonly sessions: readonly AccountSession[]
  readonly currentSessionUid: string
  /** The user's links to external providers (broker/links.ts). */
  readonly linked: readonly LinkView[]
  /** Per section id, a problem with what was submitted. */
  readonly errors: Readonly<Record<string, string>>
  /** Per field, what was submitted (re-shown after a problem); never a password. */
  readonly values: Readonly<Record<string, string>>
  /** The person's factors and what the Security section offers (security.ts). */
  readonly security?: SecurityView | undefined
}

/** The result of an action: a notice for the page after the redirect, or a problem to show at once. */
export type ActionOutcome =
  | { readonly done: string }
  | { readonly problem: string; readonly status: number; readonly values?: Record<string, string> }
  | { readonly signedOut: true }
  /** A page of its own (something shown once: new recovery codes, a new app's QR code). */
  | { readonly page: { readonly title: string; readonly body: SafeHtml } }

export type AccountAction = (
  c: SelfServiceContext,
  r: SelfServiceRequest,
  who: SignedIn,
  form: URLSearchParams,
) => Promise<ActionOutcome>

export interface AccountSection {
  readonly id: string
  readonly render: (v: AccountView) => SafeHtml
  /** action path segment (after /account/) → handler. */
  readonly actions: Readonly<Record<string, AccountAction>>
}

export const ACCOUNT_SECTIONS: AccountSection[] = [
  { id: 'profile', render: profileSection, actions: { profile: updateProfile } },
  { id: 'password', render: passwordSection, actions: { password: changePassword } },
  { id: 'sessions', render: sessionsSection, actions: { 'sessions/signout': endOneSession } },
  { id: 'everywhere', render: signOutEverywhereSection, actions: { 'signout-everywhere': endEverySession } },
  { id: 'security', render: securitySection, actions: SECURITY_ACTIONS },
  { id: 'linked', render: linkedSection, actions: { 'links/remove': removeLink } },
]

/** The notices an action may leave for the next page, by code (the query carries only the code). */
export const NOTICES: Readonly<Record<string, string>> = {
  profile: 'Your profile was saved.',
  'profile-verify': 'Your profile was saved. We sent a link to your new e-mail address to verify it.',
  password: 'Your password was changed. Every other session was signed out.',
  session: 'That session was signed out.',
  verified: 'Your e-mail address is verified.',
  unlinked: 'The linked sign-in was removed.',
  ...SECURITY_NOTICES,
}

export function render(sections: readonly AccountSection[], v: AccountView): SafeHtml[] {
  return sections.map((s) => s.render(v))
}
