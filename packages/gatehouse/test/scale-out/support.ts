/**
 * What the scale-out suites share: a user-info service that counts its lookups, polling with a deadline
 * (never a fixed sleep before an assertion), and the admin API's revocation call.
 */
import assert from 'node:assert/strict'
import type { GatehouseProcess } from '../harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../harness/upstream.ts'

export interface Users extends Upstream {
  /** Lookups per subject. */
  readonly lookups: Map<string, number>
  /** The profile each subject gets; change it to change what the service answers. */
  readonly profiles: Map<string, Record<string, unknown>>
}

/** A user-info service: GET /users/{sub} answers the subject's profile as JSON, or 404. */
export async function startUsers(): Promise<Users> {
  const lookups = new Map<string, number>()
  const profiles = new Map<string, Record<string, unknown>>()
  const upstream = await startUpstream((req, res) => {
    const sub = decodeURIComponent((req.url ?? '').replace(/^\/users\//, ''))
    lookups.set(sub, (lookups.get(sub) ?? 0) + 1)
    const profile = profiles.get(sub)
    const body = JSON.stringify(profile ?? {})
    res.writeHead(profile ? 200 : 404, { 'content-type': 'application/json' })
    res.end(body)
  })
  return Object.assign(upstream, { lookups, profiles })
}

/**
 * Polls `check` until it holds, and resolves with the milliseconds it took; rejects after `ms`. A revocation
 * must take effect within a deadline, so tests wait for it this way rather than sleeping.
 */
export async function within(
  ms: number,
  check: () => Promise<boolean> | boolean,
  what: string,
): Promise<number> {
  const started = Date.now()
  for (;;) {
    if (await check()) return Date.now() - started
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** POST /revocations on a node's admin API; resolves with the revocation it answered (201). */
export async function revoke(node: GatehouseProcess, body: object): Promise<Record<string, unknown>> {
  const res = await node.admin('/revocations', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const answer = (await res.json()) as { data: Record<string, unknown> }
  assert.equal(res.status, 201, JSON.stringify(answer))
  return answer.data
}
