/**
 * The identity provider's users, clients and signing keys on the admin API (issue 12), against a real
 * gateway with the provider on: every endpoint, its validation errors naming the field, the file's users
 * and clients read-only (409), and the effect where it matters — a disabled user cannot sign in, a reset
 * password works and the old one does not, an unlocked user can sign in again, a new confidential client's
 * secret (shown once) gets tokens until the client is removed, a rotation signs with a new key. Passwords
 * and secrets never appear in answers (but the one 201 that hands a client its secret) nor in the log.
 */
import assert from 'node:assert/strict'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import BetterSqlite3 from 'better-sqlite3'
import { decodeProtectedHeader } from 'jose'
import { Browser, formTo } from '../identity/support/browser.ts'
import {
  ALICE,
  CALLBACK,
  type IdentityGateway,
  ORDERS_API,
  PARTNER_SECRET,
  startIdentityGateway,
  WEB_SECRET,
} from '../identity/support/gateway.ts'
import { authorization, client, configFor, oauthError } from '../identity/support/oidc.ts'

const DAVE = { username: 'dave', email: 'dave@example.test', password: 'dave-first-passphrase-1' }
const DAVE_NEW = 'dave-second-passphrase-2'
const MAX_FAILURES = 3
const INVALID = 'Invalid username or password.'

interface Answer {
  readonly status: number
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers, read field by field
  readonly body: any
  readonly text: string
}

