/**
 * How the self-service pages record a person's change to their own account in the identity audit trail
 * (manage/audit.ts), as the admin API's `audited` does for an administrator's: after the change
 * succeeded, never for a refusal. The actor is the person, through a channel (the account page, or a
 * link mailed to them), from the client address the gateway computed (`clientIp`: forwarded headers
 * only from trusted proxies, so it is the address the operator's own proxy saw).
 */
import {
  type AuditAction,
  type AuditActor,
  type AuditDetailOf,
  type AuditEvent,
  recordAudit,
  type SelfServiceChannel,
  userTarget,
} from './manage/audit.ts'
import type { SelfServiceContext, SelfServiceRequest } from './self-service.ts'

/** The actor of a change made on the account page, in the session whose uid is `sessionUid`. */
export function accountActor(r: Pick<SelfServiceRequest, 'clientIp'>, sessionUid: string): AuditActor {
  return { via: 'self-service', channel: 'account', address: r.clientIp, session: sessionUid }
}

/** The actor of a change made through a link mailed to the person. */
export function linkActor(
  r: Pick<SelfServiceRequest, 'clientIp'>,
  channel: Exclude<SelfServiceChannel, 'account'>,
): AuditActor {
  return { via: 'self-service', channel, address: r.clientIp, session: null }
}

/** Records a change the person made (the row in the provider's store, and the node's log line). */
export function auditOwnChange<A extends AuditAction>(
  c: Pick<SelfServiceContext, 'store' | 'logger'>,
  actor: AuditActor,
  event: Omit<AuditEvent<A>, 'actor'>,
): Promise<unknown> {
  return recordAudit(c.store, c.logger, { ...event, actor } as AuditEvent<A>)
}

/** Records a change the person signed in on the account page (`who`) made to their own account. */
export function auditAccountChange<A extends AuditAction>(
  c: Pick<SelfServiceContext, 'store' | 'logger'>,
  r: Pick<SelfServiceRequest, 'clientIp'>,
  who: { readonly user: { readonly id: string; readonly username: string }; readonly sessionUid: string },
  action: A,
  detail: AuditDetailOf<A>,
): Promise<unknown> {
  return auditOwnChange(c, accountActor(r, who.sessionUid), { action, target: userTarget(who.user), detail })
}
