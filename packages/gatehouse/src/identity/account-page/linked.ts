/**
 * The account page's linked sign-ins (issue 14, brokering): the person's links to external providers
 * (the provider's display name, who they are there, when linked and last used), each with "Remove". The
 * links come from the broker (`SelfServiceContext.linksOf`, broker/links.ts), the same view the admin API
 * and `gatehouse users links` show. A removal that would leave the account no way to sign in (no
 * password and no other link to a configured provider) is refused with a message saying what to do
 * instead; the administrator can still remove it. Every removal is audited like the admin's, actor the
 * person on the account page.
 */
import { signInLeftWithout, unlink } from '../broker/links.ts'
import { auditAccountChange } from '../self-service-audit.ts'
import { html, type SafeHtml } from '../views/html.ts'
import type { AccountAction, AccountView, ActionOutcome } from './sections.ts'
import { when } from './views.ts'

export const ONLY_SIGN_IN =
  'You cannot remove this sign-in: it is the only way into your account (it has no password and no other linked sign-in). Set a password or link another provider first.'
const GONE = 'That sign-in is no longer linked to your account.'
const MAX_BROKER = 64

export const removeLink: AccountAction = async (c, r, who, form): Promise<ActionOutcome> => {
  const broker = form.get('provider') ?? ''
  if (broker === '' || broker.length > MAX_BROKER) return { problem: GONE, status: 400 }
  const user = (await c.store.users.get(who.user.id)) ?? who.user
  if ((await c.store.links.listByUser(user.id)).every((l) => l.broker !== broker))
    return { problem: GONE, status: 200 }
  if (!(await signInLeftWithout(c.store, c.identity, user, broker))) {
    c.logger.info(
      { user_id: user.id, actor: user.id, broker, reason: 'only_sign_in' },
      'identity link removal refused',
    )
    return { problem: ONLY_SIGN_IN, status: 409 }
  }
  if (!(await unlink(c.store, user, broker))) return { problem: GONE, status: 200 }
  // Always true here: a removal that would leave none was refused above.
  await auditAccountChange(c, r, who, 'user.link_removed', { provider: broker, sign_in_left: true })
  return { done: 'unlinked' }
}

export function linkedSection(v: AccountView): SafeHtml {
  if (v.linked.length === 0 && v.errors['linked'] === undefined) return html``
  const error = v.errors['linked']
  return html`<section aria-labelledby="linked-heading">
<h2 id="linked-heading">Linked sign-ins</h2>
${error !== undefined && html`<p id="linked-error" class="error" role="alert">${error}</p>`}
<p class="muted">You can sign in to this account with these providers.</p>
<ul class="sessions">
${v.linked.map((l) => {
  const name = l.display_name ?? `${l.broker} (no longer available)`
  const known = l.email ?? l.username
  return html`<li>
<strong>${name}</strong>${known !== null && html`: ${known}`}<br>
<span class="muted">Linked ${when(l.created_at)}; ${l.last_used_at === null ? 'not used yet' : `last used ${when(l.last_used_at)}`}</span>
<form method="post" action="${v.basePath}/account/links/remove">
<input type="hidden" name="csrf" value="${v.csrf}">
<input type="hidden" name="provider" value="${l.broker}">
<div class="actions"><button type="submit" class="secondary" aria-label="Remove the link to ${name}"${error !== undefined && html` aria-describedby="linked-error"`}>Remove</button></div>
</form>
</li>`
})}
</ul>
</section>`
}