describe('the identity provider on the admin API', () => {
  let gw: IdentityGateway
  let web: client.Configuration

  async function call(method: string, path: string, body?: unknown): Promise<Answer> {
    const res = await gw.gh.admin(path, {
      method,
      ...(body === undefined
        ? {}
        : {
            headers: { 'content-type': 'application/json' },
            body: typeof body === 'string' ? body : JSON.stringify(body),
          }),
    })
    const text = await res.text()
    return { status: res.status, body: text === '' ? null : JSON.parse(text), text }
  }

  /** One sign-in on the real login form: `ok` when the provider moves on, `refused` for its generic answer. */
  async function login(credentials: { username: string; password: string }): Promise<'ok' | 'refused'> {
    const browser = new Browser()
    const auth = await authorization(web, { scope: 'openid' })
    const page = await browser.follow(await browser.get(auth.url), new URL(gw.issuer).origin)
    assert.ok(!(page instanceof URL))
    const form = formTo(await page.text(), '/login')
    const res = await browser.post(new URL(form.action, gw.issuer), { ...form.fields, ...credentials })
    if (res.status === 303) return 'ok'
    assert.equal(res.status, 200)
    assert.ok((await res.text()).includes(INVALID))
    return 'refused'
  }

  before(async () => {
    gw = await startIdentityGateway({
      identity: { login: { max_failures: MAX_FAILURES, lockout: 600, backoff: 1 } },
    })
    web = await configFor(gw.issuer, 'web-app', WEB_SECRET)
  })
  after(async () => {
    await gw?.gh.stop()
  })

  it('lists the users without a password or a hash, the file’s marked read-only', async () => {
    const list = await call('GET', '/identity/users')
    assert.equal(list.status, 200)
    const alice = list.body.data.find((u: { username: string }) => u.username === 'alice')
    assert.deepEqual(
      { ...alice, id: undefined, created_at: undefined, updated_at: undefined },
      {
        id: undefined,
        username: 'alice',
        email: ALICE.email,
        roles: ['customer', 'beta'],
        claims: { name: 'Alice Example', country: 'GB', customer_type: 'premium' },
        disabled: false,
        source: 'config',
        read_only: true,
        created_at: undefined,
        updated_at: undefined,
      },
    )
    assert.ok(!list.text.includes('$argon2') && !list.text.includes(ALICE.password))
    assert.ok(!list.text.includes('password'), 'no password field at all')
  })

  it('adds a user with a password it hashes, who can then sign in', async () => {
    const added = await call('POST', '/identity/users', {
      ...DAVE,
      roles: ['staff'],
      claims: { tier: 'gold' },
    })
    assert.equal(added.status, 201, added.text)
    assert.equal(added.body.username, 'dave')
    assert.deepEqual([added.body.source, added.body.read_only, added.body.disabled], ['cli', false, false])
    assert.match(added.body.id, /^[0-9a-f-]{36}$/)
    assert.ok(!added.text.includes(DAVE.password) && !added.text.includes('$argon2'))
    assert.equal(await login(DAVE), 'ok')

    const one = await call('GET', '/identity/users/dave')
    assert.deepEqual(
      [one.status, one.body.id, one.body.login_throttle],
      [
        200,
        added.body.id,
        {
          failures: 0,
          locked_until: null,
        },
      ],
    )
    assert.equal((await call('GET', `/identity/users/${added.body.id}`)).body.username, 'dave', 'also by id')
  })

  it('refuses a bad user with 400, naming every field', async () => {
    const bad = await call('POST', '/identity/users', {
      username: 'no spaces',
      email: 'not-an-address',
      password: DAVE.password,
      roles: ['ok', ''],
      extra: true,
    })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.code, 'GH_ERR_ADMIN_BAD_REQUEST')
    assert.deepEqual(Object.keys(bad.body.fields).toSorted(), ['email', 'extra', 'roles[1]', 'username'])
    assert.match(bad.body.fields.username, /letters, digits/)
    assert.equal(bad.body.fields.extra, 'unknown key')
    assert.match(bad.body.message, /^username: .*; email: /)

    const missing = await call('POST', '/identity/users', { username: 'erin' })
    assert.deepEqual([missing.status, missing.body.fields], [400, { password: 'is required' }])

    const weak = await call('POST', '/identity/users', { username: 'erin', password: 'short' })
    assert.deepEqual(
      [weak.status, weak.body.code, weak.body.message, weak.body.fields],
      [
        400,
        'GH_ERR_ADMIN_BAD_REQUEST',
        'password: refused: it has fewer than 12 characters',
        { password: 'refused: it has fewer than 12 characters' },
      ],
    )
    const named = await call('POST', '/identity/users', {
      username: 'erin',
      password: 'ERIN@example.test',
      email: 'erin@example.test',
    })
    assert.equal(named.body.fields.password, 'refused: it is the username or the e-mail address')
    const hashed = await call('POST', '/identity/users', {
      username: 'erin',
      password: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
    })
    assert.match(hashed.body.fields.password, /not a hash/)

    const notJson = await call(
      'POST',
      '/identity/users',
      `{"username": "erin", "password": "${DAVE.password}"`,
    )
    assert.deepEqual([notJson.status, notJson.body.message], [400, 'the body must be a JSON object'])
    assert.ok(
      !notJson.text.includes(DAVE.password),
      'the parser’s message, which quotes the body, is not sent',
    )
    assert.equal((await call('GET', '/identity/users/erin')).status, 404, 'nothing was added')
  })

  it('refuses a username or e-mail address taken with 409 naming the field', async () => {
    const name = await call('POST', '/identity/users', { username: 'DAVE', password: DAVE.password })
    assert.deepEqual(
      [name.status, name.body.code, name.body.message, name.body.fields],
      [409, 'GH_ERR_ADMIN_CONFLICT', "username 'DAVE' is already taken", { username: 'is already taken' }],
    )
    const email = await call('POST', '/identity/users', {
      username: 'dave2',
      email: 'Dave@example.test',
      password: DAVE.password,
    })
    assert.deepEqual([email.status, email.body.fields], [409, { email: 'is already taken' }])
  })

  it('refuses every change to a user the configuration file declares with 409, but unlocks one', async () => {
    const refusals = [
      await call('POST', '/identity/users', { username: 'Alice', password: DAVE.password }),
      await call('POST', '/identity/users/alice/disable'),
      await call('POST', '/identity/users/alice/enable'),
      await call('PUT', '/identity/users/alice/password', { password: DAVE_NEW }),
      await call('DELETE', '/identity/users/alice'),
    ]
    for (const r of refusals) {
      assert.equal(r.status, 409, r.text)
      assert.equal(r.body.code, 'GH_ERR_ADMIN_MANAGED_BY_CONFIG')
      assert.match(
        r.body.message,
        /^user '(A|a)lice' is declared in the configuration file \(identity\.users\); change it there$/,
      )
    }
    assert.equal(await login(ALICE), 'ok', 'alice is unchanged')
    const unlocked = await call('POST', '/identity/users/alice/unlock')
    assert.deepEqual([unlocked.status, unlocked.body.cleared], [200, false])
  })

  it('disables a user, who then cannot sign in, and enables them again', async () => {
    const disabled = await call('POST', '/identity/users/dave/disable')
    assert.deepEqual([disabled.status, disabled.body.disabled], [200, true])
    assert.equal(await login(DAVE), 'refused')
    const enabled = await call('POST', '/identity/users/dave/enable')
    assert.deepEqual([enabled.status, enabled.body.disabled], [200, false])
    assert.equal(await login(DAVE), 'ok')
  })

  it('resets a password: the new one works, the old one no longer does; a weak one is refused', async () => {
    const weak = await call('PUT', '/identity/users/dave/password', { password: 'dave' })
    assert.deepEqual(
      [weak.status, weak.body.fields],
      [400, { password: 'refused: it has fewer than 12 characters' }],
    )
    const noBody = await call('PUT', '/identity/users/dave/password', {})
    assert.deepEqual([noBody.status, noBody.body.fields], [400, { password: 'is required' }])
    const reset = await call('PUT', '/identity/users/dave/password', { password: DAVE_NEW })
    assert.equal(reset.status, 200, reset.text)
    assert.ok(!reset.text.includes(DAVE_NEW))
    assert.equal(await login({ username: 'dave', password: DAVE_NEW }), 'ok')
    assert.equal(await login(DAVE), 'refused')
    const unknown = await call('PUT', '/identity/users/nobody/password', { password: DAVE_NEW })
    assert.deepEqual(
      [unknown.status, unknown.body.code, unknown.body.message],
      [404, 'GH_ERR_ADMIN_NOT_FOUND', "no user 'nobody'"],
    )
  })

  it('shows a lock after repeated failed logins and clears it with unlock', async () => {
    await call('POST', '/identity/users/dave/unlock')
    for (let i = 0; i < MAX_FAILURES; i++)
      assert.equal(await login({ username: 'dave', password: `wrong-password-${i}` }), 'refused')
    assert.equal(await login({ username: 'dave', password: DAVE_NEW }), 'refused', 'locked')
    const locked = await call('GET', '/identity/users/dave')
    assert.ok(locked.body.login_throttle.failures >= MAX_FAILURES)
    assert.ok(locked.body.login_throttle.locked_until > Date.now() / 1000)
    const unlocked = await call('POST', '/identity/users/Dave/unlock')
    assert.deepEqual(unlocked.body, {
      username: 'dave',
      cleared: true,
      message: "cleared the failed logins and lock of 'dave'",
    })
    assert.equal((await call('GET', '/identity/users/dave')).body.login_throttle.locked_until, null)
    assert.equal(await login({ username: 'dave', password: DAVE_NEW }), 'ok')
  })

  it('removes a user, who then cannot sign in', async () => {
    const removed = await call('DELETE', '/identity/users/dave')
    assert.deepEqual([removed.status, removed.text], [204, ''])
    assert.equal((await call('GET', '/identity/users/dave')).status, 404)
    assert.equal(await login({ username: 'dave', password: DAVE_NEW }), 'refused')
    const again = await call('DELETE', '/identity/users/dave')
    assert.deepEqual([again.status, again.body.code], [404, 'GH_ERR_ADMIN_NOT_FOUND'])
  })

  it('lists the clients without a secret or its hash', async () => {
    const list = await call('GET', '/identity/clients')
    assert.equal(list.status, 200)
    const webApp = list.body.data.find((c: { client_id: string }) => c.client_id === 'web-app')
    assert.deepEqual([webApp.type, webApp.source, webApp.read_only], ['confidential', 'config', true])
    assert.ok(!list.text.includes(WEB_SECRET) && !list.text.includes('hmac-sha256'))
    assert.ok(!list.text.includes('secret'), 'no secret field at all')
  })

  it('adds a confidential client, its secret shown once, which gets tokens until the client is removed', async () => {
    const added = await call('POST', '/identity/clients', {
      client_id: 'reports',
      client_name: 'Reports job',
      grant_types: ['client_credentials'],
      scopes: ['orders:read'],
      resources: [ORDERS_API],
    })
    assert.equal(added.status, 201, added.text)
    assert.deepEqual([added.body.type, added.body.read_only], ['confidential', false])
    const secret = added.body.client_secret as string
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/)
    const shown = await call('GET', '/identity/clients/reports')
    assert.equal(shown.body.client_secret, undefined)
    assert.ok(!shown.text.includes(secret))
    assert.ok(!(await call('GET', '/identity/clients')).text.includes(secret))

    const reports = await configFor(gw.issuer, 'reports', secret)
    const tokens = await client.clientCredentialsGrant(reports, {
      scope: 'orders:read',
      resource: ORDERS_API,
    })
    assert.ok(tokens.access_token)

    const removed = await call('DELETE', '/identity/clients/reports')
    assert.equal(removed.status, 204)
    const refused = await oauthError(client.clientCredentialsGrant(reports, { resource: ORDERS_API }))
    assert.deepEqual(refused, { error: 'invalid_client', status: 401 })
    assert.ok(!gw.gh.stdout.includes(secret) && !gw.gh.stderr.includes(secret), 'the secret is not logged')
  })

  it('adds a public client without a secret', async () => {
    const added = await call('POST', '/identity/clients', {
      client_id: 'mobile',
      public: true,
      redirect_uris: [CALLBACK],
    })
    assert.equal(added.status, 201, added.text)
    assert.deepEqual([added.body.type, added.body.client_secret], ['public', undefined])
    assert.deepEqual(added.body.grant_types, ['authorization_code', 'refresh_token'])
  })

  it('refuses a bad client with 400 naming every field, and adds nothing', async () => {
    const bad = await call('POST', '/identity/clients', {
      client_id: 'bad client',
      redirect_uris: ['http://evil.example/cb'],
      grant_types: ['implicit'],
    })
    assert.equal(bad.status, 400)
    assert.deepEqual(Object.keys(bad.body.fields).toSorted(), [
      'client_id',
      'grant_types[0]',
      'redirect_uris[0]',
    ])
    assert.match(bad.body.fields['redirect_uris[0]'], /only allowed for loopback hosts/)

    const rules = await call('POST', '/identity/clients', {
      client_id: 'bad-client',
      public: true,
      grant_types: ['client_credentials'],
      resources: ['https://unknown.api.test'],
    })
    assert.equal(rules.status, 400)
    assert.deepEqual(rules.body.fields, {
      'resources[0]': "no resource 'https://unknown.api.test' in identity.resources",
      public: 'a public client cannot use the client_credentials grant',
    })
    const noRedirect = await call('POST', '/identity/clients', { client_id: 'bad-client' })
    assert.deepEqual(noRedirect.body.fields, {
      redirect_uris: 'at least one is required for the authorization_code grant',
    })
    assert.equal((await call('GET', '/identity/clients/bad-client')).status, 404)
  })

  it('refuses a client_id taken (409) and every change to the file’s clients (409)', async () => {
    const taken = await call('POST', '/identity/clients', {
      client_id: 'mobile',
      public: true,
      redirect_uris: [CALLBACK],
    })
    assert.deepEqual(
      [taken.status, taken.body.code, taken.body.message, taken.body.fields],
      [
        409,
        'GH_ERR_ADMIN_CONFLICT',
        "client_id 'mobile' is already taken",
        { client_id: 'is already taken' },
      ],
    )
    for (const r of [
      await call('POST', '/identity/clients', { client_id: 'web-app', redirect_uris: [CALLBACK] }),
      await call('DELETE', '/identity/clients/web-app'),
    ]) {
      assert.equal(r.status, 409, r.text)
      assert.equal(r.body.code, 'GH_ERR_ADMIN_MANAGED_BY_CONFIG')
      assert.equal(
        r.body.message,
        "client 'web-app' is declared in the configuration file (identity.clients); change it there",
      )
    }
    assert.equal((await call('DELETE', '/identity/clients/nobody')).status, 404)
  })

  it('lists the provider’s signing keys and rotates them: new tokens carry a new key', async () => {
    type Key = { kid: string; alg: string; state: string }
    const actives = (keys: Key[]) => keys.filter((k) => k.state === 'active')
    const before = await call('GET', '/identity/keys')
    assert.equal(before.status, 200)
    const old = actives(before.body.data)
    assert.ok(old.length > 0, before.text)
    assert.ok(!before.text.includes('"d"') && !before.text.includes('sealed'), 'no key material')

    const badAlg = await call('POST', '/identity/keys/rotate', { alg: 'HS256' })
    assert.deepEqual([badAlg.status, Object.keys(badAlg.body.fields)], [400, ['alg']])
    assert.match(badAlg.body.fields.alg, /^'HS256' is not in identity\.keys\.algorithms/)

    const rotated = await call('POST', '/identity/keys/rotate')
    assert.equal(rotated.status, 201, rotated.text)
    for (const key of old)
      assert.ok(
        rotated.body.events.some((e: Key & { event: string }) => e.kid === key.kid && e.event === 'retired'),
        `${key.alg} ${key.kid} retired`,
      )
    const now = actives(rotated.body.data)
    assert.deepEqual(
      now.map((k) => k.alg).toSorted(),
      old.map((k) => k.alg).toSorted(),
      'one new active key per algorithm',
    )
    assert.ok(now.every((k) => !old.some((o) => o.kid === k.kid)))

    const partner = await configFor(gw.issuer, 'partner', PARTNER_SECRET)
    const tokens = await client.clientCredentialsGrant(partner, { resource: ORDERS_API })
    const kid = decodeProtectedHeader(tokens.access_token).kid
    assert.ok(
      now.some((k) => k.kid === kid),
      `signed with ${kid}, one of the new keys`,
    )
  })

  it('answers 503 GH_ERR_STORE_UNAVAILABLE to a write the store cannot take, and the same write succeeds after', async () => {
    const other = new BetterSqlite3(join(gw.gh.dir, 'gatehouse.db'))
    const frank = { username: 'frank', password: 'frank-long-passphrase-1' }
    try {
      // Another writer holding the file's one write lock past busy_timeout (5 s).
      other.exec('begin immediate')
      const refused = await call('POST', '/identity/users', frank)
      assert.equal(refused.status, 503, refused.text)
      assert.equal(refused.body.code, 'GH_ERR_STORE_UNAVAILABLE')
      assert.ok(!refused.text.includes(frank.password))
      other.exec('rollback')
    } finally {
      other.close()
    }
    assert.equal((await call('POST', '/identity/users', frank)).status, 201)
  })

  it('audits every change with the admin API as actor, a refused one not at all, a password never', async () => {
    const reset = await call('DELETE', '/identity/users/alice/factors')
    assert.equal(reset.status, 200)
    const line = await gw.gh.waitForLog((l) => l.type === 'audit' && l.action === 'user.mfa_reset')
    assert.equal(line.msg, 'identity factors reset')
    const actor = line['actor'] as { node: string }
    assert.deepEqual(actor, { via: 'admin-api', address: '127.0.0.1', node: actor.node, host: hostname() })

    const mfa = await call('GET', '/identity/audit?user=alice&action=user.mfa_reset')
    assert.equal(mfa.status, 200, mfa.text)
    assert.equal(mfa.body.data.length, 1)
    const [event] = mfa.body.data
    assert.deepEqual(
      { ...event, id: undefined, at: undefined },
      {
        id: undefined,
        at: undefined,
        action: 'user.mfa_reset',
        actor,
        target: { type: 'user', id: event.target.id, name: 'alice' },
        detail: { factors_removed: 0 },
      },
    )
    assert.ok(Math.abs(event.at - Date.now() / 1000) < 600)

    // dave is removed: his trail stays, by username; the weak password and the 404s left nothing.
    const dave = await call('GET', '/identity/audit?user=dave')
    assert.deepEqual(
      dave.body.data.map((e: { action: string }) => e.action),
      [
        'user.removed',
        'user.unlocked',
        'user.unlocked',
        'user.password_changed',
        'user.enabled',
        'user.disabled',
        'user.added',
      ],
    )
    const reports = await call('GET', '/identity/audit?client=reports')
    assert.deepEqual(
      reports.body.data.map((e: { action: string; detail: unknown }) => [e.action, e.detail]),
      [
        ['client.removed', {}],
        [
          'client.added',
          { type: 'confidential', grant_types: 'client_credentials', mfa: null, first_party: false },
        ],
      ],
    )
    const rotated = await call('GET', '/identity/audit?action=signing_key.rotated')
    assert.equal(rotated.body.data.length, 2, 'one per algorithm')
    const all = await call('GET', '/identity/audit?size=1000')
    for (const secret of [DAVE.password, DAVE_NEW, 'frank-long-passphrase-1', '$argon2', 'hmac-sha256'])
      assert.ok(!all.text.includes(secret), 'a secret in the trail')
  })

  it('writes no password into the log', () => {
    for (const secret of [DAVE.password, DAVE_NEW, ALICE.password, 'frank-long-passphrase-1'])
      assert.ok(!gw.gh.stdout.includes(secret) && !gw.gh.stderr.includes(secret), 'a password was logged')
    assert.ok(
      gw.gh.lines.some(
        (l) =>
          l.msg === 'identity user added' &&
          l.type === 'audit' &&
          (l.target as { name: string }).name === 'dave',
      ),
    )
  })
})
