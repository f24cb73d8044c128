/**
 * Signing in with another OpenID Connect provider (issue 14, brokering), browserless: an independent
 * oidc-provider (support/external-provider.ts) is the external provider, the gateway's real login page
 * starts the sign-in, and openid-client exchanges the code Gatehouse finally issues, so every ID token is
 * checked by a certified relying party. A first sign-in creates and links an account (create_accounts)
 * or links one after its password; the link signs in the next time; an e-mail address never links by
 * itself; a tampered state, a replayed callback, another nonce and a refusal at the provider end on a
 * page, never a sign-in; the links show and go on the admin API and the CLI.
 * (broker-browser.test.ts does the same sign-ins in Chromium, with axe.)
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, runCli, startGatehouse } from '../harness/gatehouse.ts'
import { Browser, formTo } from './support/browser.ts'
import {
  EXT_CLIENT_ID,
  EXT_CLIENT_SECRET,
  type ExternalProvider,
  type NextSignIn,
  startExternalProvider,
} from './support/external-provider.ts'
import { awayFromStepEdge, seedTotp, totpCode } from './support/factors.ts'
import { ALICE, BOB, CALLBACK, freePort, identitySection, storeOf } from './support/gateway.ts'
import { authorization, client, configFor } from './support/oidc.ts'

const INVALID_CREDENTIALS = 'Invalid username or password.'

/** Both providers are the one external provider, under two names with different settings. */
function externalProviders(issuer: string) {
  const common = { issuer, client_id: EXT_CLIENT_ID, client_secret: EXT_CLIENT_SECRET }
  return [
    { ...common, name: 'ext', display_name: 'Example ID', create_accounts: true, trust_amr: true },
    { ...common, name: 'corp', display_name: 'Corp SSO' },
    // Used by one test only, so its keys are first fetched while the provider publishes the wrong ones.
    { ...common, name: 'alt', display_name: 'Alt ID', create_accounts: true },
  ]
}

