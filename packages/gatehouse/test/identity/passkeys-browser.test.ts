/**
 * Passkeys (issue 14) through the real process and Chromium, with the DevTools virtual authenticator
 * (CTAP2, internal transport, resident keys, user verification) standing in for a phone or laptop:
 * a passkey registered from the account page's Security section signs in alone (amr hwk+mfa) and as
 * the second factor after the password (pwd+hwk+mfa); a removed passkey and another authenticator's
 * unknown credential sign nobody in; the Security section manages the authenticator app and the
 * recovery codes and refuses to remove the last factor where the policy requires one. axe on every
 * new page state; no CSP violation (the pages load the passkey script from the provider only). Each
 * change on the Security section is read back from the audit trail: the kind and id of the factor,
 * never its secret, credential or the recovery codes.
 * The issuer is `localhost`: WebAuthn refuses an IP address as the relying party id.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core'
import { axeViolations, cspViolations, NO_CHROMIUM, openContext } from '../console/pages-support.ts'
import { launchBrowser } from '../harness/browser.ts'
import { runCli } from '../harness/gatehouse.ts'
import { assertNotRecorded, assertSelfService, auditOf, onlyEvent, SOME_SESSION } from './support/audit.ts'
import {
  EXT_CLIENT_ID,
  EXT_CLIENT_SECRET,
  type ExternalProvider,
  startExternalProvider,
} from './support/external-provider.ts'
import { awayFromStepEdge, totpCode } from './support/factors.ts'
import { freePort, type IdentityGateway, startIdentityGateway, storeOf } from './support/gateway.ts'
import { authorization, client, configFor } from './support/oidc.ts'
import { type RelyingParty, startRelyingParty } from './support/relying-party.ts'

const PAT = { username: 'pat', email: 'pat@example.test', password: 'pat-passkey-password-1234' }
const QUINN = { username: 'quinn', email: 'quinn@example.test', password: 'quinn-passkey-password-1234' }

async function heading(page: Page): Promise<string> {
  return ((await page.locator('h1').textContent()) ?? '').trim()
}

async function assertClean(page: Page, what: string): Promise<void> {
  assert.deepEqual(await axeViolations(page), [], `axe on ${what}`)
  assert.deepEqual(await cspViolations(page), [], `CSP on ${what}`)
}

/** A virtual authenticator in the page's tab, as a laptop's platform authenticator with a fingerprint. */
async function authenticator(page: Page): Promise<{ cdp: CDPSession; id: string }> {
  const cdp = await page.context().newCDPSession(page)
  await cdp.send('WebAuthn.enable')
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  })
  return { cdp, id: authenticatorId }
}

