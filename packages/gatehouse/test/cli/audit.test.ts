/**
 * The identity audit trail from the command line (issue 14): every change `gatehouse users|clients`
 * makes is one JSON line on stderr (pretty on a terminal; stdout unchanged) and one row in the store, with the OS account and
 * host as actor; `gatehouse audit list` and a running node's `GET /identity/audit` show the same trail,
 * a removed user's included; no password or client secret is written anywhere. A row that cannot be
 * written leaves the change standing, with a warning.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { hostname, userInfo } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { AUDIT_ACTIONS } from '../../src/identity/manage/audit.ts'
import { BIN, type CliResult, runCli } from '../harness/gatehouse.ts'
import {
  type IdentityGateway,
  ORDERS_API,
  startIdentityGateway,
  storeOf,
} from '../identity/support/gateway.ts'

const ERIN_FIRST = 'erin-first-long-passphrase'
const ERIN_SECOND = 'erin-second-long-passphrase'

interface AuditLine {
  readonly type: string
  readonly level: string
  readonly msg: string
  readonly action: string
  readonly actor: Record<string, unknown>
  readonly target: { type: string; id: string | null; name: string | null }
  readonly detail: Record<string, unknown>
}

/** The audit lines a command wrote to stderr: each one JSON line, nothing else there. */
function auditLines(r: CliResult): AuditLine[] {
  const lines = r.stderr.split('\n').filter((l) => l !== '')
  return lines.map((l) => JSON.parse(l) as AuditLine).filter((l) => l.type === 'audit')
}

