/**
 * What an administrator can do for an account that the account page lets its owner do (issue 14): list
 * its provider sessions and sign it out everywhere, through the admin API and the CLI, audited (the trail
 * itself: test/cli/audit.test.ts).
 */
import assert from 'node:assert/strict'
import { hostname } from 'node:os'
import { after, before, describe, it } from 'node:test'
import { runCli } from '../harness/gatehouse.ts'
import { ALICE, BOB, type IdentityGateway, startIdentityGateway, WEB_SECRET } from './support/gateway.ts'
import { client, codeFlow, configFor, oauthError } from './support/oidc.ts'

describe('account sessions on the admin API and the CLI', () => {
  let gw: IdentityGateway
  let web: client.Configuration

  before(async () => {
    gw = await startIdentityGateway()
    web = await configFor(gw.issuer, 'web-app', WEB_SECRET)
  })
  after(() => gw?.gh.stop())

  async function sessions(user: string) {
    const res = await gw.gh.admin(`/identity/users/${user}/sessions`)
    assert.equal(res.status, 200)
    return ((await res.json()) as { data: Record<string, unknown>[] }).data
  }

  it('lists a user’s sessions by public uid, with the clients they signed into', async () => {
    await codeFlow(web, ALICE, { scope: 'openid offline_access' })
    const listed = await sessions('alice')
    assert.equal(listed.length, 1)
    const [s] = listed
    assert.match(String(s!['uid']), /^[A-Za-z0-9_-]+$/)
    assert.deepEqual(s!['clients'], ['web-app'])
    assert.deepEqual(s!['amr'], ['pwd'])
    assert.equal(typeof s!['login_at'], 'number')
    assert.deepEqual(Object.keys(s!).sort(), [
      'amr',
      'clients',
      'expires_at',
      'last_ip',
      'login_at',
      'uid',
      'user_agent',
    ])
    assert.equal(s!['last_ip'], '127.0.0.1')

    const cli = await runCli(['users', 'sessions', 'alice', '--config', gw.gh.configFile])
    assert.equal(cli.code, 0, cli.stderr)
    assert.match(cli.stdout, new RegExp(String(s!['uid'])))
    assert.match(cli.stdout, /web-app/)
  })

  it('signs a user out everywhere: sessions gone, refresh tokens refused, audited', async () => {
    const tokens = await codeFlow(web, BOB, { scope: 'openid offline_access' })
    assert.equal((await sessions('bob')).length, 1)
    const res = await gw.gh.admin('/identity/users/bob/signout', { method: 'POST' })
    assert.equal(res.status, 200)
    const body = (await res.json()) as Record<string, unknown>
    assert.equal(body['username'], 'bob')
    assert.equal(body['sessions_ended'], 1)
    assert.equal(body['subject_revoked'], true)
    assert.deepEqual(await sessions('bob'), [])
    assert.equal(
      (await oauthError(client.refreshTokenGrant(web, tokens.refresh_token!))).error,
      'invalid_grant',
    )
    const line = await gw.gh.waitForLog(
      (l) => l.msg === 'account signed out everywhere' && l.type === 'audit',
    )
    assert.equal(line['action'], 'user.signed_out')
    const actor = line['actor'] as { via: string; address: string; node: string }
    assert.deepEqual(actor, { via: 'admin-api', address: '127.0.0.1', node: actor.node, host: hostname() })
    assert.match(actor.node, /^[0-9a-f-]{36}$/)
    assert.deepEqual(line['detail'], {
      sessions_ended: 1,
      artefacts_deleted: (line['detail'] as { artefacts_deleted: number }).artefacts_deleted,
      subject_revoked: true,
      reason: 'signed out everywhere by an administrator',
    })
    assert.ok(!gw.gh.stdout.includes(tokens.refresh_token!), 'no token in the log')
  })

  it('signs out from the CLI, saying what a configuration without redis cannot reach', async () => {
    await codeFlow(web, ALICE, { scope: 'openid' })
    const cli = await runCli(['users', 'signout', 'alice', '--config', gw.gh.configFile])
    assert.equal(cli.code, 0, cli.stderr)
    assert.match(cli.stdout, /signed 'alice' out everywhere/)
    assert.match(cli.stdout, /has no redis section/)
    assert.deepEqual(await sessions('alice'), [])
  })

  it('answers 404 for a user that does not exist, on both', async () => {
    for (const path of ['/identity/users/nobody/sessions', '/identity/users/nobody/signout']) {
      const res = await gw.gh.admin(path, { method: path.endsWith('signout') ? 'POST' : 'GET' })
      assert.equal(res.status, 404, path)
      assert.equal(((await res.json()) as { code: string }).code, 'GH_ERR_ADMIN_NOT_FOUND')
    }
    const cli = await runCli(['users', 'signout', 'nobody', '--config', gw.gh.configFile])
    assert.notEqual(cli.code, 0)
    assert.match(cli.stderr, /no user 'nobody'/)
  })
})
