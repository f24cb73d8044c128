/**
 * Reading the identity audit trail in the browser tests: a user's events through the admin API
 * (`GET /identity/audit`), the self-service actor checked, and the check that a secret the test typed or
 * was shown is in no row and no log line.
 */
import assert from 'node:assert/strict'
import type { GatehouseProcess } from '../../harness/gatehouse.ts'

export interface AuditRow {
  readonly id: number
  readonly action: string
  readonly actor: Record<string, unknown>
  readonly target: { readonly type: string; readonly id: string | null; readonly name: string | null }
  readonly detail: Record<string, unknown>
}

/** The user's events, newest first (`action`: only those). */
export async function auditOf(gh: GatehouseProcess, user: string, action?: string): Promise<AuditRow[]> {
  const query = new URLSearchParams({ user, size: '1000', ...(action !== undefined && { action }) })
  const res = await gh.admin(`/identity/audit?${query}`)
  const text = await res.text()
  assert.equal(res.status, 200, text)
  return (JSON.parse(text) as { data: AuditRow[] }).data
}

/** The one event of `action` about `user` recorded after event `since` (0: ever). */
export async function onlyEvent(
  gh: GatehouseProcess,
  user: string,
  action: string,
  since = 0,
): Promise<AuditRow> {
  const rows = (await auditOf(gh, user, action)).filter((e) => e.id > since)
  assert.equal(rows.length, 1, `${action} of ${user}: ${JSON.stringify(rows)}`)
  return rows[0]!
}

/** The newest event id of the whole trail (0 when empty): a mark to read what a step recorded. */
export async function lastEventId(gh: GatehouseProcess): Promise<number> {
  const res = await gh.admin('/identity/audit?size=1')
  return ((await res.json()) as { data: AuditRow[] }).data[0]?.id ?? 0
}

const LOOPBACK = /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/

/** Any account-page session (its uid a string), where the test cannot tell which. */
export const SOME_SESSION = Symbol('some session')

/**
 * Asserts the event was made by the person on their own pages: through `channel`, from the test's
 * (loopback) address, in the account-page session `session` (its uid), or none (null: a mailed link).
 */
export function assertSelfService(
  row: AuditRow,
  channel: string,
  session: string | null | typeof SOME_SESSION,
): void {
  const { via, channel: was, address, session: in_, ...rest } = row.actor
  assert.deepEqual([via, was, rest], ['self-service', channel, {}], JSON.stringify(row))
  assert.match(String(address), LOOPBACK)
  if (session === SOME_SESSION) assert.equal(typeof in_, 'string', JSON.stringify(row))
  else assert.equal(in_, session)
}

/** Asserts no secret is in the trail (every event) or anywhere in the process's log. */
export async function assertNotRecorded(gh: GatehouseProcess, secrets: readonly string[]): Promise<void> {
  const res = await gh.admin('/identity/audit?size=1000')
  const trail = await res.text()
  for (const secret of secrets) {
    assert.ok(secret.length >= 6, `too short to search for: ${secret}`)
    assert.ok(!trail.includes(secret), `in the audit trail: ${secret}`)
    assert.ok(!gh.stdout.includes(secret) && !gh.stderr.includes(secret), `in the log: ${secret}`)
  }
}