describe('the identity audit trail of the command line', () => {
  let gw: IdentityGateway
  /** Every command's output, for the check that no secret was ever written. */
  const outputs: CliResult[] = []
  let clientSecret = ''
  let erinId = ''

  async function cli(args: string[], input?: string): Promise<CliResult> {
    const r = await runCli([...args, '--config', gw.gh.configFile], {}, input === undefined ? {} : { input })
    outputs.push(r)
    return r
  }

  /** Runs a change and returns its one audit line, checking the actor is this OS account and host. */
  async function change(args: string[], input?: string): Promise<{ r: CliResult; line: AuditLine }> {
    const r = await cli(args, input)
    assert.equal(r.code, 0, r.stderr)
    const lines = auditLines(r)
    assert.equal(lines.length, 1, r.stderr)
    const line = lines[0]!
    assert.deepEqual([line.level, line.msg], ['info', AUDIT_ACTIONS[line.action as 'user.added'].message])
    assert.deepEqual(line.actor, {
      via: 'cli',
      os_user: userInfo().username,
      sudo_user: process.env.SUDO_USER || null,
      host: hostname(),
    })
    return { r, line }
  }

  async function trail(query: string) {
    const res = await gw.gh.admin(`/identity/audit${query}`)
    const text = await res.text()
    assert.equal(res.status, 200, text)
    return JSON.parse(text) as { data: (AuditLine & { id: number; at: number })[]; next: string | null }
  }

  before(async () => {
    gw = await startIdentityGateway()
  })
  after(() => gw?.gh.stop())

  it('audits users add and passwd on stderr, stdout as before, the password nowhere', async () => {
    const added = await change(['users', 'add', 'erin', '--role', 'staff'], `${ERIN_FIRST}\n`)
    assert.match(added.r.stdout, /^user 'erin' added \(id ([0-9a-f-]{36})\)\n$/)
    erinId = /\(id ([0-9a-f-]{36})\)/.exec(added.r.stdout)![1]!
    assert.equal(added.line.action, 'user.added')
    assert.deepEqual(added.line.target, { type: 'user', id: erinId, name: 'erin' })
    assert.deepEqual(added.line.detail, { roles: 'staff', disabled: false })

    const passwd = await change(['users', 'passwd', 'erin'], `${ERIN_SECOND}\n`)
    assert.equal(passwd.r.stdout, "password of 'erin' changed\n")
    assert.deepEqual([passwd.line.action, passwd.line.detail], ['user.password_changed', {}])
  })

  it('audits a confidential client with its mfa policy, never its secret', async () => {
    const { r, line } = await change([
      'clients',
      'add',
      'reports',
      '--grant',
      'client_credentials',
      '--resource',
      ORDERS_API,
      '--scope',
      'orders:read',
      '--mfa',
      'required',
    ])
    clientSecret = /client_secret: (\S+)/.exec(r.stdout)![1]!
    assert.deepEqual(
      [line.action, line.target],
      ['client.added', { type: 'client', id: 'reports', name: null }],
    )
    assert.deepEqual(line.detail, {
      type: 'confidential',
      grant_types: 'client_credentials',
      mfa: 'required',
      first_party: false,
    })
  })

  it('audits users mfa reset with the number of factors, users unlink and users signout', async () => {
    const store = await storeOf(gw.gh)
    try {
      await store.factors.insert({
        id: 'f-erin',
        user_id: erinId,
        kind: 'totp',
        name: 'Phone',
        secret: 'v1.sealed-not-a-real-secret',
        last_step: null,
        created_at: 1_700_000_000,
        last_used_at: null,
      })
      // A link as a first sign-in with a provider makes it (test/identity/broker.test.ts signs in for real).
      await store.links.insert({
        broker: 'corp',
        subject: 'erin-at-corp',
        user_id: erinId,
        email: null,
        username: null,
        created_at: 1_700_000_000,
        last_used_at: null,
      })
    } finally {
      await store.close()
    }
    const reset = await change(['users', 'mfa', 'reset', 'erin'])
    assert.deepEqual([reset.line.action, reset.line.detail], ['user.mfa_reset', { factors_removed: 1 }])
    const unlinked = await change(['users', 'unlink', 'erin', 'corp'])
    assert.deepEqual(
      [unlinked.line.action, unlinked.line.detail],
      ['user.link_removed', { provider: 'corp', sign_in_left: true }],
    )
    const signedOut = await change(['users', 'signout', 'erin', '--reason', 'lost laptop'])
    assert.equal(signedOut.line.action, 'user.signed_out')
    assert.deepEqual(signedOut.line.detail, {
      sessions_ended: 0,
      artefacts_deleted: 0,
      subject_revoked: false,
      reason: 'lost laptop',
    })
    assert.match(signedOut.r.stdout, /^signed 'erin' out everywhere/)
  })

  it('writes nothing for a refused change', async () => {
    const r = await cli(['users', 'mfa', 'reset', 'nobody'])
    assert.deepEqual([r.stderr, r.code], ["gatehouse: no user 'nobody'\n", 1])
    const weak = await cli(['users', 'passwd', 'erin'], 'short\n')
    assert.deepEqual(
      [weak.stderr, weak.code],
      ['gatehouse: password refused: it has fewer than 12 characters\n', 1],
    )
  })

  it('writes the line for a person on a terminal, unless GATEHOUSE_LOG_FORMAT asks for JSON', async () => {
    // script(1) runs the command on a pseudo-terminal, as when a person types it.
    const onTerminal = (env: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        const command = [process.execPath, BIN, 'users', 'disable', 'frank', '--config', gw.gh.configFile]
          .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
          .join(' ')
        execFile(
          'script',
          ['-qec', command, '/dev/null'],
          { env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 20_000 },
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        )
      })
    // A user of its own: erin's trail is counted below.
    await change(['users', 'add', 'frank'], 'frank-long-passphrase-1\n')
    const pretty = await onTerminal({})
    assert.match(pretty, /INFO +identity user disabled action=user\.disabled actor=\{"via":"cli"/)
    assert.doesNotMatch(pretty, /"type":"audit"/)
    assert.match(pretty, /user 'frank' disabled/)
    const json = await onTerminal({ GATEHOUSE_LOG_FORMAT: 'json' })
    assert.match(json, /\{"level":"info".*"type":"audit","action":"user\.disabled"/)
  })

  it('keeps a removed user’s trail, listed by gatehouse audit list and by a node’s admin API', async () => {
    const removed = await change(['users', 'remove', 'erin'])
    assert.deepEqual(removed.line.target, { type: 'user', id: erinId, name: 'erin' })
    const expected = [
      'user.removed',
      'user.signed_out',
      'user.link_removed',
      'user.mfa_reset',
      'user.password_changed',
      'user.added',
    ]

    const json = await cli(['audit', 'list', '--user', 'erin', '--json'])
    assert.equal(json.code, 0, json.stderr)
    assert.equal(json.stderr, '', 'reading the trail is not a change')
    const listed = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditLine & { id: number })
    assert.deepEqual(
      listed.map((e) => e.action),
      expected,
    )
    assert.ok(listed.every((e) => e.actor['via'] === 'cli' && e.target.id === erinId))
    const table = await cli(['audit', 'list', '--user', erinId])
    assert.match(table.stdout, /^ID +TIME +ACTION +BY +TARGET +DETAIL\n/)
    assert.match(
      table.stdout,
      new RegExp(`\\buser\\.mfa_reset +cli ${userInfo().username}.*@.* +user erin +factors_removed=1\\n`),
    )

    const api = await trail('?user=erin')
    assert.deepEqual(
      api.data.map((e) => e.action),
      expected,
    )
    assert.deepEqual(
      api.data.map((e) => e.id),
      listed.map((e) => e.id),
    )
    assert.equal(api.next, null)
    assert.deepEqual((await trail(`?user=${erinId}&action=user.mfa_reset`)).data[0]!.detail, {
      factors_removed: 1,
    })
    assert.deepEqual(
      (await trail('?client=reports')).data.map((e) => e.action),
      ['client.added'],
    )
  })

  it('pages the trail newest first on the admin API, and refuses a bad filter naming it', async () => {
    const first = await trail('?size=2')
    assert.equal(first.data.length, 2)
    assert.ok(first.data[0]!.id > first.data[1]!.id)
    assert.equal(first.next, `/identity/audit?size=2&before=${first.data[1]!.id}`)
    const second = await trail(first.next!.slice('/identity/audit'.length))
    assert.ok(second.data[0]!.id < first.data[1]!.id)

    for (const [query, message] of [
      ['?action=user.nope', "action 'user.nope' is not an audit action"],
      ['?user=a&client=b', 'name one of user, client, not several'],
      ['?size=0', 'size must be an integer between 1 and 1000'],
      ['?before=x', 'before must be the id of an event'],
    ] as const) {
      const res = await gw.gh.admin(`/identity/audit${query}`)
      assert.equal(res.status, 400, query)
      const body = (await res.json()) as { code: string; message: string }
      assert.equal(body.code, 'GH_ERR_ADMIN_BAD_REQUEST')
      assert.ok(body.message.startsWith(message), body.message)
    }
  })

  it('refuses a mistyped action and a prune without a past date, exit 2; prunes and records it', async () => {
    const typo = await cli(['audit', 'list', '--action', 'user.mfa_rest'])
    assert.deepEqual(
      [typo.stderr, typo.code],
      ["gatehouse: --action 'user.mfa_rest' is not an audit action (did you mean 'user.mfa_reset'?)\n", 2],
    )
    const missing = await cli(['audit', 'prune'])
    assert.match(missing.stderr, /^gatehouse: audit prune needs --before DATE\nUsage: gatehouse audit prune /)
    assert.equal(missing.code, 2)
    const future = await cli(['audit', 'prune', '--before', '2999-01-01'])
    assert.match(future.stderr, /is in the future/)
    assert.equal(future.code, 2)

    const pruned = await change(['audit', 'prune', '--before', '2001-01-01'])
    assert.equal(pruned.r.stdout, 'removed 0 audit events recorded before 2001-01-01T00:00:00.000Z\n')
    assert.deepEqual(pruned.line.detail, { before: 978_307_200, removed: 0 })
    assert.equal((await trail('?action=audit.pruned')).data.length, 1)
  })

  it('never writes a password or the client secret to stdout, stderr, the node’s log or the trail', async () => {
    const db = new BetterSqlite3(join(gw.gh.dir, 'gatehouse.db'), { readonly: true })
    const rows = JSON.stringify(db.prepare('select * from identity_audit').all())
    db.close()
    assert.ok(rows.includes('user.password_changed') && rows.includes('client.added'))
    for (const secret of [ERIN_FIRST, ERIN_SECOND, clientSecret]) {
      assert.ok(secret.length > 20)
      for (const r of outputs) {
        const shown = r.stdout.replace(`client_secret: ${clientSecret}`, '')
        assert.ok(!shown.includes(secret) && !r.stderr.includes(secret), 'a secret in a command’s output')
      }
      assert.ok(!rows.includes(secret), 'a secret in the trail')
      assert.ok(!gw.gh.stdout.includes(secret) && !gw.gh.stderr.includes(secret), 'a secret in the log')
    }
    assert.ok(!rows.includes('$argon2') && !rows.includes('hmac-sha256'), 'no hash in the trail')
  })

  it('keeps a change whose row cannot be written, warning with the event, on both surfaces', async () => {
    const db = new BetterSqlite3(join(gw.gh.dir, 'gatehouse.db'))
    db.exec('drop table identity_audit')
    db.close()
    const r = await cli(['users', 'add', 'fay'], 'fay-has-a-long-passphrase\n')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^user 'fay' added/)
    const lines = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    assert.deepEqual(
      lines.map((l) => [l['level'], l['msg']]),
      [
        ['info', 'identity user added'],
        ['warn', 'audit event not recorded in the store'],
      ],
    )
    assert.equal((lines[1]!['audit'] as AuditLine).action, 'user.added')

    const res = await gw.gh.admin('/identity/users/fay/disable', { method: 'POST' })
    assert.equal(res.status, 200)
    assert.equal(((await res.json()) as { disabled: boolean }).disabled, true)
    await gw.gh.waitForLog(
      (l) =>
        l.msg === 'audit event not recorded in the store' &&
        (l['audit'] as AuditLine).action === 'user.disabled' &&
        (l['audit'] as AuditLine).actor['via'] === 'admin-api',
    )
  })
})