describe('passkeys in Chromium', { skip: NO_CHROMIUM }, () => {
  let gw: IdentityGateway
  let rp: RelyingParty
  let browser: Browser
  let web: client.Configuration
  let context: BrowserContext
  let page: Page
  let device: { cdp: CDPSession; id: string }

  let strict: client.Configuration
  let ext: ExternalProvider

  async function addUser(user: typeof PAT): Promise<void> {
    const res = await gw.gh.admin('/identity/users', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(user),
    })
    assert.equal(res.status, 201, await res.text())
  }

  async function openAccount(p: Page = page): Promise<void> {
    await p.goto(`${gw.issuer}/account`)
    if ((await heading(p)) === 'Sign in') {
      await p.getByLabel('Username or e-mail').fill(PAT.username)
      await p.getByLabel('Password', { exact: true }).fill(PAT.password)
      await Promise.all([
        p.waitForNavigation(),
        p.getByRole('button', { name: 'Sign in', exact: true }).click(),
      ])
      if ((await heading(p)) === 'Verify it is you')
        await Promise.all([
          p.waitForURL(/\/account(\?|$)/),
          p.getByRole('button', { name: 'Use a passkey' }).click(),
        ])
      else await p.waitForURL(/\/account(\?|$)/)
    }
    assert.equal(await heading(p), 'Your account')
  }

  /** The relying party's sign-in from the start, signed out; the login page is shown. */
  async function startSignIn(p: Page = page) {
    await p.context().clearCookies()
    const auth = await authorization(web, { scope: 'openid profile', redirect_uri: rp.callback })
    await p.goto(auth.url.href)
    assert.equal(await heading(p), 'Sign in')
    return auth
  }

  async function tokensAfter(
    p: Page,
    auth: Awaited<ReturnType<typeof authorization>>,
    config: client.Configuration = web,
  ) {
    await p.waitForURL((url) => url.href.startsWith(rp.callback))
    return client.authorizationCodeGrant(config, new URL(p.url()), {
      pkceCodeVerifier: auth.verifier,
      expectedState: auth.state,
      expectedNonce: auth.nonce,
      idTokenExpected: true,
    })
  }

  before(async () => {
    rp = await startRelyingParty()
    const port = await freePort()
    ext = await startExternalProvider(`http://localhost:${port}/oidc/broker/callback`)
    gw = await startIdentityGateway({
      host: 'localhost',
      port,
      identity: {
        external_providers: [
          {
            issuer: ext.issuer,
            client_id: EXT_CLIENT_ID,
            client_secret: EXT_CLIENT_SECRET,
            name: 'corp',
            display_name: 'Corp SSO',
          },
        ],
        clients: [
          {
            client_id: 'strict-app',
            client_name: 'Strict App',
            redirect_uris: [rp.callback],
            scopes: ['openid', 'profile'],
            first_party: true,
            mfa: 'required',
          },
          {
            client_id: 'web-app',
            client_name: 'Web App',
            redirect_uris: [rp.callback],
            scopes: ['openid', 'profile'],
            first_party: true,
          },
        ],
      },
    })
    web = await configFor(gw.issuer, 'web-app')
    strict = await configFor(gw.issuer, 'strict-app')
    await addUser(PAT)
    await addUser(QUINN)
    browser = await launchBrowser()
    context = await openContext(browser, 'desktop')
    page = await context.newPage()
    device = await authenticator(page)
  })

  after(async () => {
    await browser?.close()
    await gw?.gh.stop()
    await ext?.close()
    await rp?.close()
  })

  it('registers a passkey from the Security section, then signs in with it alone: amr hwk+mfa, acr 2fa', async () => {
    await openAccount()
    await assertClean(page, 'the account page without factors')
    const script = await context.request.get(`${gw.issuer}/assets/passkey.js`)
    assert.equal(script.status(), 200)
    assert.match(script.headers()['content-type'] ?? '', /^text\/javascript/)

    // A wrong password: refused, nothing registered.
    await page.getByLabel('Name of the new passkey').fill('Laptop')
    await page.locator('#passkey-add-password').fill('not-the-password-at-all')
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add a passkey' }).click()])
    assert.match((await page.getByRole('alert').textContent()) ?? '', /current password is not right/)
    await assertClean(page, 'the Security section with a problem')

    await page.getByLabel('Name of the new passkey').fill('Laptop')
    await page.locator('#passkey-add-password').fill(PAT.password)
    await Promise.all([
      page.waitForURL(/done=passkey-added/),
      page.getByRole('button', { name: 'Add a passkey' }).click(),
    ])
    assert.equal(await page.getByRole('status').first().textContent(), 'Your passkey was added.')
    assert.match((await page.locator('.factors').first().textContent()) ?? '', /Laptop[\s\S]*never used/)
    const { credentials } = await device.cdp.send('WebAuthn.getCredentials', { authenticatorId: device.id })
    assert.equal(credentials.length, 1)
    assert.equal(credentials[0]!.isResidentCredential, true, 'discoverable: it can sign in alone')
    assert.equal(credentials[0]!.rpId, 'localhost')
    await assertClean(page, 'the account page with a passkey')
    const line = await gw.gh.waitForLog((l) => l.msg === 'identity factor enrolled' && l.kind === 'passkey')
    assert.doesNotMatch(JSON.stringify(line), new RegExp(credentials[0]!.credentialId.slice(0, 20)))

    // Administrators see it, never its credential id or public key.
    const listed = await gw.gh.admin(`/identity/users/${PAT.username}/factors`)
    const text = await listed.text()
    const factor = (JSON.parse(text) as { data: Record<string, unknown>[] }).data[0]!
    assert.equal(factor['kind'], 'passkey')
    assert.equal(factor['name'], 'Laptop')
    assert.match((factor['passkey'] as { credential: string }).credential, /^[0-9a-f]{12}$/)
    const credentialId = Buffer.from(credentials[0]!.credentialId, 'base64').toString('base64url')
    assert.ok(!text.includes(credentialId), 'no credential id in the admin API')
    // The refused try recorded nothing; the added passkey is one event, by its factor id.
    const added = await onlyEvent(gw.gh, PAT.username, 'user.factor_added')
    assertSelfService(added, 'account', SOME_SESSION)
    assert.deepEqual(added.detail, { kind: 'passkey', factor_id: factor['id'] })
    await assertNotRecorded(gw.gh, [credentialId, credentials[0]!.credentialId])

    const auth = await startSignIn()
    await assertClean(page, 'the login page with the passkey button')
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click()
    const tokens = await tokensAfter(page, auth)
    assert.deepEqual(tokens.claims()!.amr, ['hwk', 'mfa'])
    assert.equal(tokens.claims()!.acr, 'urn:gatehouse:acr:2fa')
  })

  it('asks the passkey after the password where the user has one: amr pwd+hwk+mfa', async () => {
    const auth = await startSignIn()
    await page.getByLabel('Username or e-mail').fill(PAT.username)
    await page.getByLabel('Password', { exact: true }).fill(PAT.password)
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ])
    assert.equal(await heading(page), 'Verify it is you')
    await assertClean(page, 'the second step with a passkey')
    await page.getByRole('button', { name: 'Use a passkey' }).click()
    const tokens = await tokensAfter(page, auth)
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'hwk', 'mfa'])
    assert.equal(tokens.claims()!.acr, 'urn:gatehouse:acr:2fa')
  })

  it('links an external identity to the account with a passkey instead of the password', async () => {
    const auth = await startSignIn()
    ext.next = { account: { sub: 'corp-pat', email: 'pat@corp.test', preferred_username: 'pat.c' } }
    await page.getByRole('button', { name: 'Sign in with Corp SSO' }).click()
    await page.waitForURL(/\/interaction\/[^/]+\/broker$/)
    assert.equal(await heading(page), 'Link your account')
    await assertClean(page, 'the link page with a passkey')
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Link with a passkey' }).click(),
    ])
    // Linked; the sign-in then goes on as a brokered one, which asks the account's second factor.
    assert.equal(await heading(page), 'Verify it is you')
    await page.getByRole('button', { name: 'Use a passkey' }).click()
    const tokens = await tokensAfter(page, auth)
    // The external sign-in (a factor of no named kind) and the passkey: two factors.
    assert.deepEqual(tokens.claims()!.amr, ['hwk', 'mfa'])
    assert.equal(tokens.claims()!.acr, 'urn:gatehouse:acr:2fa')
    const store = await storeOf(gw.gh)
    try {
      const pat = (await store.users.findByUsername(PAT.username))!
      assert.equal(tokens.claims()!.sub, pat.id)
      assert.equal((await store.links.find('corp', 'corp-pat'))?.user_id, pat.id)
    } finally {
      await store.close()
    }
    await gw.gh.waitForLog((l) => l.msg === 'identity link created' && l.how === 'passkey')
  })

  it('offers a passkey where a second factor must be set up while signing in, then the recovery codes', async () => {
    const ctx = await openContext(browser, 'desktop')
    const p = await ctx.newPage()
    await authenticator(p)
    const auth = await authorization(strict, { scope: 'openid profile', redirect_uri: rp.callback })
    await p.goto(auth.url.href)
    await p.getByLabel('Username or e-mail').fill(QUINN.username)
    await p.getByLabel('Password', { exact: true }).fill(QUINN.password)
    await Promise.all([
      p.waitForNavigation(),
      p.getByRole('button', { name: 'Sign in', exact: true }).click(),
    ])
    assert.equal(await heading(p), 'Set up two-step verification')
    await assertClean(p, 'the enrolment page with a passkey')
    await Promise.all([p.waitForNavigation(), p.getByRole('button', { name: 'Add a passkey' }).click()])
    assert.equal(await heading(p), 'Save your recovery codes')
    assert.equal((await p.locator('.codes code').allTextContents()).length, 10)
    await p.getByRole('button', { name: 'Continue' }).click()
    const tokens = await tokensAfter(p, auth, strict)
    assert.deepEqual(tokens.claims()!.amr, ['pwd', 'hwk', 'mfa'])
    await ctx.close()
  })

  it("refuses another authenticator's credential the provider does not know", async () => {
    const other = await context.newPage()
    const stranger = await authenticator(other)
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    await stranger.cdp.send('WebAuthn.addCredential', {
      authenticatorId: stranger.id,
      credential: {
        credentialId: randomBytes(32).toString('base64'),
        isResidentCredential: true,
        rpId: 'localhost',
        privateKey: key.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
        userHandle: Buffer.from('someone-else').toString('base64'),
        signCount: 1,
      },
    })
    await startSignIn(other)
    await Promise.all([
      other.waitForNavigation(),
      other.getByRole('button', { name: 'Sign in with a passkey' }).click(),
    ])
    assert.equal(await heading(other), 'Sign in')
    assert.match((await other.getByRole('alert').textContent()) ?? '', /could not be used to sign in/)
    await assertClean(other, 'the login page after an unknown passkey')
    await gw.gh.waitForLog((l) => l.msg === 'login failed' && l.reason === 'passkey_unknown')
    await other.close()
  })

  it('manages authenticator apps (several, named) and recovery codes, and keeps the last factor where mfa is required', async () => {
    const secrets: string[] = []
    const addApp = async (name: string) => {
      await openAccount()
      await page.locator('#totp-new-name').fill(name)
      await page.locator('#totp-start-password').fill(PAT.password)
      await Promise.all([
        page.waitForNavigation(),
        page.getByRole('button', { name: 'Set up an authenticator app' }).click(),
      ])
      assert.equal(await heading(page), 'Set up an authenticator app')
      await assertClean(page, 'the authenticator app setup')
      const secret = ((await page.locator('#manual-key').textContent()) ?? '').replace(/\s/g, '')
      secrets.push(secret)
      await awayFromStepEdge()
      await page.getByLabel('6-digit code from the app').fill(totpCode(secret))
      await Promise.all([
        page.waitForURL(/done=totp-added/),
        page.getByRole('button', { name: 'Turn on' }).click(),
      ])
      assert.equal(await page.getByRole('status').first().textContent(), 'Your authenticator app was added.')
    }
    await addApp('Phone')
    await addApp('Tablet')
    await page.getByLabel('New name for Tablet').fill('Old tablet')
    await Promise.all([
      page.waitForURL(/done=totp-renamed/),
      page.getByRole('button', { name: 'Rename Tablet' }).click(),
    ])
    const apps = await gw.gh.admin(`/identity/users/${PAT.username}/factors`)
    const names = ((await apps.json()) as { data: { kind: string; name: string }[] }).data
      .filter((f) => f.kind === 'totp')
      .map((f) => f.name)
    assert.deepEqual(names.sort(), ['Old tablet', 'Phone'])
    await assertClean(page, 'two authenticator apps')
    await page.getByLabel('Current password (to remove Old tablet)').fill(PAT.password)
    await Promise.all([
      page.waitForURL(/done=totp-removed/),
      page.getByRole('button', { name: 'Remove Old tablet' }).click(),
    ])

    await page.locator('#recovery-password').fill(PAT.password)
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Make new recovery codes' }).click(),
    ])
    assert.equal(await heading(page), 'Your new recovery codes')
    const codes = await page.locator('.codes code').allTextContents()
    assert.equal(codes.length, 10)
    await assertClean(page, 'the new recovery codes')
    await openAccount()
    assert.equal(await page.locator('#recovery-left').textContent(), '10 recovery codes left.')

    await page.getByLabel('Current password (to remove Phone)').fill(PAT.password)
    await Promise.all([
      page.waitForURL(/done=totp-removed/),
      page.getByRole('button', { name: 'Remove Phone' }).click(),
    ])

    // Required for this user: the last passkey stays.
    const set = await gw.gh.admin(`/identity/users/${PAT.username}/mfa`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mfa: 'required' }),
    })
    assert.equal(set.status, 200, await set.text())
    await openAccount()
    await page.locator('#passkey-remove-password-0').fill(PAT.password)
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Remove Laptop' }).click()])
    assert.match((await page.getByRole('alert').textContent()) ?? '', /must keep a second factor/)
    await assertClean(page, 'the refusal to remove the last factor')
    await gw.gh.admin(`/identity/users/${PAT.username}/mfa`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mfa: null }),
    })

    // In the trail, oldest first: two apps added, one renamed and removed, new codes, the other removed;
    // the refused removal of the last passkey is not there.
    const totp = (await auditOf(gw.gh, PAT.username))
      .filter((e) => e.actor['via'] === 'self-service' && e.detail['kind'] !== 'passkey')
      .reverse()
    const [phone, tablet] = totp
      .filter((e) => e.action === 'user.factor_added')
      .map((e) => e.detail['factor_id'])
    assert.deepEqual(
      totp.map((e) => [e.action, e.detail]),
      [
        ['user.factor_added', { kind: 'totp', factor_id: phone }],
        ['user.factor_added', { kind: 'totp', factor_id: tablet }],
        ['user.factor_renamed', { kind: 'totp', factor_id: tablet }],
        ['user.factor_removed', { kind: 'totp', factor_id: tablet, factors_left: 2 }],
        ['user.recovery_codes_renewed', { count: 10 }],
        ['user.factor_removed', { kind: 'totp', factor_id: phone, factors_left: 1 }],
      ],
    )
    for (const e of totp) assertSelfService(e, 'account', SOME_SESSION)
    await assertNotRecorded(gw.gh, [...secrets, ...codes.map((c) => c.trim())])
  })

  it('renames a passkey, removes it, and the removed passkey signs nobody in', async () => {
    await openAccount()
    await page.getByLabel('New name for Laptop').fill('Work laptop')
    await Promise.all([
      page.waitForURL(/done=passkey-renamed/),
      page.getByRole('button', { name: 'Rename' }).click(),
    ])
    await page.locator('#passkey-remove-password-0').fill(PAT.password)
    await Promise.all([
      page.waitForURL(/done=passkey-removed/),
      page.getByRole('button', { name: 'Remove Work laptop' }).click(),
    ])
    assert.equal(await page.getByRole('status').first().textContent(), 'Your passkey was removed.')
    assert.equal(await page.locator('#recovery-left').textContent(), '0 recovery codes left.')
    // The same passkey renamed, then removed (the last factor: the recovery codes went with it); no name.
    const trail = await auditOf(gw.gh, PAT.username)
    const laptop = trail.find((e) => e.action === 'user.factor_added' && e.detail['kind'] === 'passkey')!
    const [renamed, removed] = ['user.factor_renamed', 'user.factor_removed'].map(
      (action) => trail.find((e) => e.action === action)!,
    )
    assert.ok(laptop.id < renamed!.id && renamed!.id < removed!.id)
    assertSelfService(renamed!, 'account', SOME_SESSION)
    assertSelfService(removed!, 'account', SOME_SESSION)
    assert.deepEqual(
      [renamed!.detail, removed!.detail],
      [laptop.detail, { ...laptop.detail, factors_left: 0 }],
    )
    assert.doesNotMatch(JSON.stringify(trail), /laptop/i, 'no factor name in the trail')

    // The authenticator still holds it; the provider no longer knows it.
    await startSignIn()
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Sign in with a passkey' }).click(),
    ])
    assert.match((await page.getByRole('alert').textContent()) ?? '', /could not be used to sign in/)
    await gw.gh.waitForLog((l) => l.msg === 'login failed' && l.reason === 'passkey_unknown')
  })

  it('signs in no disabled user with their passkey, and `gatehouse users mfa` lists and resets passkeys', async () => {
    await openAccount()
    await page.getByLabel('Name of the new passkey').fill('Phone')
    await page.locator('#passkey-add-password').fill(PAT.password)
    await Promise.all([
      page.waitForURL(/done=passkey-added/),
      page.getByRole('button', { name: 'Add a passkey' }).click(),
    ])

    const store = await storeOf(gw.gh)
    try {
      const pat = (await store.users.findByUsername(PAT.username))!
      await store.users.update(pat.id, { disabled: true })
      await startSignIn()
      await Promise.all([
        page.waitForNavigation(),
        page.getByRole('button', { name: 'Sign in with a passkey' }).click(),
      ])
      assert.match((await page.getByRole('alert').textContent()) ?? '', /could not be used to sign in/)
      await gw.gh.waitForLog(
        (l) => l.msg === 'login failed' && l.reason === 'user_disabled' && l.method === 'passkey',
      )
      await store.users.update(pat.id, { disabled: false })
    } finally {
      await store.close()
    }

    const cli = (...args: string[]) => runCli(['users', 'mfa', ...args, '--config', gw.gh.configFile])
    const list = await cli('list', PAT.username)
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stdout, /passkey\s+Phone\s.*\s[0-9a-f]{12}\n/)
    const reset = await cli('reset', PAT.username)
    assert.equal(reset.code, 0, reset.stderr)
    assert.match(reset.stdout, /removed 1 second factor/)

    await startSignIn()
    await Promise.all([
      page.waitForNavigation(),
      page.getByRole('button', { name: 'Sign in with a passkey' }).click(),
    ])
    assert.match((await page.getByRole('alert').textContent()) ?? '', /could not be used to sign in/)
  })
})
