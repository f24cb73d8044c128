/**
 * recordAudit's guarantees, with a real store and a real pino logger: exactly the action's declared
 * detail fields are written (anything else is dropped and named, never its value), a store that fails
 * costs the row only, and no action declares a field that could hold a secret. The surfaces' own tests
 * (test/cli/audit.test.ts, test/admin/identity.test.ts) run every change end to end.
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { pino } from 'pino'
import { REDACT_PATHS } from '../../observability/logger.ts'
import { SqliteStore } from '../../storage/sqlite.ts'
import type { Store } from '../../storage/store.ts'
import { AUDIT_ACTIONS, type AuditEvent, cliActor, recordAudit } from './audit.ts'

/** A logger like the process's (redaction on), its lines kept as objects. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line))
      done()
    },
  })
  const logger = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream)
  return { logger, lines }
}

const target = { type: 'user', id: 'u-1', name: 'alice' } as const

describe('recordAudit', () => {
  let store: Store
  beforeEach(async () => {
    store = await SqliteStore.open(':memory:')
    await store.migrate()
  })
  afterEach(() => store.close())

  it('writes one log line and one row with the same event', async () => {
    const { logger, lines } = capturedLogger()
    const actor = cliActor()
    const stored = await recordAudit(store, logger, {
      action: 'user.mfa_reset',
      actor,
      target,
      detail: { factors_removed: 2 },
    })
    assert.deepEqual(await store.audit.list({ limit: 5 }), [stored])
    assert.equal(lines.length, 1)
    const { type, action, msg } = lines[0] as Record<string, unknown>
    assert.deepEqual([type, action, msg], ['audit', 'user.mfa_reset', 'identity factors reset'])
    assert.deepEqual(
      [lines[0]!['actor'], lines[0]!['target'], lines[0]!['detail']],
      [actor, target, { factors_removed: 2 }],
    )
  })

  it('drops a detail field the action does not declare, naming it without its value', async () => {
    const { logger, lines } = capturedLogger()
    // What the types refuse, as a careless cast or plain JavaScript could still pass it.
    const careless = {
      action: 'user.password_changed',
      actor: cliActor(),
      target,
      detail: { new_pass: 'hunter2-hunter2', nested: { a: 1 } },
    } as unknown as AuditEvent<'user.password_changed'>
    const stored = await recordAudit(store, logger, careless)
    assert.deepEqual(stored?.detail, {})
    const text = JSON.stringify(lines) + JSON.stringify(await store.audit.list({ limit: 5 }))
    assert.ok(!text.includes('hunter2'), text)
    const bug = lines.find((l) => l['msg'] === 'audit detail fields not declared were dropped')
    assert.deepEqual(bug?.['undeclared'], ['new_pass', 'nested'])
  })

  it('writes a declared field that is not a scalar as null', async () => {
    const { logger } = capturedLogger()
    const event = {
      action: 'user.mfa_policy_set',
      actor: cliActor(),
      target,
      detail: { mfa: { policy: 'required' } },
    } as unknown as AuditEvent<'user.mfa_policy_set'>
    assert.deepEqual((await recordAudit(store, logger, event))?.detail, { mfa: null })
  })

  it('keeps going when the row cannot be written: the line, then a warning carrying the event', async () => {
    const { logger, lines } = capturedLogger()
    await store.close()
    const event = { action: 'user.removed', actor: cliActor(), target, detail: {} } as const
    assert.equal(await recordAudit(store, logger, event), null)
    assert.deepEqual(
      lines.map((l) => l['msg']),
      ['identity user removed', 'audit event not recorded in the store'],
    )
    assert.equal((lines[1]!['audit'] as { action: string }).action, 'user.removed')
    store = await SqliteStore.open(':memory:')
  })
})

describe("a person's own changes", () => {
  let store: Store
  beforeEach(async () => {
    store = await SqliteStore.open(':memory:')
    await store.migrate()
  })
  afterEach(() => store.close())

  it('declares the self-service actions with exactly these scalar fields', () => {
    const declared = Object.fromEntries(
      [
        'user.profile_changed',
        'user.email_verified',
        'user.factor_added',
        'user.factor_renamed',
        'user.factor_removed',
        'user.recovery_codes_renewed',
        'user.session_ended',
      ].map((a) => [a, AUDIT_ACTIONS[a as keyof typeof AUDIT_ACTIONS]?.detail]),
    )
    assert.deepEqual(declared, {
      'user.profile_changed': { fields: 'string' },
      'user.email_verified': {},
      'user.factor_added': { kind: 'string', factor_id: 'string' },
      'user.factor_renamed': { kind: 'string', factor_id: 'string' },
      'user.factor_removed': { kind: 'string', factor_id: 'string', factors_left: 'number' },
      'user.recovery_codes_renewed': { count: 'number' },
      'user.session_ended': { session: 'string|null', sessions_ended: 'number', reason: 'string' },
    })
  })

  it('keeps the self-service actor whole, and drops a value a page might pass by mistake', async () => {
    const { logger, lines } = capturedLogger()
    const actor = {
      via: 'self-service',
      channel: 'account',
      address: '203.0.113.7',
      session: 'session-uid-1',
    } as const
    // A careless caller passing the profile's values or the factor's name: only the declared fields stay.
    const careless = {
      action: 'user.profile_changed',
      actor,
      target,
      detail: { fields: 'name,email', email: 'alice@example.test', name: 'Alice Example' },
    } as unknown as AuditEvent<'user.profile_changed'>
    const stored = await recordAudit(store, logger, careless)
    assert.deepEqual([stored?.actor, stored?.detail], [actor, { fields: 'name,email' }])
    const text = JSON.stringify(lines) + JSON.stringify(await store.audit.list({ limit: 5 }))
    assert.ok(!text.includes('alice@example.test') && !text.includes('Alice Example'), text)
    const factor = await recordAudit(store, logger, {
      action: 'user.factor_removed',
      actor: { ...actor, channel: 'password-reset', session: null },
      target,
      detail: { kind: 'totp', factor_id: 'f-1', factors_left: 0 },
    })
    assert.deepEqual(factor?.detail, { kind: 'totp', factor_id: 'f-1', factors_left: 0 })
    assert.equal(lines.find((l) => l['action'] === 'user.factor_removed')?.['msg'], 'account factor removed')
  })
})

describe('AUDIT_ACTIONS', () => {
  it('declares no detail field whose name says it could hold a secret', () => {
    const secretish = /pass|secret|token|code|credential|hash|jwk|private|otp|totp|cookie/i
    for (const [action, spec] of Object.entries(AUDIT_ACTIONS))
      for (const field of Object.keys(spec.detail))
        assert.doesNotMatch(field, secretish, `${action}: ${field}`)
  })

  it('names each action <target>.<what happened>, and gives each its own log message', () => {
    const messages = new Set<string>()
    for (const [action, spec] of Object.entries(AUDIT_ACTIONS)) {
      assert.match(action, /^[a-z_]+\.[a-z_]+$/)
      assert.equal(action.split('.')[0], spec.target)
      assert.ok(!messages.has(spec.message), spec.message)
      messages.add(spec.message)
    }
  })
})