describe('signing in with another OpenID Connect provider', () => {
  let ext: ExternalProvider
  let gh: GatehouseProcess
  let issuer: string
  let origin: string
  let spa: client.Configuration

  before(async () => {
    const port = await freePort()
    issuer = `http://127.0.0.1:${port}/oidc`
    origin = new URL(issuer).origin
    ext = await startExternalProvider(`${issuer}/broker/callback`)
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        identity: identitySection(issuer, { external_providers: externalProviders(ext.issuer) }),
      },
      args: ['--proxy-listen', `127.0.0.1:${port}`],
    })
    spa = await configFor(issuer, 'spa')
  })

  after(async () => {
    await gh?.stop()
    await ext?.close()
  })

  interface Started {
    readonly browser: Browser
    readonly auth: Awaited<ReturnType<typeof authorization>>
    /** The external provider's authorization URL the gateway sent the browser to. */
    readonly upstream: URL
    /** The `_gh_broker` cookie of the started sign-in. */
    readonly cookie: string
  }

  /** Opens the login page of a new authorization request and presses "Sign in with <broker>". */
  async function start(broker: string, browser = new Browser()): Promise<Started> {
    const auth = await authorization(spa, { scope: 'openid profile email' })
    const page = await browser.follow(await browser.get(auth.url), origin)
    assert.ok(page instanceof Response)
    const form = formTo(await page.text(), `/broker/${broker}`)
    const res = await browser.post(new URL(form.action, origin), form.fields)
    assert.equal(res.status, 303)
    const cookie = /_gh_broker=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1]
    assert.ok(cookie)
    return { browser, auth, upstream: new URL(res.headers.get('location')!), cookie }
  }

  /** At the external provider: `next` signs in; returns the gateway callback URL it redirects to. */
  async function atProvider(s: Started, next: NextSignIn, upstream = s.upstream): Promise<URL> {
    ext.next = next
    const back = await s.browser.follow(await s.browser.get(upstream), ext.issuer)
    assert.ok(back instanceof URL, 'the external provider redirects back')
    assert.equal(back.origin + back.pathname, `${issuer}/broker/callback`)
    return back
  }

  /** Back at the gateway: a page (Response) or the client's callback (URL). */
  async function backAt(s: Started, callback: URL): Promise<Response | URL> {
    return s.browser.follow(await s.browser.get(callback), origin)
  }

  /** The client's code exchanged: Gatehouse's own ID token claims. */
  async function tokensFor(s: Started, landed: Response | URL) {
    assert.ok(landed instanceof URL, landed instanceof Response ? await landed.text() : '')
    assert.equal(landed.origin + landed.pathname, CALLBACK)
    const tokens = await client.authorizationCodeGrant(spa, landed, {
      pkceCodeVerifier: s.auth.verifier,
      expectedState: s.auth.state,
      expectedNonce: s.auth.nonce,
      idTokenExpected: true,
    })
    return tokens.claims()!
  }

  async function page(landed: Response | URL, status: number, heading: string): Promise<string> {
    assert.ok(landed instanceof Response, `expected a page, got a redirect to ${String(landed)}`)
    const html = await landed.text()
    assert.equal(landed.status, status, html)
    assert.match(html, new RegExp(`<h1>${heading}</h1>`))
    return html
  }

  it('shows one button per provider under the password form, each a form posting with the CSRF token', async () => {
    const browser = new Browser()
    const auth = await authorization(spa, { scope: 'openid' })
    const res = await browser.follow(await browser.get(auth.url), origin)
    assert.ok(res instanceof Response)
    const html = await res.text()
    const login = html.indexOf('/login"')
    for (const [name, label] of [
      ['ext', 'Example ID'],
      ['corp', 'Corp SSO'],
    ]) {
      const form = formTo(html, `/broker/${name}`)
      assert.ok(form.fields.csrf, 'the CSRF token')
      assert.ok(html.indexOf(`/broker/${name}"`) > login, 'below the password form')
      assert.match(html, new RegExp(`Sign in with ${label}</button>`))
    }
    // A link cannot start it, nor a form from elsewhere (no token).
    const action = new URL(formTo(html, '/broker/ext').action, origin)
    assert.equal((await browser.get(action)).status, 405)
    assert.equal((await browser.post(action, {})).status, 403)
    assert.equal(
      (await browser.post(new URL(action.href.replace('/ext', '/nope')), formTo(html, '/broker/ext').fields))
        .status,
      404,
    )
  })

  it('creates and links an account at the first sign-in (create_accounts), without a password; the link signs in next time', async () => {
    const account = {
      sub: 'ext-dana',
      email: 'dana@ext.test',
      email_verified: true,
      preferred_username: 'dana',
    }
    const first = await start('ext')
    const claims = await tokensFor(
      first,
      await backAt(first, await atProvider(first, { account, amr: ['pwd', 'otp', 'mfa', 'x-custom'] })),
    )
    // Gatehouse's own token: its issuer, the local user's subject; trust_amr copies RFC 8176 values only.
    assert.equal(claims.iss, issuer)
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa'])
    assert.equal(claims.acr, 'urn:gatehouse:acr:2fa')
    const store = await storeOf(gh)
    try {
      const dana = await store.users.findByUsername('dana')
      assert.ok(dana)
      assert.equal(claims.sub, dana.id)
      assert.equal(dana.email, 'dana@ext.test')
      assert.equal(dana.password_hash, '!')
      const [link] = await store.links.listByUser(dana.id)
      assert.equal(link?.broker, 'ext')
      assert.equal(link?.subject, 'ext-dana')
      assert.notEqual(link?.last_used_at, null)

      // The same identity again: the same user, no new account.
      const second = await start('ext')
      const again = await tokensFor(second, await backAt(second, await atProvider(second, { account })))
      assert.equal(again.sub, dana.id)
      assert.deepEqual(again.amr, [])
      assert.equal(again.acr, 'urn:gatehouse:acr:1fa')
      assert.equal((await store.users.list()).filter((u) => u.username.startsWith('dana')).length, 1)

      // A second identity with the same preferred_username gets a name of its own.
      const other = await start('ext')
      const theirs = await tokensFor(
        other,
        await backAt(
          other,
          await atProvider(other, { account: { sub: 'ext-dana-2', preferred_username: 'dana' } }),
        ),
      )
      assert.equal((await store.users.get(String(theirs.sub)))?.username, 'dana-2')
    } finally {
      await store.close()
    }
    // No password: the password form refuses it like any wrong password.
    const browser = new Browser()
    const auth = await authorization(spa, { scope: 'openid' })
    const login = await browser.follow(await browser.get(auth.url), origin)
    assert.ok(login instanceof Response)
    const form = formTo(await login.text(), '/login')
    const refused = await browser.post(new URL(form.action, origin), {
      ...form.fields,
      username: 'dana',
      password: '!',
    })
    assert.match(await refused.text(), new RegExp(INVALID_CREDENTIALS))
  })

  it('without create_accounts asks for the password of an existing account, then links it; the link signs in next time', async () => {
    const account = { sub: 'corp-4711', email: 'alice.l@corp.test', preferred_username: 'alicel' }
    const s = await start('corp')
    let html = await page(
      await backAt(s, await atProvider(s, { account, amr: ['mfa'] })),
      200,
      'Link your account',
    )
    assert.match(html, /Corp SSO/)
    assert.doesNotMatch(html, /Create a new account/)
    const link = formTo(html, '/link')
    html = await page(
      await s.browser.post(new URL(link.action, origin), {
        ...link.fields,
        username: ALICE.username,
        password: 'wrong-password-123',
      }),
      200,
      'Link your account',
    )
    assert.match(html, new RegExp(INVALID_CREDENTIALS))
    const claims = await tokensFor(
      s,
      await s.browser.follow(
        await s.browser.post(new URL(link.action, origin), { ...formTo(html, '/link').fields, ...ALICE }),
        origin,
      ),
    )
    const store = await storeOf(gh)
    try {
      const alice = await store.users.findByUsername(ALICE.username)
      assert.equal(claims.sub, alice!.id)
      // trust_amr off: the provider's amr (even mfa) is not believed.
      assert.deepEqual(claims.amr, [])
      assert.equal(claims.acr, 'urn:gatehouse:acr:1fa')
      assert.deepEqual(
        (await store.links.listByUser(alice!.id)).map((l) => [l.broker, l.subject, l.email]),
        [['corp', 'corp-4711', 'alice.l@corp.test']],
      )
    } finally {
      await store.close()
    }
    const next = await start('corp')
    assert.equal(
      (await tokensFor(next, await backAt(next, await atProvider(next, { account })))).sub,
      claims.sub,
    )
  })

  it('never links by an e-mail address equal to an existing account’s, verified or not', async () => {
    for (const broker of ['ext', 'corp']) {
      const account = {
        sub: `imposter-${broker}`,
        email: BOB.email,
        email_verified: true,
        preferred_username: 'bob',
      }
      const s = await start(broker)
      const html = await page(await backAt(s, await atProvider(s, { account })), 200, 'Link your account')
      // Only where accounts may be made is a new one offered; bob's is not used.
      assert.equal(html.includes('Create a new account'), broker === 'ext')
    }
    const store = await storeOf(gh)
    try {
      const bob = await store.users.findByUsername(BOB.username)
      assert.deepEqual(await store.links.listByUser(bob!.id), [])
      assert.equal(await store.links.find('ext', 'imposter-ext'), undefined)
      assert.equal(await store.users.findByUsername('bob-2'), undefined)
    } finally {
      await store.close()
    }
  })

  it('refuses a tampered state, a replayed callback and an ID token for another nonce with a page (4xx), never a sign-in', async () => {
    const account = { sub: 'ext-erin', preferred_username: 'erin' }
    // The state changed on the way back.
    const tampered = await start('ext')
    const callback = await atProvider(tampered, { account })
    callback.searchParams.set('state', 'forged-state')
    await page(await backAt(tampered, callback), 400, 'Sign-in refused')

    // A callback used once is used up, with the cookie it came with or with the one it left.
    const replayed = await start('ext')
    const once = await atProvider(replayed, { account })
    await tokensFor(replayed, await backAt(replayed, once))
    await page(await backAt(replayed, once), 400, 'Sign-in expired')
    const withOldCookie = await fetch(once, {
      headers: { cookie: `_gh_broker=${replayed.cookie}` },
      redirect: 'manual',
    })
    await page(withOldCookie, 400, 'Sign-in expired')

    // The external provider was asked with another nonce: its ID token does not match this sign-in.
    const renonced = await start('ext')
    const upstream = new URL(renonced.upstream)
    upstream.searchParams.set('nonce', 'a-nonce-of-somebody-else')
    await page(
      await backAt(renonced, await atProvider(renonced, { account }, upstream)),
      400,
      'Sign-in refused',
    )
    for (const reason of ['state_mismatch', 'broker_transaction_unknown', 'broker_refused'])
      await gh.waitForLog((l) => l.msg === 'external sign-in failed' && l.reason === reason)
    assert.doesNotMatch(gh.stdout + gh.stderr, new RegExp(EXT_CLIENT_SECRET))
  })

  it('refuses an ID token whose signature does not verify with the keys the provider publishes', async () => {
    ext.wrongKeys = true
    try {
      const s = await start('alt')
      await page(
        await backAt(
          s,
          await atProvider(s, { account: { sub: 'alt-mallory', preferred_username: 'mallory' } }),
        ),
        400,
        'Sign-in refused',
      )
    } finally {
      ext.wrongKeys = false
    }
    const store = await storeOf(gh)
    try {
      assert.equal(await store.links.find('alt', 'alt-mallory'), undefined)
      assert.equal(await store.users.findByUsername('mallory'), undefined)
    } finally {
      await store.close()
    }
  })

  it('shows a refusal at the provider as a page, and keeps a disabled user out', async () => {
    const s = await start('ext')
    await page(await backAt(s, await atProvider(s, { error: 'access_denied' })), 403, 'Sign-in cancelled')

    const store = await storeOf(gh)
    try {
      const carol = await store.users.findByUsername('carol')
      await store.links.insert({
        broker: 'corp',
        subject: 'corp-carol',
        user_id: carol!.id,
        email: null,
        username: null,
        created_at: 1,
        last_used_at: null,
      })
    } finally {
      await store.close()
    }
    const d = await start('corp')
    await page(
      await backAt(d, await atProvider(d, { account: { sub: 'corp-carol' } })),
      403,
      'Sign-in refused',
    )
  })

  it('asks a user whose policy requires a second factor for the code after the external sign-in, then says otp and mfa', async () => {
    const store = await storeOf(gh)
    let secret: string
    try {
      const bob = await store.users.findByUsername(BOB.username)
      for (const broker of ['corp', 'ext'])
        await store.links.insert({
          broker,
          subject: `${broker}-bob`,
          user_id: bob!.id,
          email: null,
          username: null,
          created_at: 1,
          last_used_at: null,
        })
      secret = await seedTotp(store, BOB.username)
      // Bob is declared in the file, whose policy the admin API may not change: set in the store, as a
      // load of `mfa: required` would (the file's own `mfa` is tested in factors.test.ts).
      await store.factors.setPolicy(bob!.id, 'required', 1)
    } finally {
      await store.close()
    }
    try {
      // Untrusted amr (corp): the external sign-in is one factor of unknown kind, the code the second.
      // Trusted amr (ext): its RFC 8176 methods come first. The provider's own `mfa` is not a code here.
      for (const [step, [broker, amr, expected]] of [
        ['corp', ['pwd', 'mfa'], ['otp', 'mfa']],
        ['ext', ['pwd'], ['pwd', 'otp', 'mfa']],
      ].entries() as Iterable<[number, [string, string[], string[]]]>) {
        const s = await start(broker)
        const html = await page(
          await backAt(s, await atProvider(s, { account: { sub: `${broker}-bob` }, amr })),
          200,
          'Verify it is you',
        )
        await awayFromStepEdge()
        const form = formTo(html, '/otp')
        const claims = await tokensFor(
          s,
          await s.browser.follow(
            await s.browser.post(new URL(form.action, origin), {
              ...form.fields,
              code: totpCode(secret, step),
            }),
            origin,
          ),
        )
        assert.deepEqual(claims.amr, expected)
        assert.equal(claims.acr, 'urn:gatehouse:acr:2fa')
        await gh.waitForLog(
          (l) => l.msg === 'external sign-in accepted' && l.broker === broker && l.user_id === claims.sub,
        )
      }
    } finally {
      const reset = await storeOf(gh)
      try {
        const bob = await reset.users.findByUsername(BOB.username)
        await reset.factors.setPolicy(bob!.id, null, 2)
      } finally {
        await reset.close()
      }
    }
  })

  it('a right password on the link page keeps the account’s failure count until the second factor is proved', async () => {
    const password = 'hana-password-12345'
    const added = await gh.admin('/identity/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'hana', password }),
    })
    assert.equal(added.status, 201)
    const hana = (await added.json()) as { id: string }
    const required = await gh.admin('/identity/users/hana/mfa', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mfa: 'required' }),
    })
    assert.equal(required.status, 200)
    const store = await storeOf(gh)
    try {
      const secret = await seedTotp(store, 'hana')
      const s = await start('corp')
      let html = await page(
        await backAt(s, await atProvider(s, { account: { sub: 'corp-hana' } })),
        200,
        'Link your account',
      )
      const link = formTo(html, '/link')
      html = await page(
        await s.browser.post(new URL(link.action, origin), {
          ...link.fields,
          username: 'hana',
          password: 'wrong-password-123',
        }),
        200,
        'Link your account',
      )
      assert.equal((await store.throttle.get('user:hana'))?.failures, 1)

      // Otherwise the password (known to whoever guesses codes) would reset the count of wrong codes.
      html = await page(
        await s.browser.follow(
          await s.browser.post(new URL(link.action, origin), {
            ...formTo(html, '/link').fields,
            username: 'hana',
            password,
          }),
          origin,
        ),
        200,
        'Verify it is you',
      )
      assert.equal((await store.throttle.get('user:hana'))?.failures, 1)

      await awayFromStepEdge()
      const otp = formTo(html, '/otp')
      const claims = await tokensFor(
        s,
        await s.browser.follow(
          await s.browser.post(new URL(otp.action, origin), { ...otp.fields, code: totpCode(secret) }),
          origin,
        ),
      )
      assert.equal(claims.sub, hana.id)
      assert.equal(await store.throttle.get('user:hana'), undefined, 'cleared once the sign-in succeeded')
    } finally {
      await store.close()
    }
  })

  it('steps a brokered session up with a code (acr_values 2fa): otp and mfa, though the provider’s amr was not trusted', async () => {
    const added = await gh.admin('/identity/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'gina', password: 'gina-password-12345' }),
    })
    assert.equal(added.status, 201)
    const gina = (await added.json()) as { id: string }
    const store = await storeOf(gh)
    try {
      await store.links.insert({
        broker: 'corp',
        subject: 'corp-gina',
        user_id: gina.id,
        email: null,
        username: null,
        created_at: 1,
        last_used_at: null,
      })
    } finally {
      await store.close()
    }
    // No factor, mfa optional: the external sign-in alone, one factor of unknown kind.
    const s = await start('corp')
    const first = await tokensFor(
      s,
      await backAt(s, await atProvider(s, { account: { sub: 'corp-gina' }, amr: ['pwd'] })),
    )
    assert.deepEqual([first.amr, first.acr], [[], 'urn:gatehouse:acr:1fa'])

    // The client asks for two factors on the same browser session: only the second is asked (set up here).
    const auth = await authorization(spa, { scope: 'openid', acr_values: 'urn:gatehouse:acr:2fa' })
    const html = await page(
      await s.browser.follow(await s.browser.get(auth.url), origin),
      200,
      'Set up two-step verification',
    )
    const key = /id="manual-key" class="key">([^<]+)</.exec(html)?.[1]
    assert.ok(key)
    await awayFromStepEdge()
    const enrol = formTo(html, '/enrol')
    const codes = await page(
      await s.browser.post(new URL(enrol.action, origin), { ...enrol.fields, code: totpCode(key) }),
      200,
      'Save your recovery codes',
    )
    const finish = formTo(codes, '/finish')
    const claims = await tokensFor(
      { ...s, auth },
      await s.browser.follow(await s.browser.post(new URL(finish.action, origin), finish.fields), origin),
    )
    assert.equal(claims.sub, gina.id)
    assert.deepEqual([claims.amr, claims.acr], [['otp', 'mfa'], 'urn:gatehouse:acr:2fa'])
  })

  it('lists and removes a user’s links on the admin API and with the CLI', async () => {
    const listed = await gh.admin('/identity/users/alice/links')
    assert.equal(listed.status, 200)
    const body = (await listed.json()) as {
      data: { broker: string; display_name: string; subject: string }[]
    }
    assert.deepEqual(
      body.data.map((l) => [l.broker, l.display_name, l.subject]),
      [['corp', 'Corp SSO', 'corp-4711']],
    )
    const config = ['--config', gh.configFile]
    const cli = await runCli(['users', 'links', 'dana', ...config])
    assert.equal(cli.code, 0, cli.stderr)
    assert.match(cli.stdout, /ext\s+ext-dana\s+dana@ext\.test/)
    const unlinked = await runCli(['users', 'unlink', 'dana', 'ext', ...config])
    assert.equal(unlinked.code, 0, unlinked.stderr)
    assert.match(unlinked.stdout, /no password and no other link/)
    assert.equal((await runCli(['users', 'unlink', 'dana', 'ext', ...config])).code, 1)

    assert.equal((await gh.admin('/identity/users/alice/links/corp', { method: 'DELETE' })).status, 204)
    const gone = await gh.admin('/identity/users/alice/links/corp', { method: 'DELETE' })
    assert.equal(gone.status, 404)
    assert.match(await gone.text(), /GH_ERR_ADMIN_NOT_FOUND/)
    assert.equal((await gh.admin('/identity/users/nobody/links')).status, 404)
    await gh.waitForLog(
      (l) =>
        l.type === 'audit' &&
        l.action === 'user.link_removed' &&
        (l.detail as { provider: string }).provider === 'corp' &&
        (l.actor as { via: string }).via === 'admin-api',
    )
  })
})
